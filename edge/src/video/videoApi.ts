// The video HTTP routes as typed calls, and the media URLs (img, video, websocket) that carry the token in the query.
import { request } from '../api.ts';
import type { CameraView, ExportView, GrantDecision, GrantRequest, GrantStatus, GrantView, PlaybackRequest, PlaybackView, PtzPreset, PtzRequest, SealExtend, SealRequest, SealView, StorageView, Timeline } from '../contracts.ts';

const enc = encodeURIComponent;

/** A media URL with the session token: img, video and websocket requests cannot send an Authorization header. */
export function withToken(url: string, token: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams({ ...params, token });
  return `${url}${url.includes('?') ? '&' : '?'}${q.toString()}`;
}

/** ws:// or wss:// for a path on this gateway, as the page was loaded. */
export function wsUrl(path: string, token: string, params: Record<string, string> = {}): string {
  const url = new URL(withToken(path, token, params), location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function videoApi(token: string) {
  const get = <T>(path: string) => request<T>(path, { token });
  const post = <T>(path: string, body: unknown = {}, idempotencyKey?: string) =>
    request<T>(path, { method: 'POST', token, body: JSON.stringify(body), ...(idempotencyKey ? { idempotencyKey } : {}) });

  return {
    cameras: () => get<CameraView[]>('/api/video/cameras'),
    ptz: (camera: string, body: PtzRequest) => post<unknown>(`/api/video/cameras/${enc(camera)}/ptz`, body),
    presets: (camera: string) => get<PtzPreset[]>(`/api/video/cameras/${enc(camera)}/ptz/presets`),
    timeline: (camera: string, from: number, to: number) => get<Timeline>(`/api/video/cameras/${enc(camera)}/timeline?from=${from}&to=${to}`),

    grants: (q: { status?: GrantStatus; mine?: boolean }) => {
      const p = new URLSearchParams();
      if (q.status) p.set('status', q.status);
      if (q.mine) p.set('mine', 'true');
      const qs = p.toString();
      return get<GrantView[]>(`/api/video/grants${qs ? `?${qs}` : ''}`);
    },
    requestGrant: (body: GrantRequest, key: string) => post<GrantView>('/api/video/grants', body, key),
    approve: (id: string, body: GrantDecision, key: string) => post<GrantView>(`/api/video/grants/${enc(id)}/approve`, body, key),
    deny: (id: string, note: string, key: string) => post<GrantView>(`/api/video/grants/${enc(id)}/deny`, note ? { note } : {}, key),
    revoke: (id: string, key: string) => post<GrantView>(`/api/video/grants/${enc(id)}/revoke`, {}, key),
    playback: (body: PlaybackRequest) => post<PlaybackView>('/api/video/playback', body),

    seals: () => get<SealView[]>('/api/video/seals'),
    seal: (body: SealRequest, key: string) => post<SealView>('/api/video/seals', body, key),
    extendSeal: (id: string, body: SealExtend, key: string) => post<SealView>(`/api/video/seals/${enc(id)}/extend`, body, key),
    releaseSeal: (id: string, reason: string, key: string) => post<SealView>(`/api/video/seals/${enc(id)}/release`, { reason }, key),
    exportSeal: (id: string, key: string) => post<ExportView>(`/api/video/seals/${enc(id)}/export`, {}, key),
    exportFileUrl: (exp: string, name: string) => withToken(`/api/video/exports/${enc(exp)}/files/${enc(name)}`, token),

    storage: () => get<StorageView>('/api/video/storage'),
  };
}

export type VideoApi = ReturnType<typeof videoApi>;
