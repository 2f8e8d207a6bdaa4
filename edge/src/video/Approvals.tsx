// Review approvals (调阅审批): requests waiting for the supervisor (who, which cameras, what span, why) with
// approve for a chosen time or deny with a reason, and the reviews running now, which can be revoked.
import { useMemo, useState } from 'preact/hooks';
import type { CameraView, GrantView } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { useAction } from '../gate/action.ts';
import { useLive, useNow } from '../gate/context.ts';
import { Chips, Empty, FieldError, ReasonSheet } from '../gate/widgets.tsx';
import { translator, useLang, type MsgKey, type Translate } from '../i18n.ts';
import { useQuery } from '../patrol/context.ts';
import { cameraName, spanText, useCameras, videoErrorText } from './common.ts';
import { GrantStatusTag } from './Playback.tsx';
import { videoApi, type VideoApi } from './videoApi.ts';
import '../gate/gate.css';
import '../patrol/patrol.css';
import './video.css';

const zh = translator('zh-CN');
const denials: MsgKey[] = ['deny.noReason', 'deny.tooWide', 'deny.notNeeded', 'deny.askFirst', 'deny.other'];
const durations = [30, 60, 120, 240] as const;

/** How many requests wait for a supervisor, kept current by the live socket; 0 for anyone else (nothing is asked). */
export function usePendingCount(token: string, supervisor: boolean): number {
  const api = useMemo(() => videoApi(token), [token]);
  const q = useQuery(`pending-count|${supervisor}`, () => (supervisor ? api.grants({ status: 'pending' }) : Promise.resolve([])), 60_000);
  useLive((msg) => {
    if (supervisor && msg.type === 'video.grant') q.set((l) => (msg.grant.status === 'pending' ? [...without(l, msg.grant.id), msg.grant] : without(l, msg.grant.id)));
  });
  return q.data?.length ?? 0;
}

function without(list: GrantView[] | null, id: string): GrantView[] {
  return (list ?? []).filter((g) => g.id !== id);
}

export function Approvals({ token, timeZone }: { token: string; timeZone: string | undefined }) {
  const { t } = useLang();
  const api = useMemo(() => videoApi(token), [token]);
  const cams = useCameras(api);
  const now = useNow(30_000);
  const pending = useQuery('grants|pending', () => api.grants({ status: 'pending' }), 30_000);
  const active = useQuery('grants|approved', () => api.grants({ status: 'approved' }), 60_000);

  // Each grant sits in the list of its status: a decision anywhere moves it at once.
  const place = (g: GrantView) => {
    pending.set((l) => (g.status === 'pending' ? [...without(l, g.id), g] : without(l, g.id)));
    active.set((l) => (g.status === 'approved' ? [...without(l, g.id), g] : without(l, g.id)));
  };
  useLive((msg) => msg.type === 'video.grant' && place(msg.grant));

  const waiting = [...(pending.data ?? [])].sort((a, b) => a.requestedAt - b.requestedAt);
  const running = [...(active.data ?? [])].filter((g) => g.validUntil === null || g.validUntil > now).sort((a, b) => (a.validUntil ?? 0) - (b.validUntil ?? 0));

  return (
    <div class="approvals stack" data-testid="approvals">
      <section class="panel" data-testid="pending-grants">
        <h2 class="panel-title">
          {t('pendingGrants')} <span class="count">({waiting.length})</span>
        </h2>
        {pending.error && <p class="error">{videoErrorText(pending.error, t)}</p>}
        {!pending.data && !pending.error && <p class="muted">{t('loading')}</p>}
        {pending.data && waiting.length === 0 && <Empty text={t('pendingEmpty')} testid="pending-empty" />}
        <div class="stack">
          {waiting.map((g) => (
            <PendingCard key={g.id} g={g} api={api} cameras={cams.data} tz={timeZone} onDecided={place} />
          ))}
        </div>
      </section>
      <section class="panel" data-testid="active-grants">
        <h2 class="panel-title">
          {t('activeGrants')} <span class="count">({running.length})</span>
        </h2>
        {active.error && <p class="error">{videoErrorText(active.error, t)}</p>}
        {active.data && running.length === 0 && <Empty text={t('activeEmpty')} />}
        <ul class="rows">
          {running.map((g) => (
            <ActiveRow key={g.id} g={g} api={api} cameras={cams.data} tz={timeZone} now={now} onDecided={place} />
          ))}
        </ul>
      </section>
    </div>
  );
}

