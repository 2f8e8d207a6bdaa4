// Open alarms (overstay, worker curfew, too few guards, barrier failed, watchlist hit) and how the guard handled them.
import { useState } from 'preact/hooks';
import type { AlarmView } from '../contracts.ts';
import { shortTime } from '../format.ts';
import { translateOpen, translator, useLang, type MsgKey } from '../i18n.ts';
import { errorText, useAction } from './action.ts';
import { useGate } from './context.ts';
import { Empty, FieldError, Sheet, TextField } from './widgets.tsx';

const resolutions: MsgKey[] = ['resolution.handled', 'resolution.contacted', 'resolution.left', 'resolution.false', 'resolution.reported'];
const zh = translator('zh-CN');


export function Alarms({ alarms, failed, onResolved }: { alarms: AlarmView[]; failed: boolean; onResolved(a: AlarmView): void }) {
  const { t } = useLang();
  const sorted = [...alarms].sort((a, b) => b.raisedAt - a.raisedAt);
  return (
    <section class="panel" data-testid="alarms">
      <h2 class="panel-title">
        {t('alarmsTitle')} <span class="count">({alarms.length})</span>
      </h2>
      {failed && <p class="error">{t('loadFailed')}</p>}
      {sorted.length === 0 && <Empty text={t('alarmsEmpty')} testid="alarms-empty" />}
      <ul class="rows">
        {sorted.map((a) => (
          <AlarmRow key={a.id} a={a} onResolved={onResolved} />
        ))}
      </ul>
    </section>
  );
}

function AlarmRow({ a, onResolved }: { a: AlarmView; onResolved(a: AlarmView): void }) {
  const { t, lang } = useLang();
  const { tz } = useGate();
  const [open, setOpen] = useState(false);
  return (
    <li class={`row alarm alarm-${a.kind}`} data-testid="alarm" data-alarm-id={a.id} data-kind={a.kind}>
      <div class="row-main">
        <span class="tag tag-bad">
          ⚠ {translateOpen(t, 'alarmKind', a.kind)}
        </span>
        <strong class="alarm-title">{a.title}</strong>
        <span class="muted">{shortTime(a.raisedAt, lang, tz)}</span>
        {/* A patrol incident carries the guard's own words. */}
        {typeof a.detail.note === 'string' && a.detail.note && (
          <span class="visit-line" data-testid="alarm-note">
            {a.detail.note}
          </span>
        )}
      </div>
      <button type="button" class="btn big primary" data-testid="alarm-handle" onClick={() => setOpen(true)}>
        {t('handle')}
      </button>
      {open && <ResolveSheet a={a} onClose={() => setOpen(false)} onResolved={onResolved} />}
    </li>
  );
}

function ResolveSheet({ a, onClose, onResolved }: { a: AlarmView; onClose(): void; onResolved(a: AlarmView): void }) {
  const { t } = useLang();
  const { api } = useGate();
  const [chip, setChip] = useState<MsgKey | null>(null);
  const [text, setText] = useState('');
  const action = useAction();
  const resolution = [chip ? zh(chip) : '', text.trim()].filter(Boolean).join('：');

  const submit = async () => {
    const r = await action.run(`alarm:${a.id}`, (key) => api.resolveAlarm(a.id, resolution, key));
    if (r) {
      onResolved(r.alarm ?? r.alarms?.[0] ?? { ...a, resolvedAt: Date.now(), resolution });
      onClose();
    }
  };

  return (
    <Sheet title={t('resolveTitle', { what: a.title })} onClose={onClose} testid="alarm-resolve">
      <div class="reason-grid">
        {resolutions.map((k) => (
          <button key={k} type="button" class={chip === k ? 'reason-btn on' : 'reason-btn'} aria-pressed={chip === k} data-testid={`resolution-${k.split('.')[1]}`} onClick={() => setChip(k)}>
            {chip === k && '✓ '}
            {t(k)}
          </button>
        ))}
      </div>
      <TextField label={t('resolutionNote')} value={text} onInput={setText} testid="resolution-note" maxLength={150} />
      <FieldError text={action.error && errorText(action.error, t)} testid="alarm-error" />
      <button type="button" class="btn huge primary" data-testid="alarm-resolve-submit" disabled={!resolution || action.busy} onClick={() => void submit()}>
        ✓ {t('markHandled')}
      </button>
    </Sheet>
  );
}
