// The supervisor's review (督查): a day at a time, filtered by route and guard — the summary, the timeline
// of rounds and stops, the missed points with their reasons, walks too fast, unknown tags, the trend,
// and the day's CSV and printed report.
import { useMemo, useState } from 'preact/hooks';
import type { DayResponse, PersonView, RoundView, StopView } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { useLang } from '../i18n.ts';
import { errorText, useAction } from '../gate/action.ts';
import { addDays, localDate } from '../gate/rules.ts';
import { Chips, Empty, FieldError } from '../gate/widgets.tsx';
import { loadErrorText, TzContext, usePatrolLive, useQuery, useTz } from './context.ts';
import { patrolApi } from './patrolApi.ts';
import { PlanEditor } from './PlanEditor.tsx';
import { PrintReport } from './PrintReport.tsx';
import { checkpointName, decided, hm, needsReason, percent, roundName } from './status.ts';
import { StopSheet } from './StopSheet.tsx';
import { Legend, Timeline } from './Timeline.tsx';
import { Trend } from './Trend.tsx';
import '../gate/gate.css';
import './patrol.css';

type View = 'started' | 'problems' | 'all';
const views: View[] = ['started', 'problems', 'all'];

/** A round worth a supervisor's look: a point missed or hit out of plan, or walked too fast. */
const isProblem = (r: RoundView) => r.suspicious.length > 0 || r.stops.some(needsReason);

interface Picked {
  roundId: string;
  checkpoint: string;
  index: number;
}

/** Filter chips with an "all" first; the chosen one is marked by a tick as well as its colour. */
function FilterChips({ label, options, value, onChange, testid }: { label: string; options: { value: string; label: string }[]; value: string | null; onChange(v: string | null): void; testid: string }) {
  const { t } = useLang();
  const all = [{ value: '', label: t('filterAll') }, ...options];
  return (
    <div class="filter-row">
      <span class="field-label">{label}</span>
      <div class="chips" role="radiogroup" aria-label={label} data-testid={testid}>
        {all.map((o) => {
          const on = (value ?? '') === o.value;
          return (
            <button key={o.value || '*'} type="button" role="radio" aria-checked={on} class={on ? 'chip on' : 'chip'} data-testid={`${testid}-${o.value || 'all'}`} onClick={() => onChange(o.value || null)}>
              {on && <span aria-hidden="true">✓ </span>}
              {o.label}
            </button>
          );
        })}
      </div>
    </div>
  );
}

function Summary({ day }: { day: DayResponse }) {
  const { t } = useLang();
  const s = day.summary;
  // Out of the rounds and points already decided: upcoming rounds and open windows count for nothing yet.
  const { rounds: decidedRounds, stops: decidedStops } = decided(day.rounds);
  return (
    <section class="patrol-summary" data-testid="patrol-summary" aria-label={t('summaryTitle')}>
      <div class="stat" data-testid="summary-completion">
        <span class="stat-label">{t('summaryCompletion')}</span>
        <strong class="stat-value">{percent(s.completionRate)}</strong>
      </div>
      <div class="stat" data-testid="summary-rounds">
        <span class="stat-label">{t('summaryRounds')}</span>
        <strong class="stat-value">{t('summaryOf', { n: String(s.complete), total: String(decidedRounds) })}</strong>
      </div>
      <div class="stat" data-testid="summary-ontime">
        <span class="stat-label">{t('summaryOnTime')}</span>
        <strong class="stat-value">{t('summaryOf', { n: String(s.onTime), total: String(decidedStops) })}</strong>
      </div>
      <div class={s.missed > 0 ? 'stat stat-bad' : 'stat'} data-testid="summary-missed" data-missed={s.missed}>
        <span class="stat-label">{t('summaryMissed')}</span>
        <strong class="stat-value">
          {s.missed > 0 && <span aria-hidden="true">✕ </span>}
          {s.missed}
        </strong>
      </div>
    </section>
  );
}

