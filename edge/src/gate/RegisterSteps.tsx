// The steps of the visitor registration: who (ID, phone, name or a pre-registration code), whom they visit,
// why and for how long, and the vehicle. The flow and its state live in Register.tsx.
import { useState } from 'preact/hooks';
import type { IdType, PreregistrationView, ReturningVisitor } from '../contracts.ts';
import { translateOpen, useLang, type MsgKey } from '../i18n.ts';
import type { Field } from './action.ts';
import { visitReasons, type VisitReason } from './reasons.ts';
import { UnitPicker, type PickedUnit } from './UnitPicker.tsx';
import { plateDisplay } from './rules.ts';
import { Chips, FieldError, Keypad, KeyField, PlateKeyboard, Stepper, TextField, type KeypadKind } from './widgets.tsx';

export const idTypes: IdType[] = ['mainland-id', 'hk-macau-permit', 'taiwan-permit', 'passport', 'other'];
export type Leave = '1h' | '2h' | '4h' | 'eod';
export const leaves: Leave[] = ['1h', '2h', '4h', 'eod'];

export interface Draft {
  idType: IdType;
  idNumber: string;
  phone: string;
  name: string;
  visitorId: string | null;
  returning: ReturningVisitor | null;
  preregCode: string;
  prereg: PreregistrationView | null;
  unit: PickedUnit | null;
  hostName: string;
  reason: VisitReason | null;
  reasonOther: string;
  headcount: number;
  leave: Leave;
  plate: string;
}

export type Errors = Partial<Record<Field, string>>;

export interface StepProps {
  draft: Draft;
  update(patch: Partial<Draft>): void;
  errors: Errors;
}

/** 110101199003071234 -> "110101 19900307 1234": the groups a guard reads back from the card. */
export const idGroups = (id: string, type: IdType) => (type === 'mainland-id' ? [id.slice(0, 6), id.slice(6, 14), id.slice(14)].filter(Boolean).join(' ') : id);
/** Personal numbers are masked once typed (DESIGN: masked in the UI): 110105********002X. */
export const maskMiddle = (s: string, head: number, tail: number) => (s.length > head + tail ? s.slice(0, head) + '*'.repeat(s.length - head - tail) + s.slice(-tail) : s);
export const phoneGroups = (p: string) => [p.slice(0, 3), p.slice(3, 7), p.slice(7)].filter(Boolean).join(' ');

type KeyTarget = 'id' | 'phone' | 'code';

export function VisitorStep({ draft, update, errors, onPreregLookup, preregBusy, preregError, onJumpToConfirm }: StepProps & { onPreregLookup(): void; preregBusy: boolean; preregError: string | null; onJumpToConfirm(): void }) {
  const { t } = useLang();
  const [target, setTarget] = useState<KeyTarget>('id');
  const maxLen: Record<KeyTarget, number> = { id: draft.idType === 'mainland-id' ? 18 : 20, phone: 11, code: 12 };
  const kind: KeypadKind = target === 'id' ? (draft.idType === 'mainland-id' ? 'id' : 'alnum') : 'digits';
  const field: Record<KeyTarget, 'idNumber' | 'phone' | 'preregCode'> = { id: 'idNumber', phone: 'phone', code: 'preregCode' };
  const value = draft[field[target]];
  const set = (v: string) => update({ [field[target]]: v });

  return (
    <>
      {draft.returning && <ReturningBanner v={draft.returning} onJump={onJumpToConfirm} />}
      {draft.prereg && <PreregBanner p={draft.prereg} onJump={onJumpToConfirm} />}
      <div class="step-cols">
        <div class="step-fields">
          <div class="field">
            <span class="field-label">{t('idType')}</span>
            <Chips options={idTypes.map((x) => ({ value: x, label: translateOpen(t, 'idType', x) }))} value={draft.idType} onChange={(x) => update({ idType: x, idNumber: '' })} testid="id-type" />
          </div>
          <KeyField label={t('idNumber')} value={idGroups(draft.idNumber, draft.idType)} placeholder={t('idNumberPh')} active={target === 'id'} onActivate={() => setTarget('id')} testid="id-number" error={errors.idNumber} />
          <KeyField label={t('phone')} value={phoneGroups(draft.phone)} placeholder={t('phonePh')} active={target === 'phone'} onActivate={() => setTarget('phone')} testid="phone" error={errors.phone} />
          <TextField label={t('visitorName')} value={draft.name} onInput={(v) => update({ name: v })} testid="visitor-name" placeholder={t('visitorNamePh')} error={errors.name} maxLength={32} />
        </div>
        <div class="step-side">
          <Keypad kind={kind} prefix={target} onKey={(k) => value.length < maxLen[target] && set(value + k)} onDelete={() => set(value.slice(0, -1))} onClear={() => set('')} />
          <div class="prereg-row">
            <KeyField label={t('preregCode')} value={draft.preregCode} placeholder={t('preregCodePh')} active={target === 'code'} onActivate={() => setTarget('code')} testid="prereg-code" error={preregError ?? errors.preregistration} />
            <button type="button" class="btn big" data-testid="prereg-lookup" disabled={draft.preregCode.length < 4 || preregBusy} onClick={onPreregLookup}>
              {t('preregLookup')}
            </button>
          </div>
        </div>
      </div>
    </>
  );
}

