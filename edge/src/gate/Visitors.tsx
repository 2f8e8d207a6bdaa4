// Visitors inside the compound (sign them out; overdue ones marked red and in words) and registered
// visitors still waiting for the resident's confirmation.
import { useState } from 'preact/hooks';
import type { ConfirmationMethod, VisitView } from '../contracts.ts';
import { shortTime } from '../format.ts';
import { useLang } from '../i18n.ts';
import { errorText, useAction } from './action.ts';
import { ConfirmControls, notConfirmedReason, OverrideSheet, passForVisit } from './Confirm.tsx';
import { useGate, useLive, useLoaded, useNow } from './context.ts';
import { PassSlip } from './PassSlip.tsx';
import { reasonLabel } from './reasons.ts';
import { plateDisplay } from './rules.ts';
import { Empty, FieldError, FullScreen } from './widgets.tsx';

function useVisits(status: 'inside' | 'open', keep: (v: VisitView) => boolean) {
  const { api } = useGate();
  // "open" on the gateway also counts visitors already inside: each list keeps only its own.
  const list = useLoaded(() => api.visits(status).then((r) => r.visits.filter(keep)), 30_000);
  useLive((msg) => {
    if (msg.type !== 'gate.visit') return;
    const v = msg.visit;
    list.set((prev) => {
      const rest = (prev ?? []).filter((x) => x.id !== v.id);
      return keep(v) ? [v, ...rest] : rest;
    });
  });
  return list;
}

export function Visitors({ onRegister }: { onRegister(): void }) {
  const { t } = useLang();
  const inside = useVisits('inside', (v) => v.status === 'inside');
  const waiting = useVisits('open', (v) => v.status === 'registered' || v.status === 'confirmed');
  const [slipFor, setSlipFor] = useState<VisitView | null>(null);
  const now = useNow();
  const insideList = [...(inside.data ?? [])].sort((a, b) => a.expectedLeaveAt - b.expectedLeaveAt);

  const gotPass = (v: VisitView) => {
    waiting.set((prev) => (prev ?? []).filter((x) => x.id !== v.id));
    inside.set((prev) => [v, ...(prev ?? []).filter((x) => x.id !== v.id)]);
    setSlipFor(v);
  };

  return (
    <div class="stack">
      {(waiting.data?.length ?? 0) > 0 && (
        <section class="panel" data-testid="visitors-waiting">
          <h2 class="panel-title">
            {t('waitingTitle')} <span class="count">({waiting.data?.length})</span>
          </h2>
          <ul class="rows">
            {waiting.data?.map((v) => <WaitingRow key={v.id} v={v} onPass={gotPass} />)}
          </ul>
        </section>
      )}
      <section class="panel" data-testid="visitors-inside">
        <h2 class="panel-title">
          {t('insideTitle')} <span class="count">({insideList.length})</span>
        </h2>
        {inside.failed && <p class="error">{t('loadFailed')}</p>}
        {inside.data && insideList.length === 0 && (
          <div class="empty-cta">
            <Empty text={t('insideEmpty')} testid="inside-empty" />
            <button type="button" class="btn big primary" onClick={onRegister}>
              ＋ {t('registerVisitor')}
            </button>
          </div>
        )}
        <ul class="rows">
          {insideList.map((v) => (
            <InsideRow key={v.id} v={v} now={now} onGone={() => inside.set((prev) => (prev ?? []).filter((x) => x.id !== v.id))} />
          ))}
        </ul>
      </section>
      {slipFor?.pass && <SlipScreen visit={slipFor} onClose={() => setSlipFor(null)} />}
    </div>
  );
}

function InsideRow({ v, now, onGone }: { v: VisitView; now: number; onGone(): void }) {
  const { t, lang } = useLang();
  const { api, tz } = useGate();
  const [asking, setAsking] = useState(false);
  const action = useAction();
  const overdue = v.overstay || now > v.expectedLeaveAt;

  const signOut = async () => {
    const r = await action.run(`sign-out:${v.id}`, (key) => api.signOut(v.id, key));
    if (r) onGone();
  };

  return (
    <li class={overdue ? 'row visit overdue' : 'row visit'} data-testid="inside-visit" data-visit-id={v.id} data-overdue={overdue}>
      <div class="row-main">
        <strong class="visit-name" data-testid="inside-name">
          {v.name}
        </strong>
        {v.headcount > 1 && <span class="muted"> {t('slipPeople', { n: String(v.headcount) })}</span>}
        <span class="visit-line">
          {t('hostUnit')} <strong>{v.hostUnitCode}</strong>
          {v.hostName && ` · ${v.hostName}`} · {reasonLabel(t, v.reason)}
          {v.plate && ` · ${plateDisplay(v.plate)}`}
        </span>
        <span class="visit-line">
          {t('since')} {shortTime(v.enteredAt ?? v.registeredAt, lang, tz)} · {t('expectedLeave')}{' '}
          <strong class={overdue ? 'overdue-time' : ''} data-testid="inside-leave">
            {shortTime(v.expectedLeaveAt, lang, tz)}
          </strong>
          {overdue && (
            <span class="tag tag-bad" data-testid="overdue-tag">
              ⚠ {t('overdue')}
            </span>
          )}
        </span>
      </div>
      {asking ? (
        <div class="row-actions">
          <button type="button" class="btn big stop" data-testid="sign-out-confirm" disabled={action.busy} onClick={() => void signOut()}>
            {t('signOutConfirm')}
          </button>
          <button type="button" class="btn" data-testid="sign-out-cancel" onClick={() => (setAsking(false), action.clear())}>
            {t('cancel')}
          </button>
        </div>
      ) : (
        <button type="button" class="btn big" data-testid="sign-out" onClick={() => setAsking(true)}>
          ⇥ {t('signOut')}
        </button>
      )}
      {action.error && <FieldError text={errorText(action.error, t)} testid="sign-out-error" />}
    </li>
  );
}

