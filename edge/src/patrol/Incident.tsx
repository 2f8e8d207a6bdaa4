// A guard notes an incident at a checkpoint: which point (from the patrol plan), what kind, a few words.
// The gateway raises a 'patrol-incident' alarm that the alarm lists (gate and control room) show.
import { useMemo, useState } from 'preact/hooks';
import type { IncidentType, IncidentView } from '../contracts.ts';
import { useLang } from '../i18n.ts';
import { errorText, useAction } from '../gate/action.ts';
import { localDate } from '../gate/rules.ts';
import { Chips, Empty, FieldError, FullScreen, TextField } from '../gate/widgets.tsx';
import { loadErrorText, useQuery } from './context.ts';
import { patrolApi } from './patrolApi.ts';
import { hm } from './status.ts';
import { SnapshotThumb } from '../video/Snapshot.tsx';
import './patrol.css';

const types: IncidentType[] = ['damage', 'intruder', 'fire-risk', 'water-leak', 'lighting', 'other'];

export function Incident({ token, timeZone, onClose }: { token: string; timeZone: string | undefined; onClose(reported: boolean): void }) {
  const { t, lang } = useLang();
  const api = useMemo(() => patrolApi(token), [token]);
  const today = localDate(Date.now(), timeZone);
  const plan = useQuery('plan', () => api.plan(), 300_000);
  const incidents = useQuery(`incidents|${today}`, () => api.incidents(today), 60_000);
  const [checkpoint, setCheckpoint] = useState<string | null>(null);
  const [type, setType] = useState<IncidentType | null>(null);
  const [note, setNote] = useState('');
  const [done, setDone] = useState<IncidentView[]>([]);
  const action = useAction();

  // The plan's checkpoints (ids of the plan, not of the readers standing there), key areas marked.
  const checkpoints = (plan.data?.plan.checkpoints ?? []).map((c) => ({ value: c.id, label: c.key_area ? `★ ${c.name}` : c.name }));
  const last = done[0];

  const submit = async () => {
    if (!checkpoint || !type) return;
    const r = await action.run(`incident:${checkpoint}:${type}:${note}`, (key) => api.reportIncident({ checkpoint, type, note: note.trim() }, key));
    if (r) {
      setDone((list) => [r.incident, ...list]);
      setCheckpoint(null);
      setType(null);
      setNote('');
      incidents.reload();
    }
  };

  const listed = [...done, ...(incidents.data?.incidents ?? []).filter((i) => !done.some((d) => d.id === i.id))].sort((a, b) => b.at - a.at);
  const typeLabel = (x: string) => (types.includes(x as IncidentType) ? t(`incidentType.${x as IncidentType}`) : x);

  return (
    <FullScreen
      title={t('incidentTitle')}
      onClose={() => onClose(done.length > 0)}
      testid="incident"
      closeLabel={done.length > 0 ? t('done') : t('cancel')}
      footer={
        <>
          <FieldError text={action.error ? errorText(action.error, t) : checkpoint && type ? null : t('incidentNeed')} testid="incident-why" />
          <span class="spacer" />
          <button type="button" class="btn huge stop" data-testid="incident-submit" disabled={!checkpoint || !type || action.busy} onClick={() => void submit()}>
            ⚠ {t('incidentSubmit')}
          </button>
        </>
      }
    >
      {last && (
        <p class="notice notice-ok" role="status" data-testid="incident-done">
          ✓ {t('incidentDone', { what: `${last.checkpointName} · ${typeLabel(last.type)}` })}
        </p>
      )}
      <div class="field">
        <span class="field-label">{t('incidentCheckpoint')}</span>
        {checkpoints.length === 0 && plan.data && <Empty text={t('noCheckpoints')} />}
        {!plan.data && !plan.error && <p class="muted">{t('loading')}</p>}
        {plan.error && <p class="error">{plan.error.status === 404 ? t('noCheckpoints') : loadErrorText(plan.error, t)}</p>}
        <Chips options={checkpoints} value={checkpoint} onChange={setCheckpoint} testid="incident-cp" wide />
      </div>
      <div class="field">
        <span class="field-label">{t('incidentType')}</span>
        <Chips<IncidentType> options={types.map((x) => ({ value: x, label: t(`incidentType.${x}`) }))} value={type} onChange={setType} testid="incident-type" wide />
      </div>
      <TextField label={t('incidentNote')} value={note} onInput={setNote} testid="incident-note" placeholder={t('incidentNotePh')} multiline maxLength={500} />
      <section class="panel" data-testid="incidents-today">
        <h2 class="panel-title">
          {t('incidentsToday')} <span class="count">({listed.length})</span>
        </h2>
        {listed.length === 0 && (incidents.data ? <Empty text={t('incidentsEmpty')} /> : incidents.error ? <p class="muted">{loadErrorText(incidents.error, t)}</p> : <p class="muted">{t('loading')}</p>)}
        <ul class="rows">
          {listed.map((i) => (
            <li key={i.id} class="row" data-testid="incident-row">
              <div class="row-main">
                <span class="tag tag-bad">⚠ {typeLabel(i.type)}</span>
                <strong>{i.checkpointName}</strong>
                <span class="muted">
                  {hm(i.at, lang, timeZone)} · {i.guard}
                </span>
                {i.note && <span class="visit-line">{i.note}</span>}
              </div>
              <SnapshotThumb kind="incident" subjectId={i.id} testid="incident-camera-snapshot" />
            </li>
          ))}
        </ul>
      </section>
    </FullScreen>
  );
}
