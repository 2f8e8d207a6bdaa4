// One stop in detail: when it was expected, its window, when and how it was tapped and by whom; for a
// missed or irregular stop, the supervisor's reason (one tap on a common reason, plus an optional note).
import { useState } from 'preact/hooks';
import type { RoundView, StopView } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { translator, useLang, type MsgKey } from '../i18n.ts';
import { errorText, useAction } from '../gate/action.ts';
import { FieldError, Sheet, TextField } from '../gate/widgets.tsx';
import { useTz } from './context.ts';
import type { PatrolApi } from './patrolApi.ts';
import { hm, missReasons, needsReason, roundName, sourceLabel, stopLabel, stopSymbol } from './status.ts';

const zh = translator('zh-CN');

export function StopSheet({ round, stop, api, canExplain, onClose, onSaved }: { round: RoundView; stop: StopView; api: PatrolApi | null; canExplain: boolean; onClose(): void; onSaved?(round: RoundView, stop: StopView, reason: string): void }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const [chip, setChip] = useState<MsgKey | null>(null);
  const [note, setNote] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  const reason = [chip ? zh(chip) : '', note.trim()].filter(Boolean).join('：');
  const explain = canExplain && !!api && needsReason(stop);

  const save = async () => {
    if (!api || !reason) return;
    const r = await action.run(`reason:${round.id}:${stop.checkpoint}`, (key) => api.saveReason(round.id, stop.checkpoint, reason, key));
    if (r !== undefined) {
      setSaved(reason);
      onSaved?.(r.round ?? round, stop, reason);
      onClose();
    }
  };

  const current = saved ?? stop.reason;
  return (
    <Sheet title={`${stop.name} · ${roundName(round, lang, tz)}`} onClose={onClose} testid="stop-detail">
      <dl class="summary stop-facts" data-testid="stop-facts">
        <div class="summary-row">
          <dt>{t('stopStatusLabel')}</dt>
          <dd>
            <span class={`stop-badge st-${stop.status}`} data-testid="stop-detail-status" data-status={stop.status}>
              <span aria-hidden="true">{stopSymbol[stop.status]}</span> {stopLabel(t, stop.status)}
            </span>
            {stop.keyArea && <span class="tag tag-warn">★ {t('keyArea')}</span>}
          </dd>
        </div>
        <div class="summary-row">
          <dt>{t('stopExpected')}</dt>
          <dd data-testid="stop-expected">{dateTime(stop.expectedAt, lang, tz)}</dd>
        </div>
        <div class="summary-row">
          <dt>{t('stopWindow')}</dt>
          <dd data-testid="stop-window">
            {hm(stop.windowFrom, lang, tz)} – {hm(stop.windowTo, lang, tz)}
          </dd>
        </div>
        <div class="summary-row">
          <dt>{t('stopHit')}</dt>
          <dd data-testid="stop-hit">{stop.hitAt !== null ? dateTime(stop.hitAt, lang, tz) : <strong class="overdue-time">{t('notHit')}</strong>}</dd>
        </div>
        <div class="summary-row">
          <dt>{t('stopSource')}</dt>
          <dd data-testid="stop-source">{sourceLabel(t, stop.hitSource)}</dd>
        </div>
        <div class="summary-row">
          <dt>{t('stopGuard')}</dt>
          <dd data-testid="stop-guard">{stop.guard ?? round.guard ?? t('noGuard')}</dd>
        </div>
        {current && (
          <div class="summary-row">
            <dt>{t('reasonCurrent')}</dt>
            <dd data-testid="stop-reason">{current}</dd>
          </div>
        )}
      </dl>
      {explain && (
        <div class="stack" data-testid="reason-form">
          <h3 class="sub-title">{t('reasonTitle')}</h3>
          <div class="reason-grid reason-grid-3">
            {missReasons.map((k) => (
              <button key={k} type="button" class={chip === k ? 'reason-btn on' : 'reason-btn'} aria-pressed={chip === k} data-testid={`reason-${k.split('.')[1]}`} onClick={() => setChip(chip === k ? null : k)}>
                {chip === k && '✓ '}
                {t(k)}
              </button>
            ))}
          </div>
          <TextField label={t('reasonNote')} value={note} onInput={setNote} testid="reason-note" maxLength={150} />
          <FieldError text={action.error && errorText(action.error, t)} testid="reason-error" />
          <button type="button" class="btn huge primary" data-testid="reason-save" disabled={!reason || action.busy} onClick={() => void save()}>
            ✓ {t('reasonSave')}
          </button>
        </div>
      )}
      {!explain && canExplain && stop.status === 'on-time' && <p class="muted">{t('reasonOnlyIrregular')}</p>}
    </Sheet>
  );
}
