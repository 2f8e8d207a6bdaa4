// The control room (监控室): the open alarms first (the gate's list, patrol incidents and missed points
// among them), then the current round of every route today as a compact timeline, then the devices.
import { useMemo, useState } from 'preact/hooks';
import type { AlarmView, DeviceView, PersonView, RoundView, StopView } from '../contracts.ts';
import { DeviceLights } from '../Devices.tsx';
import { useLang } from '../i18n.ts';
import { Alarms } from '../gate/Alarms.tsx';
import { GateContext, useLive, useLoaded, useNow, type GateState } from '../gate/context.ts';
import { gateApi } from '../gate/gateApi.ts';
import { localDate } from '../gate/rules.ts';
import { Empty } from '../gate/widgets.tsx';
import { loadErrorText, TzContext, usePatrolLive, useQuery } from './context.ts';
import { patrolApi } from './patrolApi.ts';
import { currentRound, percent } from './status.ts';
import { StopSheet } from './StopSheet.tsx';
import { Legend, Timeline } from './Timeline.tsx';
import '../gate/gate.css';
import './patrol.css';

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.map((x) => (x.id === item.id ? item : x)) : [item, ...list];
}

export function ControlRoom({ token, person, timeZone, siteName, devices }: { token: string; person: PersonView; timeZone: string | undefined; siteName: string; devices: DeviceView[] }) {
  const { t } = useLang();
  const gate = useMemo(() => gateApi(token), [token]);
  const api = useMemo(() => patrolApi(token), [token]);
  const now = useNow(30_000);
  const today = localDate(now, timeZone);
  const alarms = useLoaded(() => gate.openAlarms().then((r) => r.alarms), 30_000);
  const day = useQuery(today, () => api.day({ date: today }), 30_000);
  const [picked, setPicked] = useState<{ round: RoundView; stop: StopView } | null>(null);

  useLive((msg) => {
    if (msg.type !== 'alarm') return;
    const a = msg.alarm;
    alarms.set((list) => (a.resolvedAt === null ? upsert(list ?? [], a) : (list ?? []).filter((x) => x.id !== a.id)));
  });
  usePatrolLive(day.reload, true);
  const resolved = (a: AlarmView) => alarms.set((list) => (list ?? []).filter((x) => x.id !== a.id));

  // One round per route: the one under way, else the last one that started today, else the next.
  const current = useMemo(() => {
    const byRoute = new Map<string, RoundView[]>();
    for (const r of day.data?.rounds ?? []) byRoute.set(r.route, [...(byRoute.get(r.route) ?? []), r]);
    return [...byRoute.values()].map((rs) => currentRound(rs, now)).filter((r): r is RoundView => !!r);
  }, [day.data, now]);

  const state: GateState = { api: gate, info: null, tz: timeZone, siteName, person };
  const sum = day.data?.summary;

  return (
    <GateContext.Provider value={state}>
      <TzContext.Provider value={timeZone}>
        <div class="patrol control" data-testid="control-room">
          <Alarms alarms={alarms.data ?? []} failed={alarms.failed} onResolved={resolved} />
          <section class="panel" data-testid="control-patrol">
            <div class="panel-head">
              <h2 class="panel-title">{t('controlPatrolTitle')}</h2>
              {sum && (
                <span class="control-sum">
                  <span class="tag">{t('controlCompletion', { p: percent(sum.completionRate) })}</span>
                  <span class={sum.missed > 0 ? 'tag tag-bad' : 'tag tag-ok'} data-testid="control-missed" data-missed={sum.missed}>
                    {sum.missed > 0 ? '✕ ' : '✓ '}
                    {t('controlMissedToday', { n: String(sum.missed) })}
                  </span>
                </span>
              )}
            </div>
            {day.error && <p class="error">{loadErrorText(day.error, t)}</p>}
            {!day.data && !day.error && <p class="muted">{t('loading')}</p>}
            {day.data && current.length === 0 && <Empty text={t('controlNoRounds')} testid="control-no-rounds" />}
            {current.length > 0 && (
              <>
                <Timeline rounds={current} testid="control-timeline" onPick={(round, stop) => setPicked({ round, stop })} />
                <Legend />
              </>
            )}
          </section>
          <DeviceLights devices={devices} />
        </div>
        {picked && <StopSheet round={picked.round} stop={picked.stop} api={null} canExplain={false} onClose={() => setPicked(null)} />}
      </TzContext.Provider>
    </GateContext.Provider>
  );
}
