// Worker and goods-out passes: issue them, let workers walk in and out, and sign off goods at the gate.
import { useState } from 'preact/hooks';
import type { EntryPointView, PassView } from '../contracts.ts';
import { shortTime } from '../format.ts';
import { useLang } from '../i18n.ts';
import { errorText, useAction } from './action.ts';
import { useGate, useLoaded } from './context.ts';
import { GoodsOutForm, WorkerPassForm } from './PassForms.tsx';
import { plateDisplay } from './rules.ts';
import { Empty, FieldError, Sheet } from './widgets.tsx';

const str = (p: PassView, k: string) => (typeof p.detail[k] === 'string' ? (p.detail[k] as string) : '');

/** Where a worker walks in (or out): the entry point of that direction, or the guard picks when there are several. */
function candidates(eps: EntryPointView[], move: 'enter' | 'leave'): EntryPointView[] {
  const dir = eps.filter((e) => e.direction === (move === 'enter' ? 'in' : 'out'));
  return dir.length > 0 ? dir : eps;
}

export function Passes() {
  const { t } = useLang();
  const { api } = useGate();
  const [form, setForm] = useState<'worker' | 'goods' | null>(null);
  const workers = useLoaded(() => api.passes('worker', 'active').then((r) => r.passes));
  const inside = useLoaded(() => api.passes('worker', 'inside').then((r) => r.passes));
  const goods = useLoaded(() => api.passes('goods-out', 'active').then((r) => r.passes));
  const reloadWorkers = () => {
    workers.reload();
    inside.reload();
  };
  // Workers inside are listed above with their "out" button; this list has the rest.
  const outside = (workers.data ?? []).filter((p) => !p.inside);

  return (
    <div class="stack">
      <div class="actions-row">
        <button type="button" class="btn big primary" data-testid="worker-new" onClick={() => setForm('worker')}>
          ＋ {t('workerPassNew')}
        </button>
        <button type="button" class="btn big primary" data-testid="goods-new" onClick={() => setForm('goods')}>
          ＋ {t('goodsPassNew')}
        </button>
      </div>
      <section class="panel" data-testid="workers-inside">
        <h2 class="panel-title">
          {t('workersInside')} <span class="count">({inside.data?.length ?? 0})</span>
        </h2>
        {inside.data?.length === 0 && <Empty text={t('workersInsideEmpty')} />}
        <ul class="rows">
          {inside.data?.map((p) => (
            <WorkerRow key={p.id} p={p} onMoved={reloadWorkers} />
          ))}
        </ul>
      </section>
      <section class="panel" data-testid="workers-active">
        <h2 class="panel-title">
          {t('workerPasses')} <span class="count">({outside.length})</span>
        </h2>
        {workers.failed && <p class="error">{t('loadFailed')}</p>}
        {workers.data && outside.length === 0 && <Empty text={t('workerPassesEmpty')} />}
        <ul class="rows">
          {outside.map((p) => (
            <WorkerRow key={p.id} p={p} onMoved={reloadWorkers} />
          ))}
        </ul>
      </section>
      <section class="panel" data-testid="goods-active">
        <h2 class="panel-title">
          {t('goodsPasses')} <span class="count">({goods.data?.length ?? 0})</span>
        </h2>
        {goods.failed && <p class="error">{t('loadFailed')}</p>}
        {goods.data?.length === 0 && <Empty text={t('goodsPassesEmpty')} />}
        <ul class="rows">
          {goods.data?.map((p) => (
            <GoodsRow key={p.id} p={p} onDone={() => goods.set((list) => (list ?? []).filter((x) => x.id !== p.id))} />
          ))}
        </ul>
      </section>
      {form === 'worker' && <WorkerPassForm onClose={() => setForm(null)} onIssued={reloadWorkers} />}
      {form === 'goods' && <GoodsOutForm onClose={() => setForm(null)} onIssued={() => goods.reload()} />}
    </div>
  );
}

