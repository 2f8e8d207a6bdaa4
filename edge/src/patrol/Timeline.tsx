// The day timeline: a block per route, a row per round (start–end, round status, guard) and one cell per
// stop in route order, each cell in its status colour with a symbol and a word, so a missed point reads
// at a glance. The checkpoints head the columns; a cell names its point only where a round differs.
import type { RoundView, StopView } from '../contracts.ts';
import { useLang } from '../i18n.ts';
import { useTz } from './context.ts';
import { hm, roundLabel, roundTone, stopLabel, stopStatuses, stopSymbol } from './status.ts';

type Pick = (round: RoundView, stop: StopView, index: number) => void;

export function Legend() {
  const { t } = useLang();
  return (
    <ul class="tl-legend" data-testid="timeline-legend">
      {stopStatuses.map((s) => (
        <li key={s} class={`tl-key st-${s}`}>
          <span class="tl-sym" aria-hidden="true">
            {stopSymbol[s]}
          </span>
          {stopLabel(t, s)}
        </li>
      ))}
    </ul>
  );
}

function StopCell({ round, stop, index, onPick, named }: { round: RoundView; stop: StopView; index: number; onPick?: Pick; named: boolean }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const hit = stop.hitAt !== null;
  const time = hm(hit ? (stop.hitAt as number) : stop.expectedAt, lang, tz);
  const label = `${index + 1}. ${stop.name} · ${stopLabel(t, stop.status)}${hit ? ` ${time}` : ''}${stop.reason ? ` · ${stop.reason}` : ''}`;
  return (
    <button
      type="button"
      class={`tl-cell st-${stop.status}`}
      data-testid="stop-cell"
      data-status={stop.status}
      data-checkpoint={stop.checkpoint}
      data-round-id={round.id}
      aria-label={label}
      title={label}
      disabled={!onPick}
      onClick={() => onPick?.(round, stop, index)}
    >
      <span class="tl-status">
        <span class="tl-sym" aria-hidden="true">
          {stopSymbol[stop.status]}
        </span>
        <span class="tl-word">{stopLabel(t, stop.status)}</span>
      </span>
      {named && <span class="tl-name">{stop.name}</span>}
      <span class={hit ? 'tl-time' : 'tl-time expected'}>{hit ? time : `(${time})`}</span>
      {stop.reason && (
        <span class="tl-reason-mark" data-testid="stop-has-reason" aria-hidden="true">
          ✎
        </span>
      )}
    </button>
  );
}

function RoundRow({ round, columns, onPick }: { round: RoundView; columns: string[]; onPick?: Pick }) {
  const { t, lang } = useLang();
  const tz = useTz();
  const missed = round.stops.filter((s) => s.status === 'missed').length;
  return (
    <div class={`tl-row round-${round.status}`} role="row" data-testid="round" data-round-id={round.id} data-route={round.route} data-status={round.status}>
      <div class="tl-head">
        <span class="tl-span" data-testid="round-time">
          {hm(round.start, lang, tz)}–{hm(round.end, lang, tz)}
        </span>
        <span class={`tag round-tag tone-${roundTone[round.status]}`} data-testid="round-status">
          {roundLabel(t, round.status)}
          {missed > 0 && round.status !== 'missed' && ` ✕${missed}`}
        </span>
        <span class="tl-guard" data-testid="round-guard">
          {round.guard ?? <span class="muted">{t('noGuard')}</span>}
        </span>
      </div>
      {round.stops.map((s, i) => (
        <StopCell key={`${s.checkpoint}-${i}`} round={round} stop={s} index={i} onPick={onPick} named={columns[i] !== s.checkpoint} />
      ))}
    </div>
  );
}

/** One route's rounds; the columns are the stops of its first round (a later plan version may differ). */
function RouteBlock({ rounds, onPick }: { rounds: RoundView[]; onPick?: Pick }) {
  const { t } = useLang();
  const first = rounds[0];
  if (!first) return null;
  const width = Math.max(...rounds.map((r) => r.stops.length));
  const columns = first.stops.map((s) => s.checkpoint);
  const missed = rounds.reduce((n, r) => n + r.stops.filter((s) => s.status === 'missed').length, 0);
  return (
    <section class="tl-block" data-testid="route-block" data-route={first.route} style={{ '--cols': String(width) }}>
      <header class="tl-block-head">
        <strong class="tl-route" data-testid="round-route">
          {first.routeName}
        </strong>
        <span class="muted">{t('roundsCount', { n: String(rounds.length) })}</span>
        {missed > 0 && <span class="tag tone-bad">✕ {t('routeMissed', { n: String(missed) })}</span>}
      </header>
      <div class="tl-scroll">
        <div class="tl-grid" role="table" aria-label={first.routeName}>
          <div class="tl-row tl-cols" role="row">
            <span class="tl-head muted">{t('stopRound')}</span>
            {first.stops.map((s, i) => (
              <span key={`${s.checkpoint}-${i}`} class="tl-col" role="columnheader">
                <span class="tl-col-no">{i + 1}</span>
                {s.keyArea && (
                  <span class="tl-key-area" title={t('keyArea')}>
                    ★
                  </span>
                )}
                {s.name}
              </span>
            ))}
          </div>
          {rounds.map((r) => (
            <RoundRow key={r.id} round={r} columns={columns} onPick={onPick} />
          ))}
        </div>
      </div>
    </section>
  );
}

export function Timeline({ rounds, onPick, testid = 'timeline' }: { rounds: RoundView[]; onPick?: Pick; testid?: string }) {
  const byRoute = new Map<string, RoundView[]>();
  for (const r of [...rounds].sort((a, b) => a.start - b.start)) byRoute.set(r.route, [...(byRoute.get(r.route) ?? []), r]);
  return (
    <div class="tl" data-testid={testid}>
      {[...byRoute.entries()].map(([route, rs]) => (
        <RouteBlock key={route} rounds={rs} onPick={onPick} />
      ))}
    </div>
  );
}
