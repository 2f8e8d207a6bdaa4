// Alarms for the control room and the console: raised once per kind and subject, resolved with a note, never deleted.
import type { AlarmView } from './http/gate-contracts.js';
import type { EventBus } from './core/bus.js';
import type { Clock } from './core/clock.js';
import { newId } from './core/ids.js';
import type { AlarmRow } from './store/alarms.js';
import type { Store } from './store/db.js';

export function alarmView(row: AlarmRow): AlarmView {
  const detail = JSON.parse(row.detail) as Record<string, unknown>;
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    title: typeof detail.title === 'string' ? detail.title : row.kind,
    raisedAt: row.raised_at,
    detail,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    resolution: row.resolution,
  };
}

export class Alarms {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {}

  /** Raise unless the same alarm is already open; returns the open alarm either way. */
  raise(kind: string, subject: string, title: string, detail: Record<string, unknown> = {}): AlarmView {
    const { view, isNew } = this.store.transaction(() => {
      const existing = this.store.alarms.open(kind, subject);
      if (existing) return { view: alarmView(existing), isNew: false };
      const row: AlarmRow = {
        id: newId(),
        kind,
        subject,
        raised_at: this.clock.now(),
        detail: JSON.stringify({ ...detail, title }),
        resolved_at: null,
        resolved_by: null,
        resolution: null,
      };
      this.store.alarms.insert(row);
      const created = alarmView(row);
      this.store.outbox.add('alarms', row.id, created, row.raised_at);
      return { view: created, isNew: true };
    });
    if (isNew) this.bus.emit('alarm', view);
    return view;
  }

  /** Resolve by id (a person) — audited, since it silences something the control room should see. */
  resolve(id: string, by: string, resolution: string): AlarmView | null {
    const view = this.store.transaction(() => {
      const at = this.clock.now();
      if (!this.store.alarms.resolve(id, at, by, resolution)) return null;
      const row = this.store.alarms.get(id)!;
      const resolved = alarmView(row);
      this.store.outbox.add('alarms', id, resolved, at);
      this.store.audit.append({ actor: by, action: 'alarm.resolve', target: id, detail: { kind: row.kind, resolution } });
      return resolved;
    });
    if (view) this.bus.emit('alarm', view);
    return view;
  }

  /** The condition went away by itself (the visitor signed out, enough guards signed on). */
  clear(kind: string, subject: string, resolution: string): void {
    const open = this.store.alarms.open(kind, subject);
    if (open) this.resolve(open.id, 'system', resolution);
  }

  get(id: string): AlarmView | null {
    const row = this.store.alarms.get(id);
    return row ? alarmView(row) : null;
  }

  list(openOnly: boolean, limit: number): AlarmView[] {
    return this.store.alarms.list(openOnly, limit).map(alarmView);
  }
}
