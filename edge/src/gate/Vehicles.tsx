// The vehicle queue (pending decisions the guard opens or refuses), the manual barrier open per entry point,
// and what the barrier did about the guard's last actions.
import { useState } from 'preact/hooks';
import { loadSession } from '../api.ts';
import type { DecisionView, EntryPointView } from '../contracts.ts';
import { timeOfDay } from '../format.ts';
import { translateOpen, translator, useLang, type MsgKey, type Translate } from '../i18n.ts';
import { errorText, useAction } from './action.ts';
import { useGate } from './context.ts';
import { Empty, FieldError, PlateBox, ReasonSheet } from './widgets.tsx';
import { SnapshotThumb } from '../video/Snapshot.tsx';

const refusals: MsgKey[] = ['refuse.noConfirm', 'refuse.residentRefused', 'refuse.noId', 'refuse.watchlist', 'refuse.noParking', 'refuse.other'];
// Records are read at the management office in Chinese: reasons are stored in zh-CN whatever the screen shows.
const zh = translator('zh-CN');

export function Vehicles({ queue, failed, recent, onDecision }: { queue: DecisionView[]; failed: boolean; recent: DecisionView[]; onDecision(d: DecisionView): void }) {
  const { t, lang } = useLang();
  const { info, tz } = useGate();
  return (
    <div class="stack">
      <section class="panel" data-testid="manual-open">
        <h2 class="panel-title">{t('manualOpenTitle')}</h2>
        {!info && <p class="muted">{t('loading')}</p>}
        {info?.entryPoints.length === 0 && <Empty text={t('noEntryPoints')} />}
        <div class="entry-points">
          {info?.entryPoints.map((ep) => (
            <EntryPointCard key={ep.id} ep={ep} result={recent.find((d) => d.entryPoint === ep.id && d.credentialKind === 'manual')} onDecision={onDecision} />
          ))}
        </div>
      </section>
      <section class="panel" data-testid="vehicle-queue">
        <h2 class="panel-title">
          {t('queueTitle')} <span class="count">({queue.length})</span>
        </h2>
        {failed && <p class="error">{t('loadFailed')}</p>}
        {queue.length === 0 ? <Empty text={t('queueEmpty')} testid="queue-empty" /> : queue.map((d) => <DecisionCard key={d.id} d={d} onDecision={onDecision} />)}
      </section>
      {recent.length > 0 && (
        <section class="panel" data-testid="barrier-recent">
          <h2 class="panel-title">{t('recentTitle')}</h2>
          <ul class="rows">
            {recent.map((d) => (
              <li key={d.id} class="row" data-testid="recent-decision" data-decision-id={d.id} data-barrier={d.barrierStatus}>
                <span class="row-main">
                  <strong>{d.credentialKind === 'plate' ? d.credential : translateOpen(t, 'credential', d.credentialKind)}</strong> · {d.entryPointName} · {timeOfDay(d.at, lang, tz)}
                  {d.resolution && <span class="muted"> · {d.resolution}</span>}
                </span>
                <SnapshotThumb kind="decision" subjectId={d.id} testid="recent-camera-snapshot" />
                <BarrierResult d={d} onDecision={onDecision} />
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function DecisionCard({ d, onDecision }: { d: DecisionView; onDecision(d: DecisionView): void }) {
  const { t, lang } = useLang();
  const { api, info, tz } = useGate();
  const [picking, setPicking] = useState<'open' | 'refuse' | null>(null);
  const action = useAction();

  const resolve = async (how: 'open' | 'refuse', reason: string) => {
    const r = await action.run(`resolve:${d.id}`, (key) => api.resolveDecision(d.id, how, reason, key));
    if (r) {
      setPicking(null);
      onDecision(r.decision);
    }
  };

  return (
    <article class="decision-card" data-testid="decision-card" data-decision-id={d.id}>
      <div class="decision-info">
        {d.credentialKind === 'plate' ? (
          <PlateBox plate={d.credential} size="card" testid="decision-plate" />
        ) : (
          <span class="decision-cred">
            {translateOpen(t, 'credential', d.credentialKind)} {d.credential}
          </span>
        )}
        <p class="decision-reason" data-testid="decision-reason">
          ⚠ {translateOpen(t, 'decisionReason', d.reason)}
        </p>
        <p class="decision-meta">
          {d.entryPointName} · {translateOpen(t, 'direction', d.direction)} · {timeOfDay(d.at, lang, tz)}
        </p>
        {(d.subjectName || d.list) && (
          <p class="decision-meta muted">
            {[d.subjectName, d.list && (info?.lists.find((l) => l.id === d.list)?.name ?? d.list)].filter(Boolean).join(' · ')}
          </p>
        )}
        <SnapshotThumb kind="decision" subjectId={d.id} testid="decision-camera-snapshot" />
      </div>
      <div class="snapshot" data-testid="decision-snapshot">
        {d.snapshot ? <img src={`${d.snapshot}?token=${encodeURIComponent(loadSession()?.token ?? '')}`} alt={t('snapshot')} /> : <span>{t('noSnapshot')}</span>}
      </div>
      <div class="decision-actions">
        <button type="button" class="btn big go" data-testid="decision-open" onClick={() => setPicking('open')}>
          ▲ {t('openBarrier')}
        </button>
        <button type="button" class="btn big stop" data-testid="decision-refuse" onClick={() => setPicking('refuse')}>
          ✕ {t('refuse')}
        </button>
      </div>
      {action.error && !picking && <FieldError text={errorText(action.error, t)} testid="decision-error" />}
      {picking === 'open' && (
        <ReasonSheet
          title={t('openReasonTitle', { what: d.credential })}
          reasons={info?.manualOpenReasons ?? []}
          tone="go"
          busy={action.busy}
          error={action.error && errorText(action.error, t)}
          testid="open-reasons"
          onPick={(r) => void resolve('open', r)}
          onClose={() => (setPicking(null), action.clear())}
        />
      )}
      {picking === 'refuse' && (
        <ReasonSheet
          title={t('refuseReasonTitle', { what: d.credential })}
          reasons={refusals.map((k) => t(k))}
          tone="stop"
          busy={action.busy}
          error={action.error && errorText(action.error, t)}
          testid="refuse-reasons"
          onPick={(r, i) => {
            const key = refusals[i];
            void resolve('refuse', key ? zh(key) : r);
          }}
          onClose={() => (setPicking(null), action.clear())}
        />
      )}
    </article>
  );
}

function EntryPointCard({ ep, result, onDecision }: { ep: EntryPointView; result: DecisionView | undefined; onDecision(d: DecisionView): void }) {
  const { t } = useLang();
  const { api, info } = useGate();
  const [picking, setPicking] = useState(false);
  const action = useAction();

  const open = async (reason: string) => {
    // One key per tap on the big button: picking a reason after a failed try resends the same request.
    const r = await action.run(`open:${ep.id}`, (key) => api.manualOpen(ep.id, reason, key));
    if (r) {
      setPicking(false);
      onDecision(r.decision);
    }
  };

  return (
    <div class="entry-point" data-testid={`entry-${ep.id}`}>
      <div class="ep-info">
        <strong class="ep-name">{ep.name}</strong>
        <span class="muted">
          {translateOpen(t, 'direction', ep.direction)}
          {ep.barrierState && ` · ${t('barrierState')}: ${barrierStateText(t, ep.barrierState)}`}
        </span>
      </div>
      <button type="button" class="btn big go" data-testid={`manual-open-${ep.id}`} disabled={!ep.barrier} onClick={() => setPicking(true)}>
        ▲ {t('manualOpen')}
      </button>
      {!ep.barrier && <span class="muted">{t('noBarrier')}</span>}
      {result && (
        <div class="ep-result" data-testid={`manual-result-${ep.id}`}>
          <BarrierResult d={result} onDecision={onDecision} />
        </div>
      )}
      {action.error && !picking && <FieldError text={errorText(action.error, t)} testid={`manual-error-${ep.id}`} />}
      {picking && (
        <ReasonSheet
          title={t('manualOpenReasonTitle', { name: ep.name })}
          reasons={info?.manualOpenReasons ?? []}
          tone="go"
          busy={action.busy}
          error={action.error && errorText(action.error, t)}
          testid="manual-reasons"
          onPick={(r) => void open(r)}
          onClose={() => (setPicking(false), action.clear())}
        />
      )}
    </div>
  );
}

/** The barrier device's state (online, offline...) or its position (up, down), in words. */
function barrierStateText(t: Translate, state: string): string {
  const asDevice = translateOpen(t, 'state', state);
  return asDevice !== state ? asDevice : translateOpen(t, 'barrier', state);
}

/** What the barrier did: sent, opened, failed (with a retry) — as a symbol and words, not colour alone. */
export function BarrierResult({ d, onDecision }: { d: DecisionView; onDecision(d: DecisionView): void }) {
  const { t } = useLang();
  const { api } = useGate();
  const action = useAction();
  const retry = async () => {
    const r = await action.run(`retry:${d.id}`, (key) => api.retryDecision(d.id, key));
    if (r) onDecision(r.decision);
  };
  const icon = { none: '–', sent: '…', opened: '✓', failed: '✕' }[d.barrierStatus];
  return (
    <span class={`barrier-result bs-${d.barrierStatus}`} data-testid="barrier-status" data-status={d.barrierStatus}>
      <span class="bs-text">
        {icon} {t(`barrierStatus.${d.barrierStatus}`)}
        {d.barrierStatus === 'failed' && d.barrierDetail && <span class="muted"> ({d.barrierDetail})</span>}
      </span>
      {d.barrierStatus === 'failed' && (
        <button type="button" class="btn retry" data-testid="barrier-retry" disabled={action.busy} onClick={() => void retry()}>
          ↻ {t('retry')}
        </button>
      )}
      {action.error && <FieldError text={errorText(action.error, t)} testid="retry-error" />}
    </span>
  );
}
