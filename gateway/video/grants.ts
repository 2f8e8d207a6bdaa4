// Review grants: an operator asks to see recorded footage, a supervisor approves or denies, the grant is time-boxed.
import type { Role } from '../../config/schema.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { GrantDecision, GrantRequest, GrantStatus, GrantView } from '../http/video-contracts.js';
import type { Store } from '../store/db.js';
import type { GrantRow } from '../store/video.js';

export interface Viewer {
  id: string;
  name: string;
  role: Role;
}

// The longest span one request may cover: a review is for an incident, not browsing the archive.
const maxSpanMs = 7 * 86_400_000;

export class Grants {
  constructor(
    private readonly deps: { store: Store; bus: EventBus; clock: Clock; cameras: () => readonly string[]; nameOf: (personId: string) => string },
  ) {}

  request(body: GrantRequest, who: Viewer): GrantView {
    this.checkSpan(body.cameras, body.start, body.end);
    const now = this.deps.clock.now();
    // A supervisor is the approver: their own request is granted at once, and the audit log says so.
    const self = who.role === 'supervisor';
    const row: GrantRow = {
      id: newId(),
      cameras: JSON.stringify(body.cameras),
      start_ms: body.start,
      end_ms: body.end,
      reason: body.reason,
      minutes: body.minutes,
      status: self ? 'approved' : 'pending',
      requested_by: who.id,
      requested_at: now,
      decided_by: self ? who.id : null,
      decided_at: self ? now : null,
      note: null,
      valid_until: self ? now + body.minutes * 60_000 : null,
      self_granted: self ? 1 : 0,
    };
    const { store } = this.deps;
    store.transaction(() => {
      store.video.addGrant(row);
      store.audit.append({ actor: who.id, action: self ? 'video.grant.self' : 'video.grant.request', target: row.id, detail: { cameras: body.cameras, start: body.start, end: body.end, reason: body.reason, minutes: body.minutes } });
      store.outbox.add('video_grants', row.id, this.view(row), now);
    });
    return this.publish(row);
  }

  approve(id: string, decision: GrantDecision, who: Viewer): GrantView {
    return this.decide(id, 'pending', who, (row, now) => ({
      status: 'approved',
      valid_until: now + (decision.minutes ?? row.minutes) * 60_000,
      note: decision.note ?? null,
      action: 'video.grant.approve',
    }));
  }

  deny(id: string, decision: GrantDecision, who: Viewer): GrantView {
    return this.decide(id, 'pending', who, () => ({ status: 'denied', valid_until: null, note: decision.note ?? null, action: 'video.grant.deny' }));
  }

  /** A supervisor, or the person it was granted to, ends an approved review early. */
  revoke(id: string, who: Viewer): GrantView {
    const row = this.deps.store.video.grant(id);
    if (row && who.role !== 'supervisor' && row.requested_by !== who.id) throw new GuardpostError(ErrorCode.Forbidden, 'only a supervisor or the viewer can end this review');
    return this.decide(id, 'approved', who, (r) => ({ status: 'revoked', valid_until: null, note: r.note, action: 'video.grant.revoke' }));
  }

  list(filter: { status?: GrantStatus; mine?: boolean }, who: Viewer): GrantView[] {
    // Operators see their own requests; supervisors see everyone's.
    const requestedBy = filter.mine || who.role !== 'supervisor' ? who.id : undefined;
    const stored = filter.status === 'expired' ? 'approved' : filter.status;
    return this.deps.store.video
      .grants({ ...(stored ? { status: stored } : {}), ...(requestedBy ? { requestedBy } : {}), limit: 200 })
      .map((r) => this.view(r))
      .filter((v) => !filter.status || v.status === filter.status);
  }

  get(id: string): GrantView {
    const row = this.deps.store.video.grant(id);
    if (!row) throw new GuardpostError(ErrorCode.NotFound, `no review request ${id}`);
    return this.view(row);
  }

  /** Throws unless `who` holds an approved, unexpired grant covering this camera and span. */
  check(grantId: string, who: Viewer, camera: string, start: number, end: number): GrantView {
    const row = this.deps.store.video.grant(grantId);
    if (!row || row.requested_by !== who.id) throw refused('no review grant of yours with that id', 'grant-missing');
    const view = this.view(row);
    if (view.status !== 'approved') throw refused(`this review is ${view.status}`, `grant-${view.status}`);
    if (!view.cameras.includes(camera)) throw refused(`the grant does not cover camera ${camera}`, 'outside-grant');
    if (start < view.start || end > view.end) throw refused('that time is outside the granted span', 'outside-grant');
    return view;
  }

  view(row: GrantRow): GrantView {
    const expired = row.status === 'approved' && row.valid_until !== null && row.valid_until <= this.deps.clock.now();
    return {
      id: row.id,
      cameras: JSON.parse(row.cameras) as string[],
      start: row.start_ms,
      end: row.end_ms,
      reason: row.reason,
      minutes: row.minutes,
      status: expired ? 'expired' : row.status,
      requestedBy: row.requested_by,
      requestedByName: this.deps.nameOf(row.requested_by),
      requestedAt: row.requested_at,
      decidedBy: row.decided_by,
      decidedAt: row.decided_at,
      note: row.note,
      validUntil: row.valid_until,
      selfGranted: row.self_granted === 1,
    };
  }

  private decide(
    id: string,
    from: GrantRow['status'],
    who: Viewer,
    change: (row: GrantRow, now: number) => { status: GrantRow['status']; valid_until: number | null; note: string | null; action: string },
  ): GrantView {
    const { store, clock } = this.deps;
    const updated = store.transaction(() => {
      const row = store.video.grant(id);
      if (!row) throw new GuardpostError(ErrorCode.NotFound, `no review request ${id}`);
      const current = this.view(row).status;
      if (row.status !== from || current === 'expired') throw new GuardpostError(ErrorCode.Conflict, `this review request is already ${current}`, { problem: `grant-${current}` });
      const now = clock.now();
      const c = change(row, now);
      store.video.decideGrant(id, { status: c.status, decided_by: who.id, decided_at: now, note: c.note, valid_until: c.valid_until }, from);
      const next = store.video.grant(id)!;
      store.audit.append({ actor: who.id, action: c.action, target: id, detail: { requestedBy: row.requested_by, note: c.note, validUntil: c.valid_until } });
      store.outbox.add('video_grants', id, this.view(next), now);
      return next;
    });
    return this.publish(updated);
  }

  private publish(row: GrantRow): GrantView {
    const view = this.view(row);
    this.deps.bus.emit('video.grant', view);
    return view;
  }

  private checkSpan(cameras: readonly string[], start: number, end: number): void {
    const known = this.deps.cameras();
    const unknown = cameras.find((c) => !known.includes(c));
    if (unknown) throw new GuardpostError(ErrorCode.BadRequest, `no camera ${unknown}`, { field: 'cameras', problem: 'unknown-camera' });
    if (end <= start) throw new GuardpostError(ErrorCode.BadRequest, 'the end must be after the start', { field: 'end', problem: 'end-before-start' });
    if (end - start > maxSpanMs) throw new GuardpostError(ErrorCode.BadRequest, 'a review covers at most 7 days', { field: 'end', problem: 'span-too-long' });
    if (start > this.deps.clock.now()) throw new GuardpostError(ErrorCode.BadRequest, 'that time has not been recorded yet', { field: 'start', problem: 'in-the-future' });
  }
}

function refused(message: string, problem: string): GuardpostError {
  return new GuardpostError(ErrorCode.Forbidden, `playback refused: ${message}`, { problem });
}
