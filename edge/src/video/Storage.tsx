// Storage (存储): the recordings disk, the retention in force against the days the disk really holds at the
// measured bitrates, a shorter retention waiting out its warning, and per camera what it costs, with advice.
import { useMemo } from 'preact/hooks';
import type { StorageView } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { Empty } from '../gate/widgets.tsx';
import { useLang, type MsgKey, type Translate } from '../i18n.ts';
import { useQuery } from '../patrol/context.ts';
import { sizeText, videoErrorText } from './common.ts';
import { videoApi } from './videoApi.ts';
import '../gate/gate.css';
import '../patrol/patrol.css';
import './video.css';

const pct = (part: number, whole: number) => `${whole > 0 ? Math.max(0, Math.min(100, (part / whole) * 100)) : 0}%`;
const mbps = (kbps: number) => (kbps / 1000).toFixed(kbps < 1000 ? 2 : 1);

const adviceKeys: Record<string, MsgKey> = {
  'use-sub-stream': 'advice.use-sub-stream',
  'lower-bitrate': 'advice.lower-bitrate',
  'bigger-disk': 'advice.bigger-disk',
  'retention-pending': 'advice.retention-pending',
};

/** One piece of advice in words, with its camera and figure; a code this screen does not know is shown as sent. */
function adviceText(t: Translate, a: StorageView['advice'][number], cameraName: string): string {
  const key = adviceKeys[a.code];
  // bigger-disk's figure is the bytes missing; the others are plain numbers (kbps, days).
  const figure = a.figure === undefined ? '' : a.code === 'bigger-disk' ? sizeText(a.figure) : String(Math.round(a.figure * 10) / 10);
  if (!key) return [a.code, cameraName, figure].filter(Boolean).join(' ');
  return t(key, { camera: cameraName, figure });
}

export function Storage({ token, timeZone }: { token: string; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  const api = useMemo(() => videoApi(token), [token]);
  const q = useQuery('storage', () => api.storage(), 60_000);
  const s = q.data;
  if (!s) return q.error ? <p class="error">{videoErrorText(q.error, t)}</p> : <p class="muted">{t('loading')}</p>;

  const d = s.disk;
  const used = Math.max(0, d.totalBytes - d.freeBytes);
  const other = Math.max(0, used - d.usedByVideoBytes);
  const short = s.shortfall || (s.capacityDays !== null && s.capacityDays < s.retentionDays);
  const names = new Map(s.cameras.map((c) => [c.id, c.name]));

  return (
    <div class="storage stack" data-testid="storage">
      <section class="panel" data-testid="storage-disk">
        <h2 class="panel-title">{t('diskTitle')}</h2>
        <div class="disk-bar" role="img" aria-label={t('diskLine', { used: sizeText(used), total: sizeText(d.totalBytes), free: sizeText(d.freeBytes) })}>
          <span class="disk-video" style={{ width: pct(d.usedByVideoBytes, d.totalBytes) }} />
          <span class="disk-other" style={{ width: pct(other, d.totalBytes) }} />
          <span class="disk-floor" style={{ right: pct(d.floorBytes, d.totalBytes) }} title={t('diskFloor')} />
        </div>
        <ul class="disk-legend">
          <li>
            <span class="sw sw-video" aria-hidden="true" /> {t('diskVideo')} {sizeText(d.usedByVideoBytes)}
          </li>
          <li>
            <span class="sw sw-other" aria-hidden="true" /> {t('diskOther')} {sizeText(other)}
          </li>
          <li>
            <span class="sw sw-free" aria-hidden="true" /> {t('diskFree')} {sizeText(d.freeBytes)}
          </li>
          <li>
            <span class="sw sw-floor" aria-hidden="true" /> {t('diskFloorIs', { size: sizeText(d.floorBytes) })}
          </li>
        </ul>
        <p data-testid="disk-line">{t('diskLine', { used: sizeText(used), total: sizeText(d.totalBytes), free: sizeText(d.freeBytes) })}</p>
      </section>

      <section class={short ? 'panel retention-short' : 'panel'} data-testid="storage-retention" data-shortfall={short}>
        <h2 class="panel-title">{t('retentionTitle')}</h2>
        <div class="patrol-summary storage-stats">
          <div class="stat">
            <span class="stat-label">{t('retentionInForce')}</span>
            <strong class="stat-value" data-testid="retention-days">
              {t('daysN', { n: String(s.retentionDays) })}
            </strong>
          </div>
          <div class={short ? 'stat stat-bad' : 'stat'}>
            <span class="stat-label">{t('capacityDays')}</span>
            <strong class="stat-value" data-testid="capacity-days">
              {s.capacityDays === null ? '—' : t('daysN', { n: String(Math.floor(s.capacityDays)) })}
            </strong>
          </div>
        </div>
        {s.capacityDays === null && <p class="muted">{t('capacityUnknown')}</p>}
        {short && s.capacityDays !== null && (
          <p class="field-error" role="alert" data-testid="shortfall">
            ⚠ {t('shortfall', { days: String(s.retentionDays), can: String(Math.floor(s.capacityDays)) })}
          </p>
        )}
        {s.pendingRetention && (
          <p class="notice pending-retention" role="alert" data-testid="pending-retention">
            ⚠ {t('retentionPending', { days: String(s.pendingRetention.days), at: dateTime(s.pendingRetention.effectiveAt, lang, timeZone), size: sizeText(s.pendingRetention.deletesBytes) })}
          </p>
        )}
      </section>

      <section class="panel" data-testid="storage-cameras">
        <h2 class="panel-title">{t('perCameraTitle')}</h2>
        {s.cameras.length === 0 && <Empty text={t('noCameras')} />}
        {s.cameras.length > 0 && (
          <div class="table-wrap">
            <table class="devices storage-table">
              <thead>
                <tr>
                  <th>{t('colName')}</th>
                  <th>{t('colBitrate')}</th>
                  <th>{t('colPerDay')}</th>
                  <th>{t('colRecordedDays')}</th>
                  <th>{t('colSubStream')}</th>
                </tr>
              </thead>
              <tbody>
                {s.cameras.map((c) => (
                  <tr key={c.id} data-testid={`storage-cam-${c.id}`}>
                    <td class="device-name">{c.name}</td>
                    <td class="nowrap">{c.bitrateKbps === null ? '—' : `${mbps(c.bitrateKbps)} Mbit/s`}</td>
                    <td class="nowrap">{c.bytesPerDay === null ? '—' : sizeText(c.bytesPerDay)}</td>
                    <td class="nowrap">{t('daysN', { n: c.recordedDays.toFixed(c.recordedDays < 10 ? 1 : 0) })}</td>
                    <td class="nowrap">{c.hasSubStream ? `✓ ${t('yes')}` : `– ${t('no')}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="panel" data-testid="storage-advice">
        <h2 class="panel-title">{t('adviceTitle')}</h2>
        {s.advice.length === 0 && <Empty text={t('adviceNone')} testid="advice-none" />}
        <ul class="rows">
          {s.advice.map((a, i) => (
            <li key={`${a.code}-${a.camera ?? ''}-${i}`} class="row advice" data-testid="advice" data-code={a.code}>
              <span class="row-main">→ {adviceText(t, a, a.camera ? (names.get(a.camera) ?? a.camera) : '')}</span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
