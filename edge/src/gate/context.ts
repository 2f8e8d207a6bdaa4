// What every gate screen needs: the API with the session's token, the gate's config, the site's zone, who is signed in.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { onLive } from '../api.ts';
import type { GateInfoResponse, LiveMessage, PersonView } from '../contracts.ts';
import type { GateApi } from './gateApi.ts';

export interface GateState {
  api: GateApi;
  info: GateInfoResponse | null;
  tz: string | undefined;
  siteName: string;
  person: PersonView;
}

export const GateContext = createContext<GateState | null>(null);

export function useGate(): GateState {
  const g = useContext(GateContext);
  if (!g) throw new Error('useGate outside the gate section');
  return g;
}

/** Subscribes to live messages for the component's lifetime; the latest handler is always the one called. */
export function useLive(handler: (msg: LiveMessage) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => onLive((msg) => ref.current(msg)), []);
}

/** The current time, ticking every `ms` (overdue marks turn red without a reload). */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [ms]);
  return now;
}

/** Loads a list now, again on every (re)connect of the live socket and every `everyMs`. */
export function useLoaded<T>(load: () => Promise<T>, everyMs = 30_000): { data: T | null; reload(): void; failed: boolean; set(fn: (prev: T | null) => T | null): void } {
  const [data, setData] = useState<T | null>(null);
  const [failed, setFailed] = useState(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);
  const reload = () => {
    const mine = ++seq.current;
    loadRef.current().then(
      (d) => {
        if (mine !== seq.current) return; // an older answer must not overwrite a newer one
        setData(d);
        setFailed(false);
      },
      () => mine === seq.current && setFailed(true),
    );
  };
  useEffect(() => {
    reload();
    const id = window.setInterval(reload, everyMs);
    return () => window.clearInterval(id);
    // Once per mount: reload reads the latest loader through the ref.
  }, []);
  useLive((msg) => msg.type === 'hello' && reload());
  return { data, reload, failed, set: setData };
}

export const isPendingDecision = (d: { outcome: string; resolution: string | null; resolvedBy: string | null }) => d.outcome === 'pending' && d.resolution === null && d.resolvedBy === null;
