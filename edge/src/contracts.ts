// The one door from edge/ into gateway/: the API contract types, re-exported type-only (nothing runs).
import type { Static } from 'typebox';
import type * as Gate from '../../gateway/http/gate-contracts.ts';

export type { DeviceView, ErrorBody, EventView, EventsResponse, HealthResponse, LiveMessage, PersonView, SessionResponse } from '../../gateway/http/contracts.ts';

export type IdType = Gate.IdType;
export type ConfirmationMethod = Gate.ConfirmationMethod;
export type UnitView = Gate.UnitView;
export type VisitView = Gate.VisitView;
export type PassView = Gate.PassView;
export type DecisionView = Gate.DecisionView;
export type AlarmView = Gate.AlarmView;
export type GateInfoResponse = Gate.GateInfoResponse;
export type GateLiveMessage = Gate.GateLiveMessage;
export type RegisterVisitRequest = Gate.RegisterVisitRequest;
export type EntryPointView = Static<typeof Gate.EntryPointView>;
export type ReturningVisitor = Static<typeof Gate.ReturningVisitor>;
export type WatchlistHit = Static<typeof Gate.WatchlistHit>;
export type WatchlistCheckRequest = Static<typeof Gate.WatchlistCheckRequest>;
export type PreregistrationView = Static<typeof Gate.PreregistrationView>;
export type WorkerPassRequest = Static<typeof Gate.WorkerPassRequest>;
export type GoodsOutPassRequest = Static<typeof Gate.GoodsOutPassRequest>;
export type ShiftView = Static<typeof Gate.ShiftView>;
export type ShiftsResponse = Static<typeof Gate.ShiftsResponse>;
export type KeyView = Static<typeof Gate.KeyView>;
export type IssueKeyRequest = Static<typeof Gate.IssueKeyRequest>;
