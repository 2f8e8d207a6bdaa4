// The shift: who is on duty against how many are required, signing on and off with a handover note,
// and the key log (who holds which key, overdue ones marked, issue and return).
import { useState } from 'preact/hooks';
import type { KeyView } from '../contracts.ts';
import { shortTime } from '../format.ts';
import { translator, useLang, type MsgKey } from '../i18n.ts';
import { errorText, useAction } from './action.ts';
import { useGate, useLoaded } from './context.ts';
import { endOfDay } from './rules.ts';
import { Chips, Empty, FieldError, Sheet, TextField } from './widgets.tsx';

export function Shift() {
  return (
    <div class="stack">
      <Duty />
      <Keys />
    </div>
  );
}

function Duty() {
  const { t, lang } = useLang();
  const { api, person, tz } = useGate();
  const shifts = useLoaded(() => api.shifts());
  const [signingOff, setSigningOff] = useState(false);
  const action = useAction();
  const s = shifts.data;
  const me = s?.onDuty.find((x) => x.personId === person.id);
  const short = s ? s.onDuty.length < s.required : false;
  const lastNote = s?.recent.find((x) => x.offAt !== null && x.handoverNote);

  const signOn = async () => {
    if (await action.run('sign-on', (key) => api.signOn(key))) shifts.reload();
  };

  return (
    <section class="panel" data-testid="shift">
      <h2 class="panel-title">{t('shiftTitle')}</h2>
      {shifts.failed && <p class="error">{t('loadFailed')}</p>}
      {s && (
        <>
          <p class={short ? 'duty-count short' : 'duty-count'} data-testid="duty-count">
            {short ? '⚠ ' : '✓ '}
            {t('dutyCount', { n: String(s.onDuty.length), req: String(s.required) })}
            {short && <span class="tag tag-bad">{t('dutyShort')}</span>}
          </p>
          <ul class="rows">
            {s.onDuty.map((x) => (
              <li key={x.id} class="row" data-testid="on-duty">
                <div class="row-main">
                  <strong>{x.personName}</strong>
                  <span class="muted">
                    {t('onSince')} {shortTime(x.onAt, lang, tz)}
                  </span>
                </div>
              </li>
            ))}
          </ul>
          {lastNote && (
            <div class="notice" data-testid="handover-last">
              <strong>
                {t('lastHandover', { name: lastNote.personName })} {lastNote.offAt !== null && shortTime(lastNote.offAt, lang, tz)}
              </strong>
              <p class="handover-text">{lastNote.handoverNote}</p>
            </div>
          )}
        </>
      )}
      <FieldError text={action.error && !signingOff ? errorText(action.error, t) : null} testid="shift-error" />
      <div class="actions-row">
        {s && !me && (
          <button type="button" class="btn huge primary" data-testid="sign-on" disabled={action.busy} onClick={() => void signOn()}>
            ✓ {t('signOn')}
          </button>
        )}
        {me && (
          <button type="button" class="btn huge" data-testid="sign-off" onClick={() => setSigningOff(true)}>
            ⇥ {t('signOffShift')}
          </button>
        )}
      </div>
      {signingOff && <SignOffSheet onClose={() => (setSigningOff(false), action.clear())} onDone={() => (setSigningOff(false), shifts.reload())} />}
    </section>
  );
}

function SignOffSheet({ onClose, onDone }: { onClose(): void; onDone(): void }) {
  const { t } = useLang();
  const { api } = useGate();
  const [note, setNote] = useState('');
  const action = useAction();
  const submit = async () => {
    if (await action.run('sign-off', (key) => api.signOff(note.trim(), key))) onDone();
  };
  return (
    <Sheet title={t('signOffShift')} onClose={onClose} testid="sign-off-sheet">
      <TextField label={t('handoverNote')} value={note} onInput={setNote} testid="handover-note" placeholder={t('handoverPh')} multiline maxLength={1000} />
      <FieldError text={action.error && errorText(action.error, t)} testid="sign-off-error" />
      <button type="button" class="btn huge primary" data-testid="sign-off-submit" disabled={action.busy} onClick={() => void submit()}>
        {t('signOffConfirm2')}
      </button>
    </Sheet>
  );
}

function Keys() {
  const { t } = useLang();
  const { api } = useGate();
  const keys = useLoaded(() => api.keys().then((r) => r.keys));
  const list = [...(keys.data ?? [])].sort((a, b) => Number(!!b.loan?.overdue) - Number(!!a.loan?.overdue) || a.label.localeCompare(b.label));
  return (
    <section class="panel" data-testid="keys">
      <h2 class="panel-title">{t('keysTitle')}</h2>
      {keys.failed && <p class="error">{t('loadFailed')}</p>}
      {keys.data?.length === 0 && <Empty text={t('keysEmpty')} />}
      <ul class="rows">
        {list.map((k) => (
          <KeyRow key={k.id} k={k} onChanged={() => keys.reload()} />
        ))}
      </ul>
    </section>
  );
}

