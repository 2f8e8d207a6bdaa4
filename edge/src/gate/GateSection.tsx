// The guard's gate section: the vehicle queue and barrier, visitors, passes, alarms and the shift, as tabs;
// the visitor registration as a full-screen flow over them.
import { useMemo, useState } from 'preact/hooks';
import type { AlarmView, DecisionView, DeviceView, PersonView } from '../contracts.ts';
import { DeviceLights } from '../Devices.tsx';
import { useLang } from '../i18n.ts';
import { Alarms } from './Alarms.tsx';
import { GateContext, isPendingDecision, useLive, useLoaded, type GateState } from './context.ts';
import { gateApi } from './gateApi.ts';
import { Incident } from '../patrol/Incident.tsx';
import { Passes } from './Passes.tsx';
import { Register } from './Register.tsx';
import { Shift } from './Shift.tsx';
import { Vehicles } from './Vehicles.tsx';
import { Visitors } from './Visitors.tsx';
import './gate.css';

type Tab = 'vehicles' | 'visitors' | 'passes' | 'alarms' | 'shift';
const tabs: Tab[] = ['vehicles', 'visitors', 'passes', 'alarms', 'shift'];
const maxRecent = 6;

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.map((x) => (x.id === item.id ? item : x)) : [item, ...list];
}

export function GateSection({ token, person, timeZone, siteName, devices }: { token: string; person: PersonView; timeZone: string | undefined; siteName: string; devices: DeviceView[] }) {
  const { t } = useLang();
  const api = useMemo(() => gateApi(token), [token]);
  const [tab, setTab] = useState<Tab>('vehicles');
  const [registering, setRegistering] = useState(false);
  const [reporting, setReporting] = useState(false);
  const info = useLoaded(() => api.info(), 60_000);
  const pending = useLoaded(() => api.pendingDecisions().then((r) => r.decisions), 20_000);
  const alarms = useLoaded(() => api.openAlarms().then((r) => r.alarms), 30_000);
  // Decisions this screen acted on (a resolve, a manual open): kept to show what the barrier did.
  const [recent, setRecent] = useState<DecisionView[]>([]);

  useLive((msg) => {
    if (msg.type === 'gate.decision') {
      const d = msg.decision;
      pending.set((list) => {
        const rest = (list ?? []).filter((x) => x.id !== d.id);
        return isPendingDecision(d) ? [d, ...rest] : rest;
      });
      setRecent((list) => (list.some((x) => x.id === d.id) ? upsert(list, d) : list));
    } else if (msg.type === 'alarm') {
      const a = msg.alarm;
      alarms.set((list) => (a.resolvedAt === null ? upsert(list ?? [], a) : (list ?? []).filter((x) => x.id !== a.id)));
    }
  });

  const track = (d: DecisionView) => {
    setRecent((list) => upsert(list, d).slice(0, maxRecent));
    if (!isPendingDecision(d)) pending.set((list) => (list ?? []).filter((x) => x.id !== d.id));
  };
  const resolvedAlarm = (a: AlarmView) => alarms.set((list) => (list ?? []).filter((x) => x.id !== a.id));

  const state: GateState = { api, info: info.data, tz: timeZone, siteName, person };
  const queue = [...(pending.data ?? [])].sort((a, b) => b.at - a.at);
  const openAlarms = alarms.data ?? [];
  const count: Partial<Record<Tab, number>> = { vehicles: queue.length, alarms: openAlarms.length };

  return (
    <GateContext.Provider value={state}>
      <div class="gate" data-testid="gate">
        <div class="gate-head">
          <h1 class="section-title">{t('section.gate')}</h1>
          <button type="button" class="btn warn-btn register-btn" data-testid="incident-start" onClick={() => setReporting(true)}>
            ⚠ {t('incidentStart')}
          </button>
          <button type="button" class="btn primary register-btn" data-testid="register-start" onClick={() => setRegistering(true)}>
            ＋ {t('registerVisitor')}
          </button>
        </div>
        <div class="gate-tabs" role="tablist">
          {tabs.map((x) => (
            <button key={x} type="button" role="tab" aria-selected={x === tab} class={x === tab ? 'gate-tab active' : 'gate-tab'} data-testid={`gate-tab-${x}`} onClick={() => setTab(x)}>
              {t(`gateTab.${x}`)}
              {!!count[x] && (
                <span class={`badge badge-${x}`} data-testid={`gate-badge-${x}`}>
                  {count[x]}
                </span>
              )}
            </button>
          ))}
        </div>
        {tab !== 'vehicles' && queue.length > 0 && (
          <button type="button" class="queue-banner" data-testid="queue-banner" onClick={() => setTab('vehicles')}>
            ▶ {t('queueWaiting', { n: String(queue.length) })} →
          </button>
        )}
        <div class="gate-body" role="tabpanel" data-testid={`gate-panel-${tab}`}>
          {tab === 'vehicles' && (
            <>
              <Vehicles queue={queue} failed={pending.failed} recent={recent} onDecision={track} />
              {/* Is the barrier, the camera, the reader working? The guard sees it where the cars are. */}
              <DeviceLights devices={devices} />
            </>
          )}
          {tab === 'visitors' && <Visitors onRegister={() => setRegistering(true)} />}
          {tab === 'passes' && <Passes />}
          {tab === 'alarms' && <Alarms alarms={openAlarms} failed={alarms.failed} onResolved={resolvedAlarm} />}
          {tab === 'shift' && <Shift />}
        </div>
      </div>
      {registering && (
        <Register
          onClose={() => {
            setRegistering(false);
            setTab('visitors');
          }}
        />
      )}
      {reporting && (
        <Incident
          token={token}
          timeZone={timeZone}
          onClose={(reported) => {
            setReporting(false);
            // The incident's alarm also arrives over the socket; the reload covers a socket that is down.
            if (reported) {
              setTab('alarms');
              alarms.reload();
            }
          }}
        />
      )}
    </GateContext.Provider>
  );
}