function WorkerRow({ p, onMoved }: { p: PassView; onMoved(): void }) {
  const { t, lang } = useLang();
  const { api, info, tz } = useGate();
  const [choosing, setChoosing] = useState<'enter' | 'leave' | null>(null);
  const action = useAction();

  const move = async (how: 'enter' | 'leave', ep: string) => {
    const r = await action.run(`${how}:${p.id}`, (key) => api.passMove(p.id, how, ep, key));
    if (r) {
      setChoosing(null);
      onMoved();
    }
  };
  const start = (how: 'enter' | 'leave') => {
    const eps = candidates(info?.entryPoints ?? [], how);
    if (eps.length === 1 && eps[0]) void move(how, eps[0].id);
    else setChoosing(how);
  };

  return (
    <li class="row" data-testid="worker-pass" data-pass-id={p.id} data-inside={p.inside}>
      <div class="row-main">
        <strong>{p.holderName}</strong>
        {p.inside ? <span class="tag tag-warn">● {t('insideNow')}</span> : <span class="tag">○ {t('outsideNow')}</span>}
        <span class="visit-line">
          {t('unit')} <strong>{p.unitCode}</strong>
          {str(p, 'company') && ` · ${str(p, 'company')}`}
          {str(p, 'curfew') && ` · ${t('curfew')} ${str(p, 'curfew')}`}
        </span>
        <span class="visit-line muted">
          {t('passCode')} {p.code} · {t('slipValidUntil')} {shortTime(p.validUntil, lang, tz)}
        </span>
      </div>
      <div class="row-actions">
        <button type="button" class={p.inside ? 'btn big' : 'btn big go'} data-testid="worker-enter" disabled={action.busy || p.inside} onClick={() => start('enter')}>
          → {t('enter')}
        </button>
        <button type="button" class={p.inside ? 'btn big go' : 'btn big'} data-testid="worker-leave" disabled={action.busy || !p.inside} onClick={() => start('leave')}>
          ← {t('leave')}
        </button>
      </div>
      {action.error && !choosing && <FieldError text={errorText(action.error, t)} testid="worker-move-error" />}
      {choosing && (
        <Sheet title={t('pickEntryPoint')} onClose={() => (setChoosing(null), action.clear())} testid="pick-entry">
          <div class="reason-grid">
            {candidates(info?.entryPoints ?? [], choosing).map((ep) => (
              <button key={ep.id} type="button" class="reason-btn" disabled={action.busy} onClick={() => void move(choosing, ep.id)}>
                {ep.name}
              </button>
            ))}
          </div>
          <FieldError text={action.error && errorText(action.error, t)} testid="pick-entry-error" />
        </Sheet>
      )}
    </li>
  );
}

function GoodsRow({ p, onDone }: { p: PassView; onDone(): void }) {
  const { t, lang } = useLang();
  const { api, tz } = useGate();
  const [checking, setChecking] = useState(false);
  const action = useAction();
  const items = Array.isArray(p.detail.items) ? (p.detail.items as { name?: unknown; quantity?: unknown }[]) : [];
  const itemText = items.map((i) => `${String(i.name ?? '')} × ${String(i.quantity ?? '')}`);

  const signOff = async () => {
    const r = await action.run(`sign-off:${p.id}`, (key) => api.passSignOff(p.id, key));
    if (r) {
      setChecking(false);
      onDone();
    }
  };

  return (
    <li class="row" data-testid="goods-pass" data-pass-id={p.id}>
      <div class="row-main">
        <strong>
          {t('unit')} {p.unitCode}
        </strong>
        <span class="visit-line">{itemText.join('，')}</span>
        <span class="visit-line muted">
          {t('carrier')} {str(p, 'carrierName') || p.holderName}
          {p.plate && ` · ${plateDisplay(p.plate)}`} · {t('passCode')} {p.code} · {t('slipValidUntil')} {shortTime(p.validUntil, lang, tz)}
        </span>
      </div>
      <button type="button" class="btn big go" data-testid="goods-sign-off" onClick={() => setChecking(true)}>
        ✓ {t('signOff')}
      </button>
      {checking && (
        <Sheet title={t('signOffTitle')} onClose={() => (setChecking(false), action.clear())} testid="goods-check">
          <p class="lead">{t('signOffHint')}</p>
          <ul class="check-items">
            {itemText.map((x) => (
              <li key={x}>☐ {x}</li>
            ))}
          </ul>
          {p.plate && (
            <p>
              {t('plate')}: <strong>{plateDisplay(p.plate)}</strong>
            </p>
          )}
          <FieldError text={action.error && errorText(action.error, t)} testid="goods-check-error" />
          <button type="button" class="btn huge go" data-testid="goods-sign-off-confirm" disabled={action.busy} onClick={() => void signOff()}>
            ✓ {t('signOffConfirm')}
          </button>
        </Sheet>
      )}
    </li>
  );
}
