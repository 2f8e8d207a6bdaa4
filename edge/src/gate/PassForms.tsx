// Issuing a worker pass (renovation workers, with the curfew) and a goods-out pass (large items leaving).
// Fields on the left; the right side shows the input the tapped field needs (unit search, keypad, plate keyboard).
import { useState } from 'preact/hooks';
import type { IdType, PassView } from '../contracts.ts';
import { translateOpen, useLang } from '../i18n.ts';
import { errorField, errorText, useAction } from './action.ts';
import { useGate } from './context.ts';
import { PassSlip } from './PassSlip.tsx';
import { idGroups, idTypes, phoneGroups } from './RegisterSteps.tsx';
import { addDays, localDate, mobileValid, plateDisplay } from './rules.ts';
import { UnitPicker, type PickedUnit } from './UnitPicker.tsx';
import { Chips, DateStepper, FieldError, FullScreen, Keypad, KeyField, PlateKeyboard, Stepper, TextField } from './widgets.tsx';

type Panel = 'unit' | 'id' | 'phone' | 'plate';

/** The right-hand input panel for the field in focus. */
function InputPanel({ panel, unit, onUnit, idType, value, onValue }: { panel: Panel; unit: PickedUnit | null; onUnit(u: PickedUnit | null): void; idType: IdType; value: string; onValue(v: string): void }) {
  const { t } = useLang();
  const max = panel === 'phone' ? 11 : panel === 'plate' ? 8 : idType === 'mainland-id' ? 18 : 20;
  if (panel === 'unit') return <UnitPicker value={unit} onPick={onUnit} testid="pass-unit" compact label={t('unitSearch')} />;
  if (panel === 'plate') return <PlateKeyboard value={value} onChange={onValue} />;
  return (
    <Keypad
      kind={panel === 'phone' ? 'digits' : idType === 'mainland-id' ? 'id' : 'alnum'}
      prefix={`pass-${panel}`}
      onKey={(k) => value.length < max && onValue(value + k)}
      onDelete={() => onValue(value.slice(0, -1))}
      onClear={() => onValue('')}
    />
  );
}

function Done({ pass, onClose }: { pass: PassView; onClose(): void }) {
  const { t } = useLang();
  const { siteName, tz } = useGate();
  return (
    <FullScreen title={t('slipTitle')} onClose={onClose} testid="pass-done" closeLabel={t('done')}>
      <PassSlip pass={pass} siteName={siteName} timeZone={tz} />
    </FullScreen>
  );
}

const curfews = ['17:00', '18:00', '19:00', '20:00'];