function WaitingRow({ v, onPass }: { v: VisitView; onPass(v: VisitView): void }) {
  const { t, lang } = useLang();
  const { tz } = useGate();
  const [open, setOpen] = useState(false);
  return (
    <li class="row" data-testid="waiting-visit" data-visit-id={v.id}>
      <div class="row-main">
        <strong>{v.name}</strong>
        <span class="visit-line">
          {t('hostUnit')} <strong>{v.hostUnitCode}</strong>
          {v.hostName && ` · ${v.hostName}`} · {reasonLabel(t, v.reason)} · {t('registeredAt')} {shortTime(v.registeredAt, lang, tz)}
        </span>
        <span class={v.status === 'confirmed' ? 'tag tag-ok' : 'tag tag-warn'}>{v.status === 'confirmed' ? `✓ ${t('visitConfirmed')}` : `… ${t('visitUnconfirmed')}`}</span>
      </div>
      <button type="button" class="btn big primary" data-testid="waiting-issue" onClick={() => setOpen(true)}>
        {v.status === 'confirmed' ? t('issuePass') : t('confirmAndIssue')}
      </button>
      {open && <ConfirmScreen visit={v} onClose={() => setOpen(false)} onPass={onPass} />}
    </li>
  );
}

/** Confirm an already registered visit (or issue its pass when it is confirmed). */
function ConfirmScreen({ visit, onClose, onPass }: { visit: VisitView; onClose(): void; onPass(v: VisitView): void }) {
  const { t } = useLang();
  const { api, person } = useGate();
  const [method, setMethod] = useState<ConfirmationMethod | null>(null);
  const [confirmedBy, setConfirmedBy] = useState(visit.hostName ?? '');
  const [overriding, setOverriding] = useState(false);
  const action = useAction();
  const needs = visit.status === 'registered' ? notConfirmedReason(method, confirmedBy) : null;
  const supervisor = person.role === 'supervisor';

  const issue = async (how: Parameters<typeof passForVisit>[3]) => {
    const v = await passForVisit(api, action, visit, how);
    if (v?.pass) onPass(v);
  };

  return (
    <FullScreen title={t('confirmTitle', { name: visit.name })} onClose={onClose} testid="confirm-screen">
      <p class="lead">
        {t('hostUnit')} <strong>{visit.hostUnitCode}</strong> {visit.hostName ?? ''}
      </p>
      {visit.status === 'registered' && <ConfirmControls method={method} onMethod={setMethod} confirmedBy={confirmedBy} onConfirmedBy={setConfirmedBy} />}
      <FieldError text={action.error && errorText(action.error, t)} testid="confirm-error" />
      <div class="actions-row">
        <button type="button" class="btn huge primary" data-testid="issue-pass" disabled={!!needs || action.busy} onClick={() => method && void issue({ method, confirmedBy: confirmedBy.trim() })}>
          {t('issuePass')}
        </button>
        {needs && <p class="why-disabled">ⓘ {t(needs)}</p>}
        {supervisor && needs && (
          <button type="button" class="btn big warn-btn" data-testid="supervisor-override" onClick={() => setOverriding(true)}>
            {t('supervisorOverride')}
          </button>
        )}
      </div>
      {overriding && <OverrideSheet action={action} onClose={() => setOverriding(false)} onSubmit={(note) => void issue({ override: note })} />}
    </FullScreen>
  );
}

function SlipScreen({ visit, onClose }: { visit: VisitView; onClose(): void }) {
  const { t } = useLang();
  const { tz, siteName } = useGate();
  if (!visit.pass) return null;
  return (
    <FullScreen title={t('slipTitle')} onClose={onClose} testid="slip-screen" closeLabel={t('done')}>
      <PassSlip pass={visit.pass} siteName={siteName} timeZone={tz} />
    </FullScreen>
  );
}
