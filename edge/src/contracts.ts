// The one door from edge/ into gateway/: the API contract types, re-exported type-only (nothing runs).
// eslint-disable-next-line no-restricted-imports -- the rule's '!**/gateway/http/contracts*' exception never matches (gitignore semantics cannot re-include a file under the excluded '**/gateway/**'), so this sanctioned type import needs the suppression.
export type { DeviceView, EventView, EventsResponse, HealthResponse, LiveMessage, PersonView, SessionResponse } from '../../gateway/http/contracts.ts';