export function WorkerPassForm({ onClose, onIssued }: { onClose(): void; onIssued(p: PassView): void }) {
  const { t } = useLang();
  const { api, info, tz } = useGate();
  const today = localDate(Date.now(), tz);
  const defaultCurfew = info?.workerCurfew ?? '19:00';
  const [panel, setPanel] = useState<Panel>('unit');
  const [unit, setUnit] = useState<PickedUnit | null>(null);
  const [name, setName] = useState('');
  const [company, setCompany] = useState('');
  const [idType, setIdType] = useState<IdType>('mainland-id');
  const [idNumber, setIdNumber] = useState('');
  const [phone, setPhone] = useState('');
  const [fromDate, setFromDate] = useState(today);
  const [toDate, setToDate] = useState(addDays(today, 6));
  const [curfew, setCurfew] = useState(defaultCurfew);
  const [issued, setIssued] = useState<PassView | null>(null);
  const action = useAction();

  const missing = !unit ? t('needUnit') : !name.trim() ? t('needName') : idNumber.length < 2 ? t('needIdNumber') : !mobileValid(phone) ? t('phoneInvalid') : toDate < fromDate ? t('datesReversed') : null;
  const field = action.error ? errorField(action.error) : null;
  const err = action.error ? errorText(action.error, t) : null;

  const submit = async () => {
    if (missing || !unit) return;
    const r = await action.run('worker-pass', (key) =>
      api.workerPass({ unitId: unit.id, holderName: name.trim(), idType, idNumber, phone, fromDate, toDate, curfew, ...(company.trim() && { company: company.trim() }) }, key),
    );
    if (r) {
      setIssued(r.pass);
      onIssued(r.pass);
    }
  };

  if (issued) return <Done pass={issued} onClose={onClose} />;
  const value = panel === 'id' ? idNumber : phone;
  const setValue = panel === 'id' ? setIdNumber : setPhone;

  return (
    <FullScreen title={t('workerPassNew')} onClose={onClose} testid="worker-form">
      <div class="form-cols">
        <div class="form-fields">
          <KeyField label={t('unit')} value={unit?.code ?? ''} placeholder={t('unitPh')} active={panel === 'unit'} onActivate={() => setPanel('unit')} testid="worker-unit" error={field === 'hostUnit' ? err : null} />
          <TextField label={t('workerName')} value={name} onInput={setName} testid="worker-name" maxLength={32} />
          <TextField label={t('companyOptional')} value={company} onInput={setCompany} testid="worker-company" maxLength={60} />
          <div class="field">
            <span class="field-label">{t('idType')}</span>
            <Chips options={idTypes.map((x) => ({ value: x, label: translateOpen(t, 'idType', x) }))} value={idType} onChange={(x) => (setIdType(x), setIdNumber(''))} testid="worker-id-type" />
          </div>
          <KeyField label={t('idNumber')} value={idGroups(idNumber, idType)} active={panel === 'id'} onActivate={() => setPanel('id')} testid="worker-id" error={field === 'idNumber' ? err : null} />
          <KeyField label={t('phone')} value={phoneGroups(phone)} active={panel === 'phone'} onActivate={() => setPanel('phone')} testid="worker-phone" error={field === 'phone' ? err : null} />
          <div class="field-row">
            <DateStepper label={t('fromDate')} value={fromDate} onChange={setFromDate} min={today} testid="worker-from" today={today} />
            <DateStepper label={t('toDate')} value={toDate} onChange={setToDate} min={fromDate} testid="worker-to" today={today} />
          </div>
          <div class="field">
            <span class="field-label">{t('curfewLabel')}</span>
            <Chips options={[...new Set([...curfews, defaultCurfew])].sort().map((c) => ({ value: c, label: c === defaultCurfew ? `${c} (${t('default')})` : c }))} value={curfew} onChange={setCurfew} testid="worker-curfew" />
          </div>
        </div>
        <div class="form-panel">
          <InputPanel panel={panel} unit={unit} onUnit={(u) => (setUnit(u), u && setPanel('id'))} idType={idType} value={value} onValue={setValue} />
        </div>
      </div>
      <div class="form-submit">
        {err && !field && <FieldError text={err} testid="worker-error" />}
        {missing && <p class="why-disabled">ⓘ {missing}</p>}
        <button type="button" class="btn huge primary" data-testid="worker-submit" disabled={!!missing || action.busy} onClick={() => void submit()}>
          {t('issuePass')}
        </button>
      </div>
    </FullScreen>
  );
}

interface Item {
  name: string;
  quantity: number;
}