function MissedList({ rounds, onPick }: { rounds: RoundView[]; onPick(r: RoundView, s: StopView, i: number): void }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const missed = [...rounds]
    .sort((a, b) => a.start - b.start)
    .flatMap((r) => r.stops.map((s, i) => ({ r, s, i })).filter((x) => x.s.status === 'missed'));
  return (
    <section class="panel" data-testid="missed-list">
      <h2 class="panel-title">
        {t('missedTitle')} <span class="count">({missed.length})</span>
      </h2>
      {missed.length === 0 && <Empty text={t('missedEmpty')} testid="missed-empty" />}
      {missed.length > 0 && (
        <div class="missed-row missed-head" aria-hidden="true">
          <span>{t('stopStatusLabel')}</span>
          <span>{t('colCheckpoint')}</span>
          <span>{t('stopRound')}</span>
          <span>{t('stopExpected')}</span>
          <span>{t('reasonTitle')}</span>
          <span />
        </div>
      )}
      <ul class="rows">
        {missed.map(({ r, s, i }) => (
          <li key={`${r.id}-${s.checkpoint}-${i}`} class="row missed-row" data-testid="missed-point" data-round-id={r.id} data-checkpoint={s.checkpoint}>
            <span class="stop-badge st-missed">✕ {t('stopStatus.missed')}</span>
            <strong class="missed-name">
              {s.keyArea && (
                <span class="tl-key-area" title={t('keyArea')}>
                  ★
                </span>
              )}
              {s.name}
            </strong>
            <span class="missed-when">{roundName(r, lang, tz)}</span>
            <span class="missed-when">{hm(s.expectedAt, lang, tz)}</span>
            <span class="missed-reason" data-testid="missed-reason">
              {s.reason ?? ''}
            </span>
            <button type="button" class={s.reason ? 'btn' : 'btn warn-btn'} data-testid="missed-explain" onClick={() => onPick(r, s, i)}>
              ✎ {s.reason ? t('editReason') : t('addReason')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Suspicious({ rounds }: { rounds: RoundView[] }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const items = rounds.flatMap((r) => r.suspicious.map((x) => ({ r, x })));
  return (
    <section class="panel" data-testid="suspicious">
      <h2 class="panel-title">
        {t('suspiciousTitle')} <span class="count">({items.length})</span>
      </h2>
      <p class="muted panel-hint">{t('suspiciousHint')}</p>
      {items.length === 0 && <Empty text={t('suspiciousEmpty')} />}
      <ul class="rows">
        {items.map(({ r, x }) => (
          <li key={`${r.id}-${x.from}-${x.to}`} class="row suspicious-row" data-testid="suspicious-item">
            <div class="row-main">
              <span class="stop-badge st-not-before">⚡ {t('suspiciousTitle')}</span>
              <strong>{roundName(r, lang, tz)}</strong>
              <span class="visit-line">{t('suspiciousLine', { from: checkpointName(r, x.from), to: checkpointName(r, x.to), s: String(Math.round(x.seconds)), min: String(Math.round(x.minimum)) })}</span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function UnknownTags({ tags }: { tags: DayResponse['unknownTags'] }) {
  const { t, lang } = useLang();
  const tz = useTz();
  return (
    <section class="panel" data-testid="unknown-tags">
      <h2 class="panel-title">
        {t('unknownTitle')} <span class="count">({tags.length})</span>
      </h2>
      <p class="muted panel-hint">{t('unknownHint')}</p>
      {tags.length === 0 && <Empty text={t('unknownEmpty')} />}
      <ul class="rows">
        {tags.map((u, i) => (
          <li key={`${u.tag}-${u.at}-${i}`} class="row" data-testid="unknown-tag">
            <div class="row-main">
              <span class="tag tag-warn">? {t('tag')}</span>
              <strong class="mono">{u.tag}</strong>
              <span class="muted">{dateTime(u.at, lang, tz)}</span>
              <span class="muted">{t('unknownFrom', { source: [u.device, u.source].filter(Boolean).join(' · ') })}</span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

type Tab = 'day' | 'plan';

/** The review's two tabs: the day's records, and (supervisors and admins) the patrol plan editor. */
export function Review(props: { token: string; person: PersonView; timeZone: string | undefined; siteName: string }) {
  const { t } = useLang();
  const [tab, setTab] = useState<Tab>('day');
  const canPlan = props.person.role === 'supervisor' || props.person.role === 'admin';
  return (
    <>
      {canPlan && (
        <div class="review-tabs" role="tablist" data-testid="review-tabs">
          {(['day', 'plan'] as const).map((x) => (
            <button key={x} type="button" role="tab" aria-selected={x === tab} class={x === tab ? 'review-tab on' : 'review-tab'} data-testid={`review-tab-${x}`} onClick={() => setTab(x)}>
              {t(x === 'day' ? 'reviewTabDay' : 'reviewTabPlan')}
            </button>
          ))}
        </div>
      )}
      {tab === 'plan' && canPlan ? (
        <TzContext.Provider value={props.timeZone}>
          <PlanEditor token={props.token} />
        </TzContext.Provider>
      ) : (
        <DayReview {...props} />
      )}
    </>
  );
}

function DayReview({ token, person, timeZone, siteName }: { token: string; person: PersonView; timeZone: string | undefined; siteName: string }) {
  const langState = useLang();
  const { t } = langState;
  const api = useMemo(() => patrolApi(token), [token]);
  const today = localDate(Date.now(), timeZone);
  const [date, setDate] = useState(today);
  const [route, setRoute] = useState<string | null>(null);
  const [guard, setGuard] = useState<string | null>(null);
  const [trendDays, setTrendDays] = useState<30 | 60>(30);
  const [view, setView] = useState<View>('started');
  const [picked, setPicked] = useState<Picked | null>(null);
  // Guards seen on the chosen date, kept while a guard filter narrows the answer to one of them.
  const [guardsSeen, setGuardsSeen] = useState<{ date: string; names: string[] }>({ date: '', names: [] });
  const exporting = useAction();
  const [exported, setExported] = useState<string | null>(null);

  const plan = useQuery('plan', () => api.plan(), 300_000);
  const day = useQuery(`${date}|${route ?? ''}|${guard ?? ''}`, async () => {
    const d = await api.day({ date, route, guard });
    const names = new Set<string>();
    for (const r of d.rounds) {
      if (r.guard) names.add(r.guard);
      for (const s of r.stops) if (s.guard) names.add(s.guard);
    }
    setGuardsSeen((prev) => ({ date, names: [...new Set([...(prev.date === date ? prev.names : []), ...names])].sort() }));
    return d;
  });
  const trend = useQuery(`${trendDays}|${route ?? ''}`, () => api.trend(trendDays, route), 300_000);

  // A missed point, an incident or (today) a checkpoint tap: the day on screen is evaluated again.
  usePatrolLive(day.reload, date === today);

  const routes = plan.data?.plan.routes ?? [];
  const routeOptions = routes.map((r) => ({ value: r.id, label: r.name }));
  // A route that only the day's rounds know (an older plan version) still gets its chip.
  for (const r of day.data?.rounds ?? []) if (!routeOptions.some((o) => o.value === r.route)) routeOptions.push({ value: r.route, label: r.routeName });
  const guardNames = guardsSeen.date === date ? guardsSeen.names : [];
  const guardOptions = [...new Set([...guardNames, ...(guard ? [guard] : [])])].map((g) => ({ value: g, label: g }));

  const rounds = day.data?.rounds ?? [];
  const shown = rounds.filter((r) => (view === 'all' ? true : view === 'problems' ? isProblem(r) : r.status !== 'upcoming'));
  const pickedRound = picked && rounds.find((r) => r.id === picked.roundId);
  const pickedStop = pickedRound && (pickedRound.stops[picked.index]?.checkpoint === picked.checkpoint ? pickedRound.stops[picked.index] : pickedRound.stops.find((s) => s.checkpoint === picked.checkpoint));

  const pick = (r: RoundView, s: StopView, i?: number) => setPicked({ roundId: r.id, checkpoint: s.checkpoint, index: i ?? r.stops.indexOf(s) });

  const saved = (r: RoundView, s: StopView, reason: string) => {
    day.set((d) => {
      if (!d) return d;
      const fresh = r.stops.some((x) => x.checkpoint === s.checkpoint && x.reason) ? r : { ...r, stops: r.stops.map((x) => (x.checkpoint === s.checkpoint ? { ...x, reason } : x)) };
      return { ...d, rounds: d.rounds.map((x) => (x.id === fresh.id ? fresh : x)) };
    });
    day.reload();
  };

  const doExport = async () => {
    setExported(null);
    const name = await exporting.run(`csv:${date}:${route ?? ''}:${guard ?? ''}`, () => api.downloadCsv({ date, route, guard }));
    if (name) setExported(name);
  };

  const routeLabel = route ? (routeOptions.find((o) => o.value === route)?.label ?? route) : t('filterAll');
  const canExplain = person.role === 'supervisor' || person.role === 'admin';

  return (
    <TzContext.Provider value={timeZone}>
      <div class="patrol review" data-testid="review">
        <div class="review-bar">
          <div class="date-bar" role="group" aria-label={t('patrolDate')} data-testid="review-date">
            <button type="button" class="btn big" data-testid="date-prev" onClick={() => setDate(addDays(date, -1))}>
              {t('prevDay')}
            </button>
            <output class="date-shown" data-testid="date-value" data-date={date}>
              {date}
              {date === today && <span class="muted"> {t('today')}</span>}
            </output>
            <button type="button" class="btn big" data-testid="date-next" disabled={date >= today} onClick={() => setDate(addDays(date, 1))}>
              {t('nextDay')}
            </button>
            <button type="button" class="btn big" data-testid="date-today" disabled={date === today} onClick={() => setDate(today)}>
              {t('goToday')}
            </button>
          </div>
          <div class="review-actions">
            <button type="button" class="btn big primary" data-testid="export-csv" disabled={exporting.busy || !day.data || day.stale} onClick={() => void doExport()}>
              ⤓ {exporting.busy ? t('exporting') : t('exportCsv')}
            </button>
            <button type="button" class="btn big" data-testid="print-report" disabled={!day.data || day.stale} onClick={() => window.print()}>
              {t('printReport')}
            </button>
          </div>
        </div>
        {exported && (
          <p class="notice notice-ok" data-testid="export-done" role="status">
            ✓ {t('exportDone', { file: exported })}
          </p>
        )}
        <FieldError text={exporting.error && errorText(exporting.error, t)} testid="export-error" />

        <div class="filters">
          <FilterChips label={t('filterRoute')} options={routeOptions} value={route} onChange={setRoute} testid="route-filter" />
          <FilterChips label={t('filterGuard')} options={guardOptions} value={guard} onChange={setGuard} testid="guard-filter" />
          <div class="filter-row">
            <span class="field-label">{t('filterView')}</span>
            <Chips<View> options={views.map((v) => ({ value: v, label: t(`view.${v}`) }))} value={view} onChange={setView} testid="view-filter" />
          </div>
        </div>

        {day.error && (
          <p class="error" role="alert" data-testid="day-error">
            {loadErrorText(day.error, t)}
          </p>
        )}
        {!day.data && !day.error && <p class="muted">{t('loading')}</p>}
        {day.data && (
          <div class={day.stale ? 'day-view stale' : 'day-view'} aria-busy={day.stale} data-testid="day-view" data-date={day.data.date}>
            <Summary day={day.data} />
            <section class="panel" data-testid="timeline-panel">
              <div class="panel-head">
                <h2 class="panel-title">
                  {t('timelineTitle')} <span class="count">({shown.length})</span>
                </h2>
                <Legend />
              </div>
              <p class="muted panel-hint">{t('timelineHint')}</p>
              {shown.length === 0 ? <Empty text={t('timelineEmpty')} testid="timeline-empty" /> : <Timeline rounds={shown} onPick={pick} />}
              {shown.length < rounds.length && (
                <p class="muted view-hidden" data-testid="view-hidden">
                  {t('viewHidden', { n: String(rounds.length - shown.length) })}
                </p>
              )}
            </section>
            <MissedList rounds={rounds} onPick={pick} />
            <Suspicious rounds={rounds} />
            <UnknownTags tags={day.data.unknownTags} />
          </div>
        )}
        <Trend days={trendDays} data={trend.data} onDays={setTrendDays} failed={trend.error && loadErrorText(trend.error, t)} />
      </div>
      {pickedRound && pickedStop && !day.stale && <StopSheet round={pickedRound} stop={pickedStop} api={api} canExplain={canExplain} onClose={() => setPicked(null)} onSaved={saved} />}
      {day.data && !day.stale && <PrintReport day={day.data} rounds={shown} siteName={siteName} routeLabel={routeLabel} guardLabel={guard ?? t('filterAll')} langState={langState} tz={timeZone} />}
    </TzContext.Provider>
  );
}
