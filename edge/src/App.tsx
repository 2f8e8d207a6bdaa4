// The app's state in one place: language, session, site health, live events and the websocket link.
import { useCallback, useEffect, useLayoutEffect, useMemo, useState } from 'preact/hooks';
import type { DeviceView, EventView, HealthResponse, LiveMessage, SessionResponse } from './contracts.ts';
import { api, connectLive, emitLive, loadSession, saveSession, setUnauthorizedHandler, type LinkState } from './api.ts';
import { initialLang, LangContext, persistLang, translator, type Lang, type LangState } from './i18n.ts';
import { Login } from './Login.tsx';
import { Shell } from './Shell.tsx';
import { TopBar } from './TopBar.tsx';

const maxEvents = 50;

/** Events by id (a reconnect refetch overlaps what the socket already delivered), newest first. */
function mergeEvents(prev: EventView[], incoming: EventView[]): EventView[] {
  const byId = new Map(prev.map((e) => [e.id, e]));
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.receivedAt - a.receivedAt || b.at - a.at).slice(0, maxEvents);
}

function upsertDevice(devices: DeviceView[], dev: DeviceView): DeviceView[] {
  return devices.some((d) => d.id === dev.id) ? devices.map((d) => (d.id === dev.id ? dev : d)) : [...devices, dev];
}

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [session, setSession] = useState<SessionResponse | null>(loadSession);
  const [health, setHealth] = useState<HealthResponse | null>(null);
  const [events, setEvents] = useState<EventView[]>([]);
  const [link, setLink] = useState<LinkState>('connecting');

  const langState = useMemo<LangState>(
    () => ({
      lang,
      t: translator(lang),
      setLang: setLangState,
    }),
    [lang],
  );
  // A layout effect: <html lang> changes in the same frame as the text, never a frame later.
  useLayoutEffect(() => persistLang(lang), [lang]);
  useEffect(() => {
    document.title = [health?.site.name, langState.t('appName')].filter(Boolean).join(' · ');
  }, [health?.site.name, langState]);

  const endSession = useCallback(() => {
    saveSession(null);
    setSession(null);
    setEvents([]);
  }, []);
  useEffect(() => setUnauthorizedHandler(endSession), [endSession]);

  const refreshHealth = useCallback(() => {
    api.health().then(setHealth, () => undefined);
  }, []);
  // device.health pushes only state changes; polling keeps "last seen" and the device list current.
  useEffect(() => {
    refreshHealth();
    const id = window.setInterval(refreshHealth, 15_000);
    return () => window.clearInterval(id);
  }, [refreshHealth]);

  useEffect(() => {
    if (!session) return;
    const token = session.token;
    // Fill from the store now (the socket may be blocked while HTTP works) and on every (re)connect,
    // so nothing that happened between the fetch and the subscription, or while offline, is lost.
    const refill = () => {
      api.events(token, maxEvents).then((r) => setEvents((prev) => mergeEvents(prev, r.events)), () => undefined);
      refreshHealth();
    };
    refill();
    return connectLive(token, {
      message: (msg: LiveMessage) => {
        emitLive(msg);
        if (msg.type === 'device.event') setEvents((prev) => mergeEvents(prev, [msg.event]));
        else if (msg.type === 'device.health') setHealth((h) => h && { ...h, devices: upsertDevice(h.devices, msg.device) });
      },
      state: (s) => {
        if (s === 'open') refill();
        setLink(s);
      },
      unauthorized: endSession,
    });
  }, [session, endSession, refreshHealth]);

  const login = (s: SessionResponse) => {
    saveSession(s);
    setSession(s);
  };

  const logout = () => {
    if (session) api.logout(session.token).catch(() => undefined);
    endSession();
  };

  return (
    <LangContext.Provider value={langState}>
      {session ? (
        <Shell person={session.person} token={session.token} health={health} events={events} link={link} onLogout={logout} />
      ) : (
        <div class="shell">
          <TopBar siteName={health?.site.name ?? ''} timeZone={health?.site.timezone} />
          <Login onLogin={login} />
        </div>
      )}
    </LangContext.Provider>
  );
}