export function GoodsOutForm({ onClose, onIssued }: { onClose(): void; onIssued(p: PassView): void }) {
  const { t } = useLang();
  const { api, tz } = useGate();
  const today = localDate(Date.now(), tz);
  const [panel, setPanel] = useState<Panel>('unit');
  const [unit, setUnit] = useState<PickedUnit | null>(null);
  const [requestedBy, setRequestedBy] = useState('');
  const [items, setItems] = useState<Item[]>([{ name: '', quantity: 1 }]);
  const [carrierName, setCarrierName] = useState('');
  const [idType, setIdType] = useState<IdType>('mainland-id');
  const [idNumber, setIdNumber] = useState('');
  const [plate, setPlate] = useState('');
  const [validOn, setValidOn] = useState(today);
  const [issued, setIssued] = useState<PassView | null>(null);
  const action = useAction();

  const filled = items.filter((i) => i.name.trim());
  const missing = !unit ? t('needUnit') : !requestedBy.trim() ? t('needRequester') : filled.length === 0 ? t('needItems') : !carrierName.trim() ? t('needCarrier') : idNumber.length < 2 ? t('needIdNumber') : null;
  const field = action.error ? errorField(action.error) : null;
  const err = action.error ? errorText(action.error, t) : null;
  const setItem = (i: number, patch: Partial<Item>) => setItems((list) => list.map((x, j) => (j === i ? { ...x, ...patch } : x)));

  const submit = async () => {
    if (missing || !unit) return;
    const r = await action.run('goods-pass', (key) =>
      api.goodsOutPass(
        {
          unitId: unit.id,
          requestedBy: requestedBy.trim(),
          items: filled.map((i) => ({ name: i.name.trim(), quantity: i.quantity })),
          carrierName: carrierName.trim(),
          carrierIdType: idType,
          carrierIdNumber: idNumber,
          validOn,
          ...(plate && { plate }),
        },
        key,
      ),
    );
    if (r) {
      setIssued(r.pass);
      onIssued(r.pass);
    }
  };

  if (issued) return <Done pass={issued} onClose={onClose} />;
  const value = panel === 'plate' ? plate : idNumber;
  const setValue = panel === 'plate' ? setPlate : setIdNumber;

  return (
    <FullScreen title={t('goodsPassNew')} onClose={onClose} testid="goods-form">
      <div class="form-cols">
        <div class="form-fields">
          <KeyField label={t('unit')} value={unit?.code ?? ''} placeholder={t('unitPh')} active={panel === 'unit'} onActivate={() => setPanel('unit')} testid="goods-unit" error={field === 'hostUnit' ? err : null} />
          <TextField label={t('requestedBy')} value={requestedBy} onInput={setRequestedBy} testid="goods-requester" maxLength={32} />
          <div class="field">
            <span class="field-label">{t('items')}</span>
            {items.map((it, i) => (
              <div key={i} class="item-row" data-testid="goods-item">
                <input class="text-input" value={it.name} placeholder={t('itemNamePh')} maxLength={40} data-testid={`goods-item-name-${i}`} onInput={(e) => setItem(i, { name: e.currentTarget.value })} />
                <Stepper value={it.quantity} min={1} max={9999} onChange={(q) => setItem(i, { quantity: q })} testid={`goods-item-qty-${i}`} label={t('quantity')} />
                <button type="button" class="btn" aria-label={t('remove')} disabled={items.length === 1} onClick={() => setItems((list) => list.filter((_, j) => j !== i))}>
                  ✕
                </button>
              </div>
            ))}
            <button type="button" class="btn" data-testid="goods-item-add" disabled={items.length >= 30} onClick={() => setItems((list) => [...list, { name: '', quantity: 1 }])}>
              ＋ {t('addItem')}
            </button>
          </div>
          <TextField label={t('carrierName')} value={carrierName} onInput={setCarrierName} testid="goods-carrier" maxLength={32} />
          <div class="field">
            <span class="field-label">{t('idType')}</span>
            <Chips options={idTypes.map((x) => ({ value: x, label: translateOpen(t, 'idType', x) }))} value={idType} onChange={(x) => (setIdType(x), setIdNumber(''))} testid="goods-id-type" />
          </div>
          <KeyField label={t('carrierId')} value={idGroups(idNumber, idType)} active={panel === 'id'} onActivate={() => setPanel('id')} testid="goods-id" error={field === 'idNumber' ? err : null} />
          <KeyField label={t('plateOptional')} value={plate ? plateDisplay(plate) : ''} active={panel === 'plate'} onActivate={() => setPanel('plate')} testid="goods-plate" error={field === 'plate' ? err : null} />
          <DateStepper label={t('validOn')} value={validOn} onChange={setValidOn} min={today} testid="goods-date" today={today} />
        </div>
        <div class="form-panel">
          <InputPanel panel={panel} unit={unit} onUnit={(u) => setUnit(u)} idType={idType} value={value} onValue={setValue} />
        </div>
      </div>
      <div class="form-submit">
        {err && !field && <FieldError text={err} testid="goods-error" />}
        {missing && <p class="why-disabled">ⓘ {missing}</p>}
        <button type="button" class="btn huge primary" data-testid="goods-submit" disabled={!!missing || action.busy} onClick={() => void submit()}>
          {t('issuePass')}
        </button>
      </div>
    </FullScreen>
  );
}
