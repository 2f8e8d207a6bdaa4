// The one door from edge/ into gateway/: the API contract types, re-exported type-only (nothing runs).
import type { Static } from 'typebox';
import type * as Gate from '../../gateway/http/gate-contracts.ts';
import type * as Patrol from '../../gateway/http/patrol-contracts.ts';
import type * as Video from '../../gateway/http/video-contracts.ts';

export type { DeviceView, ErrorBody, EventView, EventsResponse, HealthResponse, LiveMessage, PersonView, SessionResponse } from '../../gateway/http/contracts.ts';

// The sync to HQ.
export type { ParkedRecordView, SyncResponse, SyncView } from '../../gateway/http/contracts.ts';

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

// The patrol's contracts.

export type PatrolPlan = Patrol.PatrolPlan;
export type StopView = Patrol.StopView;
export type RoundView = Patrol.RoundView;
export type DayResponse = Patrol.DayResponse;
export type TrendResponse = Patrol.TrendResponse;
export type StopStatus = Static<typeof Patrol.StopStatus>;
export type RoundStatus = Static<typeof Patrol.RoundStatus>;
export type PlanResponse = Static<typeof Patrol.PlanResponse>;
export type PlanVersionsResponse = Static<typeof Patrol.PlanVersionsResponse>;
export type MissedReasonRequest = Static<typeof Patrol.MissedReasonRequest>;
export type HitRequest = Static<typeof Patrol.HitRequest>;
export type IncidentRequest = Static<typeof Patrol.IncidentRequest>;
export type IncidentType = IncidentRequest['type'];
export type IncidentView = Static<typeof Patrol.IncidentView>;
export type IncidentResponse = Static<typeof Patrol.IncidentResponse>;
export type IncidentsResponse = Static<typeof Patrol.IncidentsResponse>;

// The video contracts.
export type CameraView = Video.CameraView;
export type RecorderState = Video.RecorderState;
export type PtzRequest = Video.PtzRequest;
export type PtzPreset = Video.PtzPreset;
export type LiveHello = Video.LiveHello;
export type LiveBye = Video.LiveBye;
export type Timeline = Video.Timeline;
export type Span = Video.Span;
export type GrantStatus = Video.GrantStatus;
export type GrantRequest = Video.GrantRequest;
export type GrantDecision = Video.GrantDecision;
export type GrantView = Video.GrantView;
export type PlaybackRequest = Video.PlaybackRequest;
export type PlaybackView = Video.PlaybackView;
export type SealRequest = Video.SealRequest;
export type SealExtend = Video.SealExtend;
export type SealRelease = Video.SealRelease;
export type SealView = Video.SealView;
export type ExportView = Video.ExportView;
export type StorageView = Video.StorageView;
export type SnapshotView = Video.SnapshotView;
export type VideoLiveMessage = Video.VideoLiveMessage;
