// The patrol's HTTP routes as typed calls, and the CSV export fetched with the token and saved through a Blob link.
import { ApiError, request } from '../api.ts';
import type { DayResponse, IncidentRequest, IncidentResponse, IncidentsResponse, PatrolPlan, PlanResponse, PlanVersionsResponse, RoundView, TrendResponse } from '../contracts.ts';

export interface DayFilter {
  date: string;
  route?: string | null;
  guard?: string | null;
}

function dayQuery(f: DayFilter): string {
  const q = new URLSearchParams({ date: f.date });
  if (f.route) q.set('route', f.route);
  if (f.guard) q.set('guard', f.guard);
  return q.toString();
}

/** The file name the supervisor's download gets, e.g. patrol-2026-11-23.csv (with the route when filtered). */
export function csvFileName(f: DayFilter): string {
  return `patrol-${f.date}${f.route ? `-${f.route}` : ''}.csv`;
}

export function patrolApi(token: string) {
  const get = <T>(path: string) => request<T>(path, { token });
  const post = <T>(path: string, body: unknown, idempotencyKey?: string) =>
    request<T>(path, { method: 'POST', token, body: JSON.stringify(body), ...(idempotencyKey ? { idempotencyKey } : {}) });

  return {
    day: (f: DayFilter) => get<DayResponse>(`/api/patrol/day?${dayQuery(f)}`),
    trend: (days: number, route?: string | null) => get<TrendResponse>(`/api/patrol/trend?days=${days}${route ? `&route=${encodeURIComponent(route)}` : ''}`),
    plan: () => get<PlanResponse>('/api/patrol/plan'),
    planVersions: () => get<PlanVersionsResponse>('/api/patrol/plan/versions'),
    /** A new version of the plan, in force from now on (rounds already started keep theirs). */
    savePlan: (plan: PatrolPlan, key: string) => request<PlanResponse>('/api/patrol/plan', { method: 'PUT', token, body: JSON.stringify({ plan }), idempotencyKey: key }),
    saveReason: (round: string, checkpoint: string, reason: string, key: string) => post<{ round?: RoundView }>('/api/patrol/reasons', { round, checkpoint, reason }, key),
    reportIncident: (body: IncidentRequest, key: string) => post<IncidentResponse>('/api/patrol/incidents', body, key),
    incidents: (date: string) => get<IncidentsResponse>(`/api/patrol/incidents?date=${encodeURIComponent(date)}`),

    /** Fetches the day's CSV with the token (a plain link could not send it) and hands it to the browser as a download. */
    async downloadCsv(f: DayFilter): Promise<string> {
      let res: Response;
      try {
        res = await fetch(`/api/patrol/day.csv?${dayQuery(f)}`, { headers: { Authorization: `Bearer ${token}` } });
      } catch (err) {
        throw new ApiError(0, String(err));
      }
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; problem?: string } } | null;
        throw new ApiError(res.status, body?.error?.message ?? res.statusText, body?.error?.code ?? '', '', body?.error?.problem ?? '');
      }
      // The bytes as sent: the gateway's BOM stays, so Excel reads the Chinese as UTF-8.
      const blob = new Blob([await res.arrayBuffer()], { type: 'text/csv;charset=utf-8' });
      const name = csvFileName(f);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.style.display = 'none';
      document.body.appendChild(a);
      a.click();
      a.remove();
      // Revoked later: revoking at once can cancel the download before the browser has read the Blob.
      window.setTimeout(() => URL.revokeObjectURL(url), 30_000);
      return name;
    },
  };
}

export type PatrolApi = ReturnType<typeof patrolApi>;