function ReturningBanner({ v, onJump }: { v: ReturningVisitor; onJump(): void }) {
  const { t } = useLang();
  return (
    <div class="notice notice-ok" data-testid="returning-banner">
      <div>
        <strong>✓ {t('returningVisitor')}</strong> · {v.name} · {t('visitsCount', { n: String(v.visits) })}
        {v.lastVisit && (
          <span class="muted">
            {' '}
            · {t('lastVisit')} {v.lastVisit.hostUnitCode}
          </span>
        )}
      </div>
      {v.lastVisit && (
        <button type="button" class="btn big primary" data-testid="returning-jump" onClick={onJump}>
          {t('jumpToConfirm')} →
        </button>
      )}
    </div>
  );
}

function PreregBanner({ p, onJump }: { p: PreregistrationView; onJump(): void }) {
  const { t } = useLang();
  return (
    <div class="notice notice-ok" data-testid="prereg-banner">
      <div>
        <strong>✓ {t('preregFound')}</strong> · {p.visitorName} → {p.hostUnitCode} {p.hostName ?? ''} · {p.expectedOn}
      </div>
      <button type="button" class="btn big primary" data-testid="prereg-jump" onClick={onJump}>
        {t('jumpToConfirm')} →
      </button>
    </div>
  );
}

export function HostStep({ draft, update, errors }: StepProps) {
  const { t } = useLang();
  return (
    <div class="stack">
      <UnitPicker value={draft.unit} onPick={(u) => update({ unit: u })} error={errors.hostUnit} />
      <TextField label={t('hostNameOptional')} value={draft.hostName} onInput={(v) => update({ hostName: v })} testid="host-name" placeholder={t('hostNamePh')} error={errors.hostName} maxLength={32} />
    </div>
  );
}

const leaveKey: Record<Leave, MsgKey> = { '1h': 'leave.1h', '2h': 'leave.2h', '4h': 'leave.4h', eod: 'leave.eod' };

export function VisitStep({ draft, update, errors }: StepProps) {
  const { t } = useLang();
  return (
    <div class="stack">
      <div class="field">
        <span class="field-label">{t('visitReason')}</span>
        <Chips options={visitReasons.map((r) => ({ value: r, label: t(`visitReason.${r}`) }))} value={draft.reason} onChange={(r) => update({ reason: r })} testid="reason" wide />
        <FieldError text={errors.reason} testid="reason-error" />
      </div>
      {draft.reason === 'other' && <TextField label={t('reasonOther')} value={draft.reasonOther} onInput={(v) => update({ reasonOther: v })} testid="reason-other" maxLength={40} />}
      <div class="field-row">
        <div class="field">
          <span class="field-label">{t('headcount')}</span>
          <Stepper value={draft.headcount} min={1} max={50} onChange={(n) => update({ headcount: n })} testid="headcount" label={t('headcount')} />
          <FieldError text={errors.headcount} testid="headcount-error" />
        </div>
        <div class="field">
          <span class="field-label">{t('expectedLeave')}</span>
          <Chips options={leaves.map((l) => ({ value: l, label: t(leaveKey[l]) }))} value={draft.leave} onChange={(l) => update({ leave: l })} testid="leave" />
          <FieldError text={errors.leave} testid="leave-error" />
        </div>
      </div>
    </div>
  );
}

export function VehicleStep({ draft, update, errors }: StepProps) {
  const { t } = useLang();
  return (
    <div class="stack">
      <PlateKeyboard
        value={draft.plate}
        onChange={(p) => update({ plate: p })}
        extra={
          <button type="button" class={draft.plate ? 'chip no-vehicle' : 'chip no-vehicle on'} aria-pressed={!draft.plate} data-testid="no-vehicle" onClick={() => update({ plate: '' })}>
            {!draft.plate && '✓ '}
            {t('noVehicle')}
          </button>
        }
      />
      <FieldError text={errors.plate} testid="plate-error" />
    </div>
  );
}

/** One line per thing the guard chose, for a last look before the pass. */
export function Summary({ draft, leaveText }: { draft: Draft; leaveText: string }) {
  const { t } = useLang();
  const rows: [string, string][] = [
    [t('visitorName'), draft.name],
    [translateOpen(t, 'idType', draft.idType), draft.idNumber ? maskMiddle(draft.idNumber, 4, 4) : draft.returning?.idNumberMasked ?? '—'],
    [t('phone'), draft.phone ? maskMiddle(draft.phone, 3, 4) : draft.returning?.phoneMasked ?? draft.prereg?.phoneMasked ?? '—'],
    [t('hostUnit'), [draft.unit?.code, draft.hostName].filter(Boolean).join(' · ') || '—'],
    [t('visitReason'), draft.reason ? (draft.reason === 'other' && draft.reasonOther ? draft.reasonOther : t(`visitReason.${draft.reason}`)) : '—'],
    [t('headcount'), String(draft.headcount)],
    [t('expectedLeave'), leaveText],
    [t('plate'), draft.plate ? plateDisplay(draft.plate) : t('noVehicle')],
  ];
  return (
    <dl class="summary" data-testid="register-summary">
      {rows.map(([k, v]) => (
        <div key={k} class="summary-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
