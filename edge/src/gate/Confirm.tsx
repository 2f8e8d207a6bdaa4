// The resident's confirmation (how, and who confirmed), and a supervisor's override when the resident cannot be reached.
import { useState } from 'preact/hooks';
import type { ConfirmationMethod, VisitView } from '../contracts.ts';
import { translateOpen, useLang, type MsgKey } from '../i18n.ts';
import { errorText, type Action } from './action.ts';
import type { GateApi } from './gateApi.ts';
import { Chips, FieldError, Sheet, TextField } from './widgets.tsx';

export const methods: ConfirmationMethod[] = ['call', 'intercom', 'in-person', 'pre-registered'];

/** Why a pass cannot be issued yet, or null when it can. */
export function notConfirmedReason(method: ConfirmationMethod | null, confirmedBy: string): MsgKey | null {
  if (!method) return 'needMethod';
  if (!confirmedBy.trim()) return 'needConfirmedBy';
  return null;
}

export function ConfirmControls({ method, onMethod, confirmedBy, onConfirmedBy, error }: { method: ConfirmationMethod | null; onMethod(m: ConfirmationMethod): void; confirmedBy: string; onConfirmedBy(v: string): void; error?: string | null }) {
  const { t } = useLang();
  return (
    <div class="confirm-controls" data-testid="confirm-controls">
      <div class="field">
        <span class="field-label">{t('confirmMethod')}</span>
        <Chips options={methods.map((m) => ({ value: m, label: translateOpen(t, 'method', m) }))} value={method} onChange={onMethod} testid="method" />
      </div>
      <TextField label={t('confirmedBy')} value={confirmedBy} onInput={onConfirmedBy} testid="confirmed-by" placeholder={t('confirmedByPh')} error={error} maxLength={32} />
    </div>
  );
}

/**
 * Takes a visit that exists from wherever it stands to "inside with a pass": confirm it if it is only
 * registered (or let a supervisor override), then issue the pass. Each step is its own idempotent request.
 */
export async function passForVisit(api: GateApi, action: Action, visit: VisitView, how: { method: ConfirmationMethod; confirmedBy: string } | { override: string }): Promise<VisitView | undefined> {
  let v: VisitView | undefined = visit;
  if (v.status === 'registered') {
    const id = v.id;
    const r = await action.run(`confirm:${id}`, (key) => ('override' in how ? api.overrideVisit(id, how.override, key) : api.confirmVisit(id, how.method, how.confirmedBy, key)));
    v = r?.visit;
  }
  if (!v) return undefined;
  if (v.pass) return v;
  const id = v.id;
  return (await action.run(`pass:${id}`, (key) => api.issueVisitPass(id, key)))?.visit;
}

const overrideNotes: MsgKey[] = ['override.noAnswer', 'override.emergency', 'override.known', 'override.official'];

/** The supervisor's note for letting a visitor in without the resident's word; required. */
export function OverrideSheet({ onSubmit, onClose, action }: { onSubmit(note: string): void; onClose(): void; action: Action }) {
  const { t } = useLang();
  const [note, setNote] = useState('');
  return (
    <Sheet title={t('overrideTitle')} onClose={onClose} testid="override">
      <p class="muted">{t('overrideHint')}</p>
      <div class="chips">
        {overrideNotes.map((k) => (
          <button key={k} type="button" class={note === t(k) ? 'chip on' : 'chip'} aria-pressed={note === t(k)} onClick={() => setNote(t(k))}>
            {t(k)}
          </button>
        ))}
      </div>
      <TextField label={t('overrideNote')} value={note} onInput={setNote} testid="override-note" multiline maxLength={200} />
      <FieldError text={action.error && errorText(action.error, t)} testid="override-error" />
      <button type="button" class="btn big warn-btn" data-testid="override-submit" disabled={!note.trim() || action.busy} onClick={() => onSubmit(note.trim())}>
        {t('supervisorOverride')}
      </button>
    </Sheet>
  );
}
