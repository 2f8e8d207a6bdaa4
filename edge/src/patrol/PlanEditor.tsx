// The supervisor's patrol plan editor (巡更计划): the plan in force and its versions, and forms for its
// checkpoints, routes with their stops, schedules, personnel tags and wands. Saving makes a new version
// that applies from now on; the gateway checks the whole plan and its refusal is shown reason by reason.
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { PatrolPlan, PlanResponse } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { useLang, type MsgKey } from '../i18n.ts';
import { errorText, useAction } from '../gate/action.ts';
import { Empty, TextField } from '../gate/widgets.tsx';
import { loadErrorText, useQuery, useTz } from './context.ts';
import { patrolApi } from './patrolApi.ts';

type Checkpoint = PatrolPlan['checkpoints'][number];
type Route = PatrolPlan['routes'][number];
type Stop = Route['stops'][number];
type Schedule = PatrolPlan['schedules'][number];

const weekdays = [1, 2, 3, 4, 5, 6, 7] as const;
const serverPrefix = /^the plan cannot be used:\s*/i;

/** The gateway's reasons, one a line: it joins them with "; " after a fixed prefix. */
export function planReasons(message: string): string[] {
  return message
    .replace(serverPrefix, '')
    .split(/;\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** An id not yet used: `${base}-1`, `${base}-2`... */
function freshId(base: string, used: string[]): string {
  for (let i = 1; ; i++) if (!used.includes(`${base}-${i}`)) return `${base}-${i}`;
}

function NumField({ label, value, onChange, testid, min = 0, max, optional }: { label: string; value: number | undefined; onChange(v: number | undefined): void; testid: string; min?: number; max: number; optional?: boolean }) {
  return (
    <label class="field plan-num">
      <span class="field-label">{label}</span>
      <input
        class="text-input"
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        data-testid={testid}
        value={value ?? ''}
        onInput={(e) => {
          const raw = e.currentTarget.value.trim();
          if (raw === '') {
            if (optional) onChange(undefined);
            return;
          }
          const n = Number(raw);
          if (Number.isInteger(n)) onChange(n);
        }}
      />
    </label>
  );
}

function SelectField({ label, value, options, onChange, testid }: { label: string; value: string; options: { value: string; label: string }[]; onChange(v: string): void; testid: string }) {
  const known = options.some((o) => o.value === value);
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <select class="text-input" data-testid={testid} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {!known && <option value={value}>{value || '—'}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A yes/no as one big button with a tick when on. */
function Toggle({ label, on, onChange, testid }: { label: string; on: boolean; onChange(v: boolean): void; testid: string }) {
  return (
    <button type="button" class={on ? 'chip on plan-toggle' : 'chip plan-toggle'} role="switch" aria-checked={on} data-testid={testid} onClick={() => onChange(!on)}>
      <span aria-hidden="true">{on ? '✓ ' : '○ '}</span>
      {label}
    </button>
  );
}

/** Fixed start times typed as "08:00, 20:00": the text is kept as typed, the list follows it. */
function TimesField({ value, onChange, testid }: { value: string[]; onChange(v: string[]): void; testid: string }) {
  const { t } = useLang();
  const [text, setText] = useState(value.join(', '));
  return (
    <TextField
      label={t('planTimes')}
      value={text}
      placeholder="08:00, 20:00"
      testid={testid}
      onInput={(v) => {
        setText(v);
        onChange(v.split(/[\s,，、;；]+/).filter(Boolean));
      }}
    />
  );
}

function ItemTools({ index, count, onMove, onRemove, testid }: { index: number; count: number; onMove?(to: number): void; onRemove(): void; testid: string }) {
  const { t } = useLang();
  return (
    <div class="plan-tools">
      {onMove && (
        <>
          <button type="button" class="btn" data-testid={`${testid}-up`} aria-label={t('planMoveUp')} title={t('planMoveUp')} disabled={index === 0} onClick={() => onMove(index - 1)}>
            ↑
          </button>
          <button type="button" class="btn" data-testid={`${testid}-down`} aria-label={t('planMoveDown')} title={t('planMoveDown')} disabled={index === count - 1} onClick={() => onMove(index + 1)}>
            ↓
          </button>
        </>
      )}
      <button type="button" class="btn stop" data-testid={`${testid}-remove`} onClick={onRemove}>
        ✕ {t('planRemove')}
      </button>
    </div>
  );
}

function Section({ title, count, hint, onAdd, addLabel, testid, children }: { title: string; count: number; hint?: string; onAdd(): void; addLabel: string; testid: string; children: ComponentChildren }) {
  return (
    <section class="panel plan-section" data-testid={testid}>
      <div class="panel-head">
        <h2 class="panel-title">
          {title} <span class="count">({count})</span>
        </h2>
        <button type="button" class="btn big" data-testid={`${testid}-add`} onClick={onAdd}>
          ＋ {addLabel}
        </button>
      </div>
      {hint && <p class="muted panel-hint">{hint}</p>}
      {children}
    </section>
  );
}

const move = <T,>(list: T[], from: number, to: number) => {
  const [item] = list.splice(from, 1);
  if (item !== undefined) list.splice(to, 0, item);
};

function CurrentPlan({ current, versions }: { current: PlanResponse; versions: { version: number; effectiveFrom: number; createdBy: string; createdAt: number }[] | null }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const since = (ms: number) => (ms === 0 ? t('planSinceStart') : dateTime(ms, lang, tz));
  return (
    <section class="panel" data-testid="plan-current" data-version={current.version}>
      <h2 class="panel-title">{t('planCurrentTitle')}</h2>
      <p class="plan-current-line">
        <strong class="plan-version" data-testid="plan-version">
          {t('planVersionN', { n: String(current.version) })}
        </strong>{' '}
        {t('planCurrentLine', { since: since(current.effectiveFrom), by: current.createdBy })}
      </p>
      <details class="plan-history" data-testid="plan-versions">
        <summary class="btn">{t('planHistory', { n: String(versions?.length ?? 0) })}</summary>
        <ul class="rows">
          {(versions ?? [])
            .slice()
            .reverse()
            .map((v) => (
              <li key={v.version} class="row plan-version-row" data-testid="plan-version-row" data-version={v.version}>
                <strong>{t('planVersionN', { n: String(v.version) })}</strong>
                <span>{t('planVersionFrom', { since: since(v.effectiveFrom) })}</span>
                <span class="muted">{t('planVersionBy', { by: v.createdBy, at: dateTime(v.createdAt, lang, tz) })}</span>
                {v.version === current.version && <span class="tag">{t('planInForce')}</span>}
              </li>
            ))}
        </ul>
      </details>
    </section>
  );
}

export function PlanEditor({ token }: { token: string }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const api = useMemo(() => patrolApi(token), [token]);
  const current = useQuery('plan', () => api.plan(), 300_000);
  const versions = useQuery('versions', () => api.planVersions(), 300_000);
  // The plan being edited and the version it started from; null until the plan in force is in.
  const [draft, setDraft] = useState<{ base: number; plan: PatrolPlan } | null>(null);
  const [saved, setSaved] = useState<PlanResponse | null>(null);
  const saving = useAction();

  if (current.error && !current.data) {
    return (
      <p class="error" role="alert" data-testid="plan-error">
        {loadErrorText(current.error, t)}
      </p>
    );
  }
  if (!current.data) return <p class="muted">{t('loading')}</p>;

  // Untouched, the editor shows the plan in force (and follows it when another supervisor saves one).
  const base = draft?.base ?? current.data.version;
  const plan = draft?.plan ?? current.data.plan;
  const edit = (fn: (p: PatrolPlan) => void) => {
    const next = structuredClone(plan);
    fn(next);
    setDraft({ base, plan: next });
    setSaved(null);
  };
  const dirty = JSON.stringify(plan) !== JSON.stringify(current.data.plan);
  const newer = current.data.version !== base;

  const discard = () => {
    if (!current.data) return;
    setDraft(null);
    saving.clear();
    setSaved(null);
  };

  const save = async () => {
    setSaved(null);
    const res = await saving.run('plan', (key) => api.savePlan(plan, key));
    if (!res) return;
    current.set(() => res);
    setDraft(null);
    setSaved(res);
    versions.reload();
  };

  const cpOptions = plan.checkpoints.map((c) => ({ value: c.id, label: `${c.name} (${c.id})` }));
  const routeOptions = plan.routes.map((r) => ({ value: r.id, label: `${r.name} (${r.id})` }));
  const refusal = saving.error;
  const reasons = refusal ? (refusal.status === 400 ? planReasons(refusal.message) : [errorText(refusal, t)]) : [];

  const setCp = (i: number, fn: (c: Checkpoint) => void) => edit((p) => fn(p.checkpoints[i]!));
  const setRoute = (i: number, fn: (r: Route) => void) => edit((p) => fn(p.routes[i]!));
  const setStop = (ri: number, si: number, fn: (s: Stop) => void) => edit((p) => fn(p.routes[ri]!.stops[si]!));
  const setSchedule = (i: number, fn: (s: Schedule) => void) => edit((p) => fn(p.schedules[i]!));
  const opt = (v: string) => (v.trim() === '' ? undefined : v);

  return (
    <div class="plan-editor" data-testid="plan-editor" data-dirty={dirty}>
      <CurrentPlan current={current.data} versions={versions.data?.versions ?? null} />

      {/* ---- checkpoints ---- */}
      <Section
        title={t('planCheckpoints')}
        count={plan.checkpoints.length}
        hint={t('planCheckpointsHint')}
        addLabel={t('planAddCheckpoint')}
        testid="plan-checkpoints"
        onAdd={() => edit((p) => p.checkpoints.push({ id: freshId('cp', p.checkpoints.map((c) => c.id)), name: '', key_area: false }))}
      >
        {plan.checkpoints.length === 0 && <Empty text={t('noCheckpoints')} />}
        {plan.checkpoints.map((c, i) => (
          <div key={i} class="plan-card" data-testid="plan-checkpoint" data-id={c.id}>
            <div class="plan-grid">
              <TextField
                label={t('planId')}
                value={c.id}
                testid="cp-id"
                maxLength={63}
                onInput={(v) =>
                  edit((p) => {
                    const old = p.checkpoints[i]!.id;
                    p.checkpoints[i]!.id = v;
                    // The routes follow a renamed checkpoint.
                    for (const r of p.routes) for (const s of r.stops) if (s.checkpoint === old) s.checkpoint = v;
                  })
                }
              />
              <TextField label={t('planName')} value={c.name} testid="cp-name" maxLength={40} onInput={(v) => setCp(i, (x) => (x.name = v))} />
              <TextField label={t('planLocation')} value={c.location ?? ''} testid="cp-location" maxLength={80} onInput={(v) => setCp(i, (x) => (x.location = opt(v)))} />
              <TextField label={t('planTag')} value={c.tag ?? ''} testid="cp-tag" maxLength={40} onInput={(v) => setCp(i, (x) => (x.tag = opt(v)))} />
              <TextField label={t('planDevice')} value={c.device ?? ''} testid="cp-device" maxLength={63} onInput={(v) => setCp(i, (x) => (x.device = opt(v)))} />
            </div>
            <div class="plan-card-foot">
              <Toggle label={t('keyArea')} on={c.key_area} testid="cp-key-area" onChange={(v) => setCp(i, (x) => (x.key_area = v))} />
              <ItemTools index={i} count={plan.checkpoints.length} testid="cp" onRemove={() => edit((p) => p.checkpoints.splice(i, 1))} />
            </div>
          </div>
        ))}
      </Section>

      {/* ---- routes ---- */}
      <Section
        title={t('planRoutes')}
        count={plan.routes.length}
        addLabel={t('planAddRoute')}
        testid="plan-routes"
        onAdd={() =>
          edit((p) =>
            p.routes.push({
              id: freshId('route', p.routes.map((r) => r.id)),
              name: '',
              ordered: true,
              stops: p.checkpoints[0] ? [{ checkpoint: p.checkpoints[0].id, offset_min: 5, tolerance_min: 5, band_min: 10, min_walk_s: 30 }] : [],
            }),
          )
        }
      >
        {plan.routes.map((r, ri) => (
          <div key={ri} class="plan-card" data-testid="plan-route" data-id={r.id}>
            <div class="plan-grid">
              <TextField
                label={t('planId')}
                value={r.id}
                testid="route-id"
                maxLength={63}
                onInput={(v) =>
                  edit((p) => {
                    const old = p.routes[ri]!.id;
                    p.routes[ri]!.id = v;
                    for (const s of p.schedules) if (s.route === old) s.route = v;
                  })
                }
              />
              <TextField label={t('planName')} value={r.name} testid="route-name" maxLength={40} onInput={(v) => setRoute(ri, (x) => (x.name = v))} />
            </div>
            <div class="plan-card-foot">
              <Toggle label={t('planOrdered')} on={r.ordered} testid="route-ordered" onChange={(v) => setRoute(ri, (x) => (x.ordered = v))} />
              <ItemTools index={ri} count={plan.routes.length} testid="route" onRemove={() => edit((p) => p.routes.splice(ri, 1))} />
            </div>
            <h3 class="plan-sub">
              {t('planStops')} <span class="count">({r.stops.length})</span>
            </h3>
            <ol class="plan-stops">
              {r.stops.map((s, si) => (
                <li key={si} class="plan-stop" data-testid="plan-stop" data-checkpoint={s.checkpoint}>
                  <span class="plan-stop-n">{si + 1}</span>
                  <div class="plan-grid plan-grid-stop">
                    <SelectField label={t('colCheckpoint')} value={s.checkpoint} options={cpOptions} testid="stop-checkpoint" onChange={(v) => setStop(ri, si, (x) => (x.checkpoint = v))} />
                    <NumField label={t('planOffset')} value={s.offset_min} max={720} testid="stop-offset" onChange={(v) => setStop(ri, si, (x) => (x.offset_min = v ?? 0))} />
                    <NumField label={t('planTolerance')} value={s.tolerance_min} max={120} testid="stop-tolerance" onChange={(v) => setStop(ri, si, (x) => (x.tolerance_min = v ?? 0))} />
                    <NumField label={t('planBand')} value={s.band_min} max={240} testid="stop-band" onChange={(v) => setStop(ri, si, (x) => (x.band_min = v ?? 0))} />
                    <NumField label={t('planNotBefore')} value={s.not_before_min} max={720} optional testid="stop-not-before" onChange={(v) => setStop(ri, si, (x) => (x.not_before_min = v))} />
                    <NumField label={t('planMinWalk')} value={s.min_walk_s} max={3600} testid="stop-min-walk" onChange={(v) => setStop(ri, si, (x) => (x.min_walk_s = v ?? 0))} />
                  </div>
                  <ItemTools index={si} count={r.stops.length} testid="stop" onMove={(to) => edit((p) => move(p.routes[ri]!.stops, si, to))} onRemove={() => edit((p) => p.routes[ri]!.stops.splice(si, 1))} />
                </li>
              ))}
            </ol>
            <button
              type="button"
              class="btn big"
              data-testid="route-add-stop"
              disabled={plan.checkpoints.length === 0}
              onClick={() =>
                edit((p) => {
                  const route = p.routes[ri]!;
                  const next = p.checkpoints.find((c) => !route.stops.some((x) => x.checkpoint === c.id)) ?? p.checkpoints[0]!;
                  const last = route.stops.at(-1);
                  route.stops.push({ checkpoint: next.id, offset_min: (last?.offset_min ?? 0) + 5, tolerance_min: last?.tolerance_min ?? 5, band_min: last?.band_min ?? 10, min_walk_s: 30 });
                })
              }
            >
              ＋ {t('planAddStop')}
            </button>
          </div>
        ))}
      </Section>

      {/* ---- schedules ---- */}
      <Section
        title={t('planSchedules')}
        count={plan.schedules.length}
        addLabel={t('planAddSchedule')}
        testid="plan-schedules"
        onAdd={() => edit((p) => p.schedules.push({ id: freshId('schedule', p.schedules.map((s) => s.id)), route: p.routes[0]?.id ?? '', times: ['08:00'], window_min: 30 }))}
      >
        {plan.schedules.map((s, i) => {
          const every = !s.times;
          return (
            <div key={i} class="plan-card" data-testid="plan-schedule" data-id={s.id}>
              <div class="plan-grid">
                <TextField label={t('planId')} value={s.id} testid="schedule-id" maxLength={63} onInput={(v) => setSchedule(i, (x) => (x.id = v))} />
                <SelectField label={t('planRoute')} value={s.route} options={routeOptions} testid="schedule-route" onChange={(v) => setSchedule(i, (x) => (x.route = v))} />
                <NumField label={t('planWindow')} value={s.window_min} min={5} max={720} testid="schedule-window" onChange={(v) => setSchedule(i, (x) => (x.window_min = v ?? 0))} />
              </div>
              <div class="field">
                <span class="field-label">{t('planDays')}</span>
                <div class="chips" role="group" aria-label={t('planDays')} data-testid="schedule-days">
                  {weekdays.map((d) => {
                    const on = !s.days || s.days.includes(d);
                    const chosen = s.days ?? [...weekdays];
                    return (
                      <button
                        key={d}
                        type="button"
                        class={on ? 'chip on' : 'chip'}
                        aria-pressed={on}
                        data-testid={`schedule-day-${d}`}
                        disabled={on && chosen.length === 1}
                        onClick={() =>
                          setSchedule(i, (x) => {
                            const next = on ? chosen.filter((n) => n !== d) : [...chosen, d].sort();
                            x.days = next.length === 7 ? undefined : next;
                          })
                        }
                      >
                        {on && <span aria-hidden="true">✓ </span>}
                        {t(`weekday.${d}` as MsgKey)}
                      </button>
                    );
                  })}
                </div>
              </div>
              <div class="field">
                <span class="field-label">{t('planStartsHow')}</span>
                <div class="chips" role="radiogroup" data-testid="schedule-mode">
                  {(['times', 'every'] as const).map((m) => {
                    const on = (m === 'every') === every;
                    return (
                      <button
                        key={m}
                        type="button"
                        role="radio"
                        aria-checked={on}
                        class={on ? 'chip on' : 'chip'}
                        data-testid={`schedule-mode-${m}`}
                        onClick={() =>
                          !on &&
                          setSchedule(i, (x) => {
                            if (m === 'times') {
                              x.times = [x.from ?? '08:00'];
                              delete x.every_min;
                              delete x.from;
                              delete x.to;
                            } else {
                              delete x.times;
                              x.every_min = 60;
                              x.from = '00:00';
                              x.to = '23:00';
                            }
                          })
                        }
                      >
                        {on && <span aria-hidden="true">✓ </span>}
                        {t(m === 'times' ? 'planModeTimes' : 'planModeEvery')}
                      </button>
                    );
                  })}
                </div>
              </div>
              <div class="plan-grid">
                {every ? (
                  <>
                    <NumField label={t('planEvery')} value={s.every_min} min={10} max={1440} testid="schedule-every" onChange={(v) => setSchedule(i, (x) => (x.every_min = v ?? 0))} />
                    <label class="field">
                      <span class="field-label">{t('planFrom')}</span>
                      <input class="text-input" type="time" data-testid="schedule-from" value={s.from ?? ''} onInput={(e) => setSchedule(i, (x) => (x.from = e.currentTarget.value || undefined))} />
                    </label>
                    <label class="field">
                      <span class="field-label">{t('planTo')}</span>
                      <input class="text-input" type="time" data-testid="schedule-to" value={s.to ?? ''} onInput={(e) => setSchedule(i, (x) => (x.to = e.currentTarget.value || undefined))} />
                    </label>
                  </>
                ) : (
                  <TimesField key={`${i}-${s.id}`} value={s.times ?? []} testid="schedule-times" onChange={(v) => setSchedule(i, (x) => (x.times = v.length ? v : undefined))} />
                )}
              </div>
              <div class="plan-card-foot">
                <span />
                <ItemTools index={i} count={plan.schedules.length} testid="schedule" onRemove={() => edit((p) => p.schedules.splice(i, 1))} />
              </div>
            </div>
          );
        })}
      </Section>

      {/* ---- personnel tags and wands ---- */}
      <Section title={t('planPersonnel')} count={plan.personnel.length} hint={t('planPersonnelHint')} addLabel={t('planAddRow')} testid="plan-personnel" onAdd={() => edit((p) => p.personnel.push({ tag: '', person: '', name: '' }))}>
        {plan.personnel.map((x, i) => (
          <div key={i} class="plan-row" data-testid="plan-person">
            <TextField label={t('planPersonTag')} value={x.tag} testid="person-tag" maxLength={40} onInput={(v) => edit((p) => (p.personnel[i]!.tag = v))} />
            <TextField label={t('planPersonId')} value={x.person} testid="person-id" maxLength={64} onInput={(v) => edit((p) => (p.personnel[i]!.person = v))} />
            <TextField label={t('planName')} value={x.name} testid="person-name" maxLength={32} onInput={(v) => edit((p) => (p.personnel[i]!.name = v))} />
            <ItemTools index={i} count={plan.personnel.length} testid="person" onRemove={() => edit((p) => p.personnel.splice(i, 1))} />
          </div>
        ))}
      </Section>
      <Section title={t('planWands')} count={plan.wands.length} hint={t('planWandsHint')} addLabel={t('planAddRow')} testid="plan-wands" onAdd={() => edit((p) => p.wands.push({ wand: '', person: '', name: '' }))}>
        {plan.wands.length === 0 && <Empty text={t('planNoWands')} />}
        {plan.wands.map((x, i) => (
          <div key={i} class="plan-row" data-testid="plan-wand">
            <TextField label={t('planWand')} value={x.wand} testid="wand-id" maxLength={40} onInput={(v) => edit((p) => (p.wands[i]!.wand = v))} />
            <TextField label={t('planPersonId')} value={x.person} testid="wand-person" onInput={(v) => edit((p) => (p.wands[i]!.person = v))} />
            <TextField label={t('planName')} value={x.name} testid="wand-name" onInput={(v) => edit((p) => (p.wands[i]!.name = v))} />
            <ItemTools index={i} count={plan.wands.length} testid="wand" onRemove={() => edit((p) => p.wands.splice(i, 1))} />
          </div>
        ))}
      </Section>

      {/* ---- saving ---- */}
      <div class="plan-savebar" data-testid="plan-savebar">
        {newer && (
          <p class="notice" role="status" data-testid="plan-newer">
            ⚠ {t('planNewer', { n: String(current.data.version) })}
          </p>
        )}
        {reasons.length > 0 && (
          <div class="plan-refused" role="alert" data-testid="plan-refused">
            <strong>✕ {t('planRefused')}</strong>
            <ul>
              {reasons.map((r, i) => (
                <li key={i} data-testid="plan-reason">
                  {r}
                </li>
              ))}
            </ul>
          </div>
        )}
        {saved && (
          <p class="notice notice-ok" role="status" data-testid="plan-saved" data-version={saved.version}>
            ✓ {t('planSaved', { n: String(saved.version), since: dateTime(saved.effectiveFrom, lang, tz) })}
          </p>
        )}
        <div class="plan-save-actions">
          <span class="muted" data-testid="plan-dirty">
            {dirty ? t('planUnsaved') : t('planNoChanges')}
          </span>
          <button type="button" class="btn big" data-testid="plan-discard" disabled={(!dirty && !newer) || saving.busy} onClick={discard}>
            {t('planDiscard')}
          </button>
          <button type="button" class="btn big primary" data-testid="plan-save" disabled={!dirty || saving.busy} onClick={() => void save()}>
            {saving.busy ? t('planSaving') : t('planSave')}
          </button>
        </div>
      </div>
    </div>
  );
}