function KeyRow({ k, onChanged }: { k: KeyView; onChanged(): void }) {
  const { t, lang } = useLang();
  const { api, tz } = useGate();
  const [issuing, setIssuing] = useState(false);
  const action = useAction();
  const loan = k.loan;
  const giveBack = async () => {
    if (await action.run(`return:${k.id}`, (key) => api.returnKey(k.id, key))) onChanged();
  };
  return (
    <li class={loan?.overdue ? 'row overdue' : 'row'} data-testid="key" data-key-id={k.id}>
      <div class="row-main">
        <strong>{k.label}</strong>
        {k.location && <span class="muted"> · {k.location}</span>}
        {loan ? (
          <span class="visit-line">
            {t('keyHeldBy', { name: loan.holderName })} · {loan.purpose} · {t('keyDue')}{' '}
            <strong class={loan.overdue ? 'overdue-time' : ''}>{shortTime(loan.dueAt, lang, tz)}</strong>
            {loan.overdue && <span class="tag tag-bad">⚠ {t('overdue')}</span>}
          </span>
        ) : (
          <span class="tag tag-ok">✓ {t('keyIn')}</span>
        )}
      </div>
      {loan ? (
        <button type="button" class="btn big" data-testid="key-return" disabled={action.busy} onClick={() => void giveBack()}>
          ↩ {t('keyReturn')}
        </button>
      ) : (
        <button type="button" class="btn big primary" data-testid="key-issue" onClick={() => setIssuing(true)}>
          {t('keyIssue')}
        </button>
      )}
      {action.error && <FieldError text={errorText(action.error, t)} testid="key-error" />}
      {issuing && <IssueKeySheet k={k} onClose={() => setIssuing(false)} onDone={() => (setIssuing(false), onChanged())} />}
    </li>
  );
}

type Due = '1h' | '2h' | '4h' | 'eod';
const dueKeys: Record<Due, MsgKey> = { '1h': 'leave.1h', '2h': 'leave.2h', '4h': 'leave.4h', eod: 'leave.eod' };
const purposes: MsgKey[] = ['keyPurpose.repair', 'keyPurpose.inspection', 'keyPurpose.cleaning', 'keyPurpose.delivery'];
const zh = translator('zh-CN');

function IssueKeySheet({ k, onClose, onDone }: { k: KeyView; onClose(): void; onDone(): void }) {
  const { t } = useLang();
  const { api, tz } = useGate();
  const [holder, setHolder] = useState('');
  const [chip, setChip] = useState<MsgKey | null>(null);
  const [note, setNote] = useState('');
  const [due, setDue] = useState<Due>('2h');
  const action = useAction();
  // Stored in zh-CN like every reason; the free text is added after the chip.
  const purpose = [chip ? zh(chip) : '', note.trim()].filter(Boolean).join('：');
  const dueAt = () => (due === 'eod' ? endOfDay(Date.now(), tz) : Date.now() + { '1h': 1, '2h': 2, '4h': 4 }[due] * 3_600_000);
  const submit = async () => {
    if (await action.run(`issue:${k.id}`, (key) => api.issueKey(k.id, { holderName: holder.trim(), purpose, dueAt: dueAt() }, key))) onDone();
  };
  return (
    <Sheet title={t('keyIssueTitle', { label: k.label })} onClose={onClose} testid="key-issue-sheet">
      <TextField label={t('keyHolder')} value={holder} onInput={setHolder} testid="key-holder" maxLength={32} />
      <div class="field">
        <span class="field-label">{t('keyPurpose')}</span>
        <Chips options={purposes.map((p) => ({ value: p, label: t(p) }))} value={chip} onChange={(p) => setChip(p)} testid="key-purpose" />
      </div>
      <TextField label={t('keyPurposeNote')} value={note} onInput={setNote} testid="key-purpose-note" maxLength={40} />
      <div class="field">
        <span class="field-label">{t('keyDueLabel')}</span>
        <Chips options={(Object.keys(dueKeys) as Due[]).map((d) => ({ value: d, label: t(dueKeys[d]) }))} value={due} onChange={(d) => setDue(d)} testid="key-due" />
      </div>
      <FieldError text={action.error && errorText(action.error, t)} testid="key-issue-error" />
      <button type="button" class="btn huge primary" data-testid="key-issue-submit" disabled={!holder.trim() || !purpose || action.busy} onClick={() => void submit()}>
        {t('keyIssue')}
      </button>
    </Sheet>
  );
}
