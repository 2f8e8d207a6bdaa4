// The completion trend as inline SVG: a bar per day for the completion rate, a line for the on-time rate,
// a red mark over days with missed points; 30 or 60 days.
import type { TrendResponse } from '../contracts.ts';
import { useLang } from '../i18n.ts';
import { Chips, Empty } from '../gate/widgets.tsx';
import { percent, rate01 } from './status.ts';

type Day = TrendResponse['days'][number];

const W = 720;
const H = 280;
const pad = { left: 56, right: 14, top: 26, bottom: 40 };
const plotW = W - pad.left - pad.right;
const plotH = H - pad.top - pad.bottom;

const barTone = (r: number) => (r >= 0.95 ? 'good' : r >= 0.8 ? 'fair' : 'poor');

export function TrendChart({ days }: { days: Day[] }) {
  const { t } = useLang();
  const n = days.length;
  const step = plotW / Math.max(1, n);
  const barW = Math.max(3, step * 0.68);
  const y = (r: number) => pad.top + plotH * (1 - r);
  const x = (i: number) => pad.left + step * i + step / 2;
  const withRounds = days.filter((d) => d.rounds > 0);
  const avg = withRounds.length ? withRounds.reduce((s, d) => s + rate01(d.completionRate), 0) / withRounds.length : 0;
  const missed = days.reduce((s, d) => s + d.missed, 0);
  const labelEvery = n > 40 ? 10 : n > 14 ? 5 : 1;
  // The on-time line joins only days that had rounds: a day without patrol is a gap, not a drop to 0%.
  const segments: string[] = [];
  let current = '';
  days.forEach((d, i) => {
    if (d.rounds > 0) current += `${current ? 'L' : 'M'}${x(i).toFixed(1)} ${y(rate01(d.onTimeRate)).toFixed(1)}`;
    else if (current) {
      segments.push(current);
      current = '';
    }
  });
  if (current) segments.push(current);
  const summary = t('trendAverage', { p: percent(avg), n: String(missed) });

  return (
    <figure class="trend-figure">
      <svg class="trend-chart" data-testid="trend-chart" data-days={n} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${t('trendTitle')}: ${summary}`} preserveAspectRatio="xMidYMid meet">
        {[0, 0.5, 0.8, 1].map((g) => (
          <g key={g} class="trend-grid">
            <line x1={pad.left} x2={W - pad.right} y1={y(g)} y2={y(g)} />
            <text x={pad.left - 8} y={y(g) + 5} text-anchor="end">
              {Math.round(g * 100)}%
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const r = rate01(d.completionRate);
          const h = d.rounds > 0 ? Math.max(2, plotH * r) : 0;
          return (
            <g key={d.date} data-testid="trend-day" data-date={d.date}>
              <title>{`${d.date}  ${t('trendCompletion')} ${d.rounds > 0 ? percent(d.completionRate) : '—'}  ${t('trendOnTime')} ${d.rounds > 0 ? percent(d.onTimeRate) : '—'}  ${t('trendMissed')} ${d.missed}`}</title>
              {d.rounds > 0 ? (
                <rect class={`trend-bar ${barTone(r)}`} x={x(i) - barW / 2} y={y(r)} width={barW} height={h} />
              ) : (
                <line class="trend-none" x1={x(i) - barW / 2} x2={x(i) + barW / 2} y1={y(0) - 1} y2={y(0) - 1} />
              )}
              {d.missed > 0 && <circle class="trend-missed" cx={x(i)} cy={pad.top - 12} r={Math.min(6, Math.max(3, barW / 2))} />}
              {(i % labelEvery === 0 || i === n - 1) && (
                <text class="trend-x" x={x(i)} y={H - pad.bottom + 24} text-anchor="middle">
                  {d.date.slice(5)}
                </text>
              )}
            </g>
          );
        })}
        {segments.map((d) => (
          <path key={d} class="trend-line" d={d} />
        ))}
        {days.map((d, i) => d.rounds > 0 && <circle key={`p-${d.date}`} class="trend-dot" cx={x(i)} cy={y(rate01(d.onTimeRate))} r={3.5} />)}
      </svg>
      <figcaption class="trend-caption">
        <span class="trend-swatch bar" aria-hidden="true" /> {t('trendCompletion')}
        <span class="trend-swatch line" aria-hidden="true" /> {t('trendOnTime')}
        <span class="trend-swatch missed" aria-hidden="true" /> {t('trendMissed')}
        <strong class="trend-avg" data-testid="trend-summary">
          {summary}
        </strong>
      </figcaption>
    </figure>
  );
}

export function Trend({ days, data, onDays, failed }: { days: 30 | 60; data: TrendResponse | null; onDays(d: 30 | 60): void; failed: string | null }) {
  const { t } = useLang();
  return (
    <section class="panel" data-testid="trend">
      <div class="panel-head">
        <h2 class="panel-title">{t('trendTitle')}</h2>
        <Chips<'30' | '60'>
          options={[
            { value: '30', label: t('trendDays', { n: '30' }) },
            { value: '60', label: t('trendDays', { n: '60' }) },
          ]}
          value={days === 30 ? '30' : '60'}
          onChange={(v) => onDays(v === '30' ? 30 : 60)}
          testid="trend-days"
        />
      </div>
      {failed && <p class="error">{failed}</p>}
      {data && data.days.length === 0 && <Empty text={t('trendEmpty')} />}
      {data && data.days.length > 0 && <TrendChart days={data.days} />}
      {!data && !failed && <p class="muted">{t('loading')}</p>}
    </section>
  );
}
