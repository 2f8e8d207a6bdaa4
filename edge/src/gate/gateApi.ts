// The gate's HTTP routes as typed calls. POSTs that create or change things carry an Idempotency-Key.
import { request } from '../api.ts';
import type {
  AlarmView,
  ConfirmationMethod,
  DecisionView,
  GateInfoResponse,
  GoodsOutPassRequest,
  IssueKeyRequest,
  KeyView,
  PassView,
  PreregistrationView,
  RegisterVisitRequest,
  ReturningVisitor,
  ShiftsResponse,
  UnitView,
  VisitView,
  WatchlistCheckRequest,
  WatchlistHit,
  WorkerPassRequest,
} from '../contracts.ts';

/** A random key for one user action; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newKey(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

const enc = encodeURIComponent;

export function gateApi(token: string) {
  const get = <T>(path: string) => request<T>(path, { token });
  const post = <T>(path: string, body: unknown = {}, idempotencyKey?: string) =>
    request<T>(path, { method: 'POST', token, body: JSON.stringify(body), ...(idempotencyKey ? { idempotencyKey } : {}) });

  return {
    info: () => get<GateInfoResponse>('/api/gate/info'),
    units: (q: string) => get<{ units: UnitView[] }>(`/api/gate/units?q=${enc(q)}&limit=12`),
    lookupVisitor: (by: { idNumber: string } | { phone: string }) =>
      get<{ visitor: ReturningVisitor | null }>(`/api/gate/visitors/lookup?${'idNumber' in by ? `idNumber=${enc(by.idNumber)}` : `phone=${enc(by.phone)}`}`),
    watchlistCheck: (body: WatchlistCheckRequest) => post<{ hits: WatchlistHit[] }>('/api/gate/watchlist/check', body),

    registerVisit: (body: RegisterVisitRequest, key: string) => post<{ visit: VisitView }>('/api/gate/visits', body, key),
    visits: (status: 'inside' | 'open' | 'today') => get<{ visits: VisitView[] }>(`/api/gate/visits?status=${status}`),
    confirmVisit: (id: string, method: ConfirmationMethod, confirmedBy: string, key: string) =>
      post<{ visit: VisitView }>(`/api/gate/visits/${enc(id)}/confirm`, { method, confirmedBy }, key),
    overrideVisit: (id: string, note: string, key: string) => post<{ visit: VisitView }>(`/api/gate/visits/${enc(id)}/override`, { note }, key),
    issueVisitPass: (id: string, key: string) => post<{ visit: VisitView }>(`/api/gate/visits/${enc(id)}/pass`, {}, key),
    signOut: (id: string, key: string) => post<{ visit: VisitView }>(`/api/gate/visits/${enc(id)}/sign-out`, {}, key),

    preregistration: (code: string) => get<{ preregistration: PreregistrationView }>(`/api/gate/preregistrations/${enc(code)}`),

    workerPass: (body: WorkerPassRequest, key: string) => post<{ pass: PassView }>('/api/gate/passes/worker', body, key),
    goodsOutPass: (body: GoodsOutPassRequest, key: string) => post<{ pass: PassView }>('/api/gate/passes/goods-out', body, key),
    passes: (kind: PassView['kind'], status: 'active' | 'inside') => get<{ passes: PassView[] }>(`/api/gate/passes?kind=${kind}&status=${status}`),
    passMove: (id: string, move: 'enter' | 'leave', entryPoint: string, key: string) => post<{ pass: PassView }>(`/api/gate/passes/${enc(id)}/${move}`, { entryPoint }, key),
    passSignOff: (id: string, key: string) => post<{ pass: PassView }>(`/api/gate/passes/${enc(id)}/sign-off`, {}, key),

    pendingDecisions: () => get<{ decisions: DecisionView[] }>('/api/gate/decisions?pending=true'),
    resolveDecision: (id: string, action: 'open' | 'refuse', reason: string, key: string) =>
      post<{ decision: DecisionView }>(`/api/gate/decisions/${enc(id)}/resolve`, { action, reason }, key),
    retryDecision: (id: string, key: string) => post<{ decision: DecisionView }>(`/api/gate/decisions/${enc(id)}/retry`, {}, key),
    manualOpen: (entryPoint: string, reason: string, key: string) => post<{ decision: DecisionView }>(`/api/gate/entry-points/${enc(entryPoint)}/open`, { reason }, key),

    openAlarms: () => get<{ alarms: AlarmView[] }>('/api/alarms?open=true'),
    resolveAlarm: (id: string, resolution: string, key: string) => post<{ alarm?: AlarmView; alarms?: AlarmView[] }>(`/api/alarms/${enc(id)}/resolve`, { resolution }, key),

    shifts: () => get<ShiftsResponse>('/api/gate/shifts'),
    signOn: (key: string) => post<unknown>('/api/gate/shifts/sign-on', {}, key),
    signOff: (handoverNote: string, key: string) => post<unknown>('/api/gate/shifts/sign-off', handoverNote ? { handoverNote } : {}, key),
    keys: () => get<{ keys: KeyView[] }>('/api/gate/keys'),
    issueKey: (id: string, body: IssueKeyRequest, key: string) => post<unknown>(`/api/gate/keys/${enc(id)}/issue`, body, key),
    returnKey: (id: string, key: string) => post<unknown>(`/api/gate/keys/${enc(id)}/return`, {}, key),
  };
}

export type GateApi = ReturnType<typeof gateApi>;
