// HQ sync (总部同步): the link's state in one big block, the backlog and its age, the master data in force, and the records HQ refused.
import { useMemo, useState } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import type { ParkedRecordView, SyncResponse, SyncView } from '../contracts.ts';
import { dateTime, timeOfDay } from '../format.ts';
import { errorText, useAction } from '../gate/action.ts';
import { useLive } from '../gate/context.ts';
import { Empty, FieldError } from '../gate/widgets.tsx';
import { translateOpen, useLang, type Translate } from '../i18n.ts';
import { useQuery } from '../patrol/context.ts';
import { syncApi, type SyncApi } from './syncApi.ts';
import '../gate/gate.css';
import '../patrol/patrol.css';
import './sync.css';

// Several seconds: a retry or a reconnect shows while the admin still looks, without hammering a gateway that is busy catching up.
const refreshMs = 4000;

/** Colour follows meaning, and the state is always in words beside it. */
export const syncTone: Record<SyncView['state'], string> = { online: 'ok', connecting: 'info', backoff: 'warn', 'auth-failed': 'bad', disabled: 'idle' };

// HQ's kinds in the order a guard cares about them; a kind HQ adds later is listed after these, as sent.
const masterOrder = ['residents', 'watchlist', 'patrol_plan', 'preregistrations'];

/** A wait in words, to the minute once it is past one (seconds would only flicker). */
export function ageText(seconds: number, t: Translate): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return t('age.s', { n: String(s) });
  const m = Math.floor(s / 60);
  if (m < 60) return t('age.m', { m: String(m) });
  const h = Math.floor(m / 60);
  if (h < 24) return t('age.hm', { h: String(h), m: String(m % 60) });
  return t('age.dh', { d: String(Math.floor(h / 24)), h: String(h % 24) });
}

// Ids are UUIDs or composite keys: the head tells rows apart on screen, the whole one is in the title for a support call.
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

function loadError(err: ApiError, t: Translate): string {
  return err.status === 0 ? t('gatewayUnreachable') : `${t('loadFailed')} ${errorText(err, t)}`;
}

export function SyncScreen({ token, timeZone, canRetry }: { token: string; timeZone: string | undefined; canRetry: boolean }) {
  const { t } = useLang();
  const api = useMemo(() => syncApi(token), [token]);
  const q = useQuery<SyncResponse>('sync', () => api.get(), refreshMs);
  const [requeued, setRequeued] = useState(false);
  // The backlog alarm means the numbers just crossed a line: show it now, not at the next refresh.
  useLive((msg) => msg.type === 'alarm' && msg.alarm.kind === 'sync.backlog' && q.reload());

  const r = q.data;
  if (!r) return q.error ? <p class="error">{loadError(q.error, t)}</p> : <p class="muted">{t('loading')}</p>;
  const s = r.sync;

  return (
    <div class="sync stack" data-testid="sync">
      {/* The last answer stays up when a refresh fails: the admin still sees what was known, and that it is old. */}
      {q.error && (
        <p class="field-error" role="alert" data-testid="sync-load-error">
          ⚠ {loadError(q.error, t)}
        </p>
      )}
      <StatusBlock s={s} timeZone={timeZone} />
      <Backlog s={s} timeZone={timeZone} />
      <MasterVersions versions={s.masterVersions} />
      <Parked
        parked={r.parked}
        api={api}
        canRetry={canRetry}
        timeZone={timeZone}
        requeued={requeued}
        onRetried={(next) => {
          q.set(() => next);
          setRequeued(true);
        }}
      />
    </div>
  );
}

