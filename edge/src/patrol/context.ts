// What the patrol screens share: the site's time zone for every time they show, and data loaded per filter.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, errorText } from '../gate/action.ts';
import type { Translate } from '../i18n.ts';
import { useLive } from '../gate/context.ts';
import type { ApiError } from '../api.ts';

// The site's zone, set once by the section and read by every cell that shows a time.
export const TzContext = createContext<string | undefined>(undefined);
export const useTz = () => useContext(TzContext);

export interface Query<T> {
  /** The last answer; while `stale`, it is still the answer for the previous key. */
  data: T | null;
  /** `data` belongs to an earlier key (a new date or filter is on its way): shown dimmed, not acted on. */
  stale: boolean;
  error: ApiError | null;
  reload(): void;
  set(fn: (prev: T | null) => T | null): void;
}

/**
 * Loads when `key` changes (a new date or filter), every `everyMs`, and on every (re)connect of the live
 * socket. An answer for an older key or an older request never overwrites a newer one. The previous
 * answer stays on screen (marked stale) until the new one is in, so a tap on a filter does not make the
 * page jump.
 */
export function useQuery<T>(key: string, load: () => Promise<T>, everyMs = 60_000): Query<T> {
  const [state, setState] = useState<{ key: string; data: T | null }>({ key: '', data: null });
  const [error, setError] = useState<ApiError | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef(key);
  keyRef.current = key;
  const seq = useRef(0);
  const reload = () => {
    const mine = ++seq.current;
    const forKey = keyRef.current;
    loadRef.current().then(
      (d) => {
        if (mine !== seq.current) return;
        setState({ key: forKey, data: d });
        setError(null);
      },
      (err: unknown) => {
        if (mine !== seq.current) return;
        setError(asApiError(err));
      },
    );
  };
  useEffect(() => {
    reload();
    const id = window.setInterval(reload, everyMs);
    return () => window.clearInterval(id);
  }, [key, everyMs]);
  useLive((msg) => msg.type === 'hello' && reload());
  const set = (fn: (prev: T | null) => T | null) => setState((s) => ({ key: s.key, data: fn(s.data) }));
  return { data: state.data, stale: state.data !== null && state.key !== key, error, reload, set };
}

/** Why a list could not be shown: not allowed for this role, no gateway, or the gateway's own words. */
export function loadErrorText(err: ApiError, t: Translate): string {
  if (err.status === 403) return t('patrolForbidden');
  if (err.status === 0) return t('gatewayUnreachable');
  return `${t('loadFailed')} ${errorText(err, t)}`;
}

/**
 * Re-evaluates a patrol view as things happen: at once on a patrol alarm (a missed point, an incident),
 * and a few seconds after checkpoint taps (batched: a round's taps come in bursts). `live` false (a past
 * day) listens to alarms only, since a reason or a late wand upload can still change it.
 */
export function usePatrolLive(reload: () => void, live: boolean): void {
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  useLive((msg) => {
    if (msg.type === 'alarm' && msg.alarm.kind.startsWith('patrol-')) reload();
    else if (live && msg.type === 'device.event' && msg.event.type === 'checkpoint' && timer.current === undefined) {
      timer.current = window.setTimeout(() => {
        timer.current = undefined;
        reload();
      }, 3000);
    }
  });
}
