// The sync-to-HQ routes as typed calls, and the rule for when the link needs a person's eye.
import { request } from '../api.ts';
import type { SyncResponse, SyncView } from '../contracts.ts';

export function syncApi(token: string) {
  return {
    get: () => request<SyncResponse>('/api/sync', { token }),
    retry: (seq: number) => request<SyncResponse>(`/api/sync/parked/${seq}/retry`, { method: 'POST', token }),
  };
}

export type SyncApi = ReturnType<typeof syncApi>;

/** A site that syncs, and records are not flowing (or flowed too late): worth a chip on every screen. */
export const syncNeedsEye = (s: SyncView | undefined): s is SyncView => !!s && s.enabled && (s.state !== 'online' || s.overdue);
