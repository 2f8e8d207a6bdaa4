// The day's report on A4: the timeline as a table and the missed points, black on white with the status
// in words and symbols. Rendered straight into <body> (like the pass slip) and shown only by print.
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { DayResponse, RoundView } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { LangContext, useLang, type LangState } from '../i18n.ts';
import { TzContext, useTz } from './context.ts';
import { checkpointName, decided, hm, percent, roundLabel, roundName, stopLabel, stopSymbol } from './status.ts';

interface ReportProps {
  day: DayResponse;
  /** The rounds the screen shows (its view filter), in the timeline's order. */
  rounds: RoundView[];
  siteName: string;
  routeLabel: string;
  guardLabel: string;
}

function Report({ day, rounds: shown, siteName, routeLabel, guardLabel }: ReportProps) {
  const { t, lang } = useLang();
  const tz = useTz();
  const rounds = [...shown].sort((a, b) => a.start - b.start);
  const all = [...day.rounds].sort((a, b) => a.start - b.start);
  const done = decided(day.rounds);
  const missed = all.flatMap((r) => r.stops.filter((s) => s.status === 'missed').map((s) => ({ r, s })));
  const suspicious = all.flatMap((r) => r.suspicious.map((x) => ({ r, x })));
  const sum = day.summary;
  return (
    <article class="report">
      <header class="report-head">
        <h1>
          {siteName} · {t('reportTitle')} {day.date}
        </h1>
        <p>{t('reportFilters', { route: routeLabel, guard: guardLabel })}</p>
        <p>
          {t('summaryCompletion')} {percent(sum.completionRate)} · {t('summaryRounds')} {t('summaryOf', { n: String(sum.complete), total: String(done.rounds) })} · {t('summaryOnTime')}{' '}
          {t('summaryOf', { n: String(sum.onTime), total: String(done.stops) })} · {t('summaryMissed')} {sum.missed}
        </p>
      </header>
      <h2>{t('timelineTitle')}</h2>
      {rounds.length === 0 ? (
        <p>{t('timelineEmpty')}</p>
      ) : (
        <table class="report-table">
          <thead>
            <tr>
              <th class="c-route">{t('filterRoute')}</th>
              <th class="c-time">{t('stopRound')}</th>
              <th class="c-guard">{t('stopGuard')}</th>
              <th class="c-status">{t('stopStatusLabel')}</th>
              <th>{t('timelineTitle')}</th>
            </tr>
          </thead>
          <tbody>
            {rounds.map((r) => (
              <tr key={r.id}>
                <td>{r.routeName}</td>
                <td>
                  {hm(r.start, lang, tz)}–{hm(r.end, lang, tz)}
                </td>
                <td>{r.guard ?? t('noGuard')}</td>
                <td>{roundLabel(t, r.status)}</td>
                <td>
                  <span class="report-cells">
                    {r.stops.map((s, i) => (
                      <span key={`${s.checkpoint}-${i}`} class={`report-cell st-${s.status}`}>
                        {stopSymbol[s.status]} {s.name} {stopLabel(t, s.status)}
                        {s.hitAt !== null && ` ${hm(s.hitAt, lang, tz)}`}
                      </span>
                    ))}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>
        {t('missedTitle')} ({missed.length})
      </h2>
      {missed.length === 0 ? (
        <p>{t('missedEmpty')}</p>
      ) : (
        <table class="report-table">
          <thead>
            <tr>
              <th class="c-route">{t('colCheckpoint')}</th>
              <th class="c-round">{t('stopRound')}</th>
              <th class="c-time">{t('stopExpected')}</th>
              <th>{t('reasonTitle')}</th>
            </tr>
          </thead>
          <tbody>
            {missed.map(({ r, s }) => (
              <tr key={`${r.id}-${s.checkpoint}`}>
                <td>
                  ✕ {s.name}
                  {s.keyArea && ' ★'}
                </td>
                <td>{roundName(r, lang, tz)}</td>
                <td>{hm(s.expectedAt, lang, tz)}</td>
                <td>{s.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {suspicious.length > 0 && (
        <>
          <h2>{t('suspiciousTitle')}</h2>
          <ul>
            {suspicious.map(({ r, x }) => (
              <li key={`${r.id}-${x.from}-${x.to}`}>
                {roundName(r, lang, tz)}: {t('suspiciousLine', { from: checkpointName(r, x.from), to: checkpointName(r, x.to), s: String(Math.round(x.seconds)), min: String(Math.round(x.minimum)) })}
              </li>
            ))}
          </ul>
        </>
      )}
      <footer class="report-foot">
        <span>{t('reportPrintedAt', { at: dateTime(Date.now(), lang, tz) })}</span>
        <span>{t('reportSignature')} ____________________</span>
      </footer>
    </article>
  );
}

/** Keeps the print copy of the report in <body> while the review is on screen; print shows only it. */
export function PrintReport(props: ReportProps & { langState: LangState; tz: string | undefined }) {
  const { langState, tz, day, rounds, siteName, routeLabel, guardLabel } = props;
  const host = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    const el = document.createElement('div');
    el.className = 'print-report';
    document.body.appendChild(el);
    host.current = el;
    return () => {
      render(null, el);
      el.remove();
      host.current = null;
    };
  }, []);
  // After every render of the review: the print copy follows the data, the filters and the language.
  useEffect(() => {
    if (!host.current) return;
    render(
      <LangContext.Provider value={langState}>
        <TzContext.Provider value={tz}>
          <Report day={day} rounds={rounds} siteName={siteName} routeLabel={routeLabel} guardLabel={guardLabel} />
        </TzContext.Provider>
      </LangContext.Provider>,
      host.current,
    );
  });
  return null;
}