function StatusBlock({ s, timeZone }: { s: SyncView; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  const line = (): string => {
    switch (s.state) {
      case 'online':
        return t('syncOnlineHint');
      case 'connecting':
        return t('syncConnectingHint');
      case 'backoff':
        return s.nextAttemptAt !== null && s.nextAttemptAt > Date.now() ? t('syncNextTry', { at: timeOfDay(s.nextAttemptAt, lang, timeZone) }) : t('syncNextTrySoon');
      case 'auth-failed':
        return t('syncCheckCredentials');
      case 'disabled':
        return t('syncDisabledHint');
    }
  };
  return (
    <section class={`panel sync-status tone-${syncTone[s.state]}`} data-testid="sync-status" data-state={s.state} aria-live="polite">
      <h2 class="panel-title">{t('syncStatusTitle')}</h2>
      <div class="sync-status-head">
        <span class="lamp" aria-hidden="true" />
        <strong class="sync-state" data-testid="sync-state">
          {t(`syncState.${s.state}`)}
        </strong>
      </div>
      <p class="sync-status-line" data-testid="sync-status-line">
        {line()}
      </p>
      {s.protocol && s.state !== 'disabled' && <p class="muted sync-protocol">{t('syncProtocol', { protocol: s.protocol })}</p>}
    </section>
  );
}

function Backlog({ s, timeZone }: { s: SyncView; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  const waiting = s.outboxDepth;
  return (
    <section class={s.overdue ? 'panel sync-backlog sync-overdue' : 'panel sync-backlog'} data-testid="sync-backlog" data-overdue={s.overdue}>
      <h2 class="panel-title">{t('syncBacklogTitle')}</h2>
      <div class="sync-stats">
        <div class="stat">
          <span class="stat-label">{t('syncWaiting')}</span>
          <strong class="stat-value" data-testid="sync-waiting" data-count={waiting ?? ''}>
            {waiting === null ? '—' : t('recordsN', { n: String(waiting) })}
          </strong>
        </div>
        <div class={s.overdue ? 'stat stat-bad' : 'stat'}>
          <span class="stat-label">{t('syncOldest')}</span>
          <strong class="stat-value" data-testid="sync-oldest">
            {s.oldestUnsentAgeS === null ? '—' : ageText(s.oldestUnsentAgeS, t)}
          </strong>
        </div>
        <div class={s.parked ? 'stat stat-warn' : 'stat'}>
          <span class="stat-label">{t('syncParkedCount')}</span>
          <strong class="stat-value" data-testid="sync-parked-count">
            {s.parked === null ? '—' : t('recordsN', { n: String(s.parked) })}
          </strong>
        </div>
      </div>
      {s.overdue && (
        <p class="field-error" role="alert" data-testid="sync-overdue">
          ⚠ {t('syncOverdue')}
        </p>
      )}
      <dl class="summary sync-facts">
        <div class="summary-row">
          <dt>{t('syncLastSuccess')}</dt>
          <dd data-testid="sync-last-success">{s.lastSuccessAt === null ? t('never') : dateTime(s.lastSuccessAt, lang, timeZone)}</dd>
        </div>
        <div class="summary-row">
          <dt>{t('syncLastError')}</dt>
          <dd data-testid="sync-last-error" class={s.lastError ? 'sync-error' : 'muted'}>
            {s.lastError ? (
              <>
                {s.lastErrorAt !== null && <span class="sync-error-at">{dateTime(s.lastErrorAt, lang, timeZone)}</span>}
                {/* The transport's own words (a socket error, HQ's answer): what a technician needs, so not translated. */}
                <span class="sync-error-text">{s.lastError}</span>
              </>
            ) : (
              t('none')
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function MasterVersions({ versions }: { versions: Record<string, number> }) {
  const { t } = useLang();
  const kinds = [...masterOrder, ...Object.keys(versions).filter((k) => !masterOrder.includes(k)).sort()];
  return (
    <section class="panel" data-testid="sync-master">
      <h2 class="panel-title">{t('syncMasterTitle')}</h2>
      <dl class="summary sync-master">
        {kinds.map((k) => {
          const v = versions[k];
          return (
            <div key={k} class="summary-row" data-testid={`master-${k}`} data-version={v ?? ''}>
              <dt>{translateOpen(t, 'masterKind', k)}</dt>
              <dd class={v === undefined ? 'muted' : undefined}>{v === undefined ? t('masterNotYet') : t('masterVersionN', { n: String(v) })}</dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
}

interface ParkedProps {
  parked: ParkedRecordView[];
  api: SyncApi;
  canRetry: boolean;
  timeZone: string | undefined;
  requeued: boolean;
  onRetried(r: SyncResponse): void;
}

function Parked({ parked, api, canRetry, timeZone, requeued, onRetried }: ParkedProps) {
  const { t } = useLang();
  return (
    <section class="panel" data-testid="sync-parked">
      <h2 class="panel-title">
        {t('syncParkedTitle')} <span class="count">({parked.length})</span>
      </h2>
      {requeued && (
        <p class="notice notice-ok" role="status" data-testid="sync-requeued">
          ✓ {t('syncRequeued')}
        </p>
      )}
      {parked.length === 0 ? (
        <Empty text={t('syncParkedNone')} testid="parked-none" />
      ) : (
        <>
          <p class="muted">
            {t('syncParkedHint')}
            {!canRetry && ` ${t('syncParkedAdminOnly')}`}
          </p>
          <div class="table-wrap">
            <table class="devices sync-parked-table">
              <thead>
                <tr>
                  <th>{t('colStream')}</th>
                  <th>{t('colRecord')}</th>
                  <th>{t('colReason')}</th>
                  <th>{t('colParkedAt')}</th>
                  {canRetry && <th aria-label={t('syncSendAgain')} />}
                </tr>
              </thead>
              <tbody>
                {parked.map((p) => (
                  <ParkedRow key={p.seq} p={p} api={api} canRetry={canRetry} timeZone={timeZone} onRetried={onRetried} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function ParkedRow({ p, api, canRetry, timeZone, onRetried }: { p: ParkedRecordView; api: SyncApi; canRetry: boolean; timeZone: string | undefined; onRetried(r: SyncResponse): void }) {
  const { t, lang } = useLang();
  const action = useAction();
  const retry = async () => {
    const r = await action.run(`retry:${p.seq}`, () => api.retry(p.seq));
    if (r) onRetried(r);
  };
  return (
    <tr data-testid="parked-row" data-seq={p.seq}>
      <td class="nowrap" data-testid="parked-stream">
        {translateOpen(t, 'syncStream', p.stream)}
      </td>
      <td class="nowrap sync-record" title={p.recordId} data-testid="parked-record">
        {shortId(p.recordId)}
      </td>
      <td class="sync-reason" data-testid="parked-reason">
        {p.reason}
      </td>
      <td class="nowrap">{dateTime(p.parkedAt, lang, timeZone)}</td>
      {canRetry && (
        <td class="sync-retry-cell">
          <button type="button" class="btn big retry" data-testid="parked-retry" disabled={action.busy} onClick={() => void retry()}>
            ↻ {t('syncSendAgain')}
          </button>
          <FieldError text={action.error ? errorText(action.error, t) : null} testid="parked-retry-error" />
        </td>
      )}
    </tr>
  );
}
