// Talking to the gateway: the session token, JSON requests, and the live websocket with reconnect.
import type { ErrorBody, EventsResponse, HealthResponse, LiveMessage, PersonView, SessionResponse } from './contracts.ts';

const sessionKey = 'guardpost.session';

export function loadSession(): SessionResponse | null {
  const raw = sessionStorage.getItem(sessionKey);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as SessionResponse;
    return s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: SessionResponse | null): void {
  if (s) sessionStorage.setItem(sessionKey, JSON.stringify(s));
  else sessionStorage.removeItem(sessionKey);
}

/**
 * Thrown for any non-2xx answer; `status` 0 means the gateway could not be reached. `code` is the
 * server's stable error code, `field` the request field at fault and `problem` a stable code for
 * what is wrong with it (both when the gateway knows them).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = '',
    readonly field: string = '',
    readonly problem: string = '',
  ) {
    super(message);
  }
}

// Any 401 means the session is over wherever it happens, so one handler sends the app back to login.
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export async function request<T>(path: string, init: RequestInit & { token?: string; idempotencyKey?: string } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  if (init.idempotencyKey) headers.set('Idempotency-Key', init.idempotencyKey);
  if (init.body) headers.set('Content-Type', 'application/json');
  let res: Response;
  try {
    const { token: _token, idempotencyKey: _key, ...rest } = init;
    res = await fetch(path, { ...rest, headers });
  } catch (err) {
    throw new ApiError(0, String(err));
  }
  if (res.status === 401 && init.token) onUnauthorized();
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
    const e = body?.error;
    throw new ApiError(res.status, e?.message ?? res.statusText, e?.code ?? '', e?.field ?? '', e?.problem ?? '');
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export const api = {
  people: () => request<{ people: PersonView[] }>('/api/people'),
  health: () => request<HealthResponse>('/api/health'),
  login: (personId: string, pin: string) =>
    request<SessionResponse>('/api/session', { method: 'POST', body: JSON.stringify({ personId, pin }) }),
  logout: (token: string) => request<void>('/api/session', { method: 'DELETE', token }),
  events: (token: string, limit: number) => request<EventsResponse>(`/api/events?limit=${limit}`, { token }),
};

export type LinkState = 'connecting' | 'open' | 'lost';

// Screens deep in the tree (the gate) hear the one websocket through this fan-out instead of opening their own.
const liveListeners = new Set<(msg: LiveMessage) => void>();

/** Calls `fn` for every message on the live socket (including `hello` after each reconnect); returns the unsubscribe. */
export function onLive(fn: (msg: LiveMessage) => void): () => void {
  liveListeners.add(fn);
  return () => liveListeners.delete(fn);
}

export function emitLive(msg: LiveMessage): void {
  for (const fn of liveListeners) fn(msg);
}

export interface LiveHandlers {
  message(msg: LiveMessage): void;
  state(state: LinkState): void;
  /** The gateway refused the token (close code 4401). */
  unauthorized(): void;
}

/**
 * Keeps a websocket to /api/live open until the returned function is called. After a drop it
 * retries with exponential backoff (1 s doubling to 15 s, with jitter so many screens do not
 * reconnect in lockstep after a gateway restart).
 */
export function connectLive(token: string, h: LiveHandlers): () => void {
  let ws: WebSocket | null = null;
  let timer: number | undefined;
  let attempt = 0;
  let stopped = false;

  const open = () => {
    const url = new URL(`/api/live?token=${encodeURIComponent(token)}`, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const sock = new WebSocket(url);
    ws = sock;
    sock.onmessage = (e: MessageEvent) => {
      let msg: LiveMessage;
      try {
        msg = JSON.parse(String(e.data)) as LiveMessage;
      } catch {
        return; // A frame we cannot parse is dropped; the next refill repairs the view.
      }
      // The link counts as up on hello, not on open: a refused token is closed (4401) right after open.
      if (msg.type === 'hello') {
        attempt = 0;
        h.state('open');
      }
      h.message(msg);
    };
    sock.onclose = (e: CloseEvent) => {
      if (stopped || ws !== sock) return;
      if (e.code === 4401) {
        h.unauthorized();
        return;
      }
      h.state('lost');
      const delay = Math.min(15_000, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      attempt++;
      timer = window.setTimeout(open, delay);
    };
  };

  h.state('connecting');
  open();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    ws?.close(1000);
  };
}
