// The one door from edge/ into gateway/: the API contract types, re-exported type-only (nothing runs).
export type { DeviceView, EventView, EventsResponse, HealthResponse, LiveMessage, PersonView, SessionResponse } from '../../gateway/http/contracts.ts';