function GrantFacts({ g, cameras, tz }: { g: GrantView; cameras: CameraView[] | null; tz: string | undefined }) {
  const { t, lang } = useLang();
  return (
    <dl class="summary grant-facts">
      <div class="summary-row">
        <dt>{t('grantWho')}</dt>
        <dd data-testid="grant-who">
          <strong>{g.requestedByName}</strong> <span class="muted">{dateTime(g.requestedAt, lang, tz)}</span>
        </dd>
      </div>
      <div class="summary-row">
        <dt>{t('pbCameras')}</dt>
        <dd data-testid="grant-cameras">{g.cameras.map((c) => cameraName(cameras, c)).join('、')}</dd>
      </div>
      <div class="summary-row">
        <dt>{t('pbSpan')}</dt>
        <dd data-testid="grant-span">{spanText(g.start, g.end, lang, tz)}</dd>
      </div>
      <div class="summary-row">
        <dt>{t('pbReason')}</dt>
        <dd data-testid="grant-reason">{g.reason}</dd>
      </div>
    </dl>
  );
}

function PendingCard({ g, api, cameras, tz, onDecided }: { g: GrantView; api: VideoApi; cameras: CameraView[] | null; tz: string | undefined; onDecided(g: GrantView): void }) {
  const { t } = useLang();
  // The approver may shorten what was asked, never lengthen it (the gateway checks too).
  const options = [...new Set([...durations.filter((d) => d <= g.minutes), g.minutes])].sort((a, b) => a - b);
  const [minutes, setMinutes] = useState<number>(g.minutes);
  const [denying, setDenying] = useState(false);
  const action = useAction();

  const approve = async () => {
    const r = await action.run(`approve:${g.id}`, (key) => api.approve(g.id, { minutes }, key));
    if (r) onDecided(r);
  };
  const deny = async (note: string) => {
    const r = await action.run(`deny:${g.id}`, (key) => api.deny(g.id, note, key));
    if (r) {
      setDenying(false);
      onDecided(r);
    }
  };

  return (
    <article class="grant-card" data-testid="pending-grant" data-grant-id={g.id}>
      <GrantFacts g={g} cameras={cameras} tz={tz} />
      <div class="field">
        <span class="field-label">{t('approveFor')}</span>
        <Chips options={options.map((m) => ({ value: String(m), label: durationText(t, m) }))} value={String(minutes)} onChange={(v) => setMinutes(Number(v))} testid="approve-minutes" />
      </div>
      <div class="decision-actions">
        <button type="button" class="btn big go" data-testid="grant-approve" disabled={action.busy} onClick={() => void approve()}>
          ✓ {t('approve')}
        </button>
        <button type="button" class="btn big stop" data-testid="grant-deny" disabled={action.busy} onClick={() => setDenying(true)}>
          ✕ {t('deny')}
        </button>
      </div>
      {action.error && !denying && <FieldError text={videoErrorText(action.error, t)} testid="grant-error" />}
      {denying && (
        <ReasonSheet
          title={t('denyTitle', { who: g.requestedByName })}
          reasons={denials.map((k) => t(k))}
          tone="stop"
          busy={action.busy}
          error={action.error && videoErrorText(action.error, t)}
          testid="deny-reasons"
          onPick={(_r, i) => {
            const key = denials[i];
            if (key) void deny(zh(key));
          }}
          onClose={() => (setDenying(false), action.clear())}
        />
      )}
    </article>
  );
}

function ActiveRow({ g, api, cameras, tz, now, onDecided }: { g: GrantView; api: VideoApi; cameras: CameraView[] | null; tz: string | undefined; now: number; onDecided(g: GrantView): void }) {
  const { t, lang } = useLang();
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const revoke = async () => {
    const r = await action.run(`revoke:${g.id}`, (key) => api.revoke(g.id, key));
    if (r) onDecided(r);
  };
  return (
    <li class="row" data-testid="active-grant" data-grant-id={g.id}>
      <div class="row-main">
        <GrantStatusTag g={g} now={now} tz={tz} />
        <strong>{g.requestedByName}</strong>
        <span>{spanText(g.start, g.end, lang, tz)}</span>
        <span class="muted">{g.cameras.map((c) => cameraName(cameras, c)).join('、')}</span>
        {g.selfGranted && <span class="tag">{t('selfGranted')}</span>}
        <span class="visit-line">{g.reason}</span>
      </div>
      <div class="row-actions">
        {confirming ? (
          <>
            <button type="button" class="btn big stop" data-testid="grant-revoke-confirm" disabled={action.busy} onClick={() => void revoke()}>
              ✕ {t('revokeConfirm')}
            </button>
            <button type="button" class="btn big" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </>
        ) : (
          <button type="button" class="btn big" data-testid="grant-revoke" onClick={() => setConfirming(true)}>
            {t('revoke')}
          </button>
        )}
      </div>
      {action.error && <FieldError text={videoErrorText(action.error, t)} testid="revoke-error" />}
    </li>
  );
}

function durationText(t: Translate, minutes: number): string {
  return minutes % 60 === 0 ? t('hoursN', { n: String(minutes / 60) }) : t('minutesN', { n: String(minutes) });
}
