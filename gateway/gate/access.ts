// Access at the entry points: every credential event decided and recorded in one transaction, then the barrier.
import { resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import type { GuardpostConfig } from '../../config/schema.js';
import type { DeviceEvent, CommandResult, DeviceCommand } from '../../drivers/contract.js';
import type { DeviceStatus } from '../../drivers/registry.js';
import type { Alarms } from '../alarms.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { maskTail } from '../core/mask.js';
import type { DecisionView } from '../http/gate-contracts.js';
import type { Store } from '../store/db.js';
import type { DecisionRow } from '../store/decisions.js';
import type { PassRow } from '../store/passes.js';
import { normaliseCard, passCodeFromQr } from './credentials.js';
import { decide, type Decision, type DecisionRules, type KnownPass } from './decide.js';
import { parsePlate } from './plates.js';

const pendingExpiryMs = 15 * 60_000;

/** The registry as the gate sees it: commands by device id, never a concrete driver. */
export interface DeviceCommander {
  command(deviceId: string, cmd: DeviceCommand): Promise<CommandResult>;
  get(deviceId: string): DeviceStatus | undefined;
}

export interface EntryPoint {
  id: string;
  name: string;
  direction: 'in' | 'out';
  devices: string[];
  barrier: string | null;
}

export interface AccessDeps {
  config: GuardpostConfig;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  devices: DeviceCommander;
  alarms: Alarms;
}

export class Access {
  readonly entryPoints: EntryPoint[];
  private readonly byDevice = new Map<string, EntryPoint>();
  private readonly rules: DecisionRules;
  private off: (() => void) | null = null;

  constructor(private readonly deps: AccessDeps) {
    const { gate, site } = deps.config;
    this.entryPoints = Object.entries(gate.entry_points).map(([id, p]) => ({ id, name: p.name, direction: p.direction, devices: p.devices, barrier: p.barrier ?? null }));
    for (const point of this.entryPoints) for (const d of point.devices) this.byDevice.set(d, point);
    this.rules = { lists: gate.lists, unknownVehicle: gate.unknown_vehicle, antiPassback: gate.anti_passback, timeZone: site.timezone };
  }

  start(): void {
    this.off ??= this.deps.bus.on('device.event', (event) => this.onDeviceEvent(event));
  }

  stop(): void {
    this.off?.();
    this.off = null;
  }

  entryPoint(id: string): EntryPoint {
    const point = this.entryPoints.find((p) => p.id === id);
    if (!point) throw new GuardpostError(ErrorCode.NotFound, `no entry point "${id}"`);
    return point;
  }

  /** A card, plate or QR at a reader of an entry point; anything else is not the gate's business. */
  onDeviceEvent(event: DeviceEvent): void {
    const point = this.byDevice.get(event.deviceId);
    if (!point) return;
    let kind: 'card' | 'plate' | 'qr';
    let value: string;
    let snapshot: string | null = null;
    if (event.type === 'plate') {
      snapshot = event.snapshot ?? null;
      const parsed = parsePlate(event.plate);
      kind = 'plate';
      // An unreadable plate is still decided (as unknown) so the guard sees the car waiting.
      value = parsed.ok ? parsed.plate : event.plate.trim().toUpperCase();
    } else if (event.type === 'credential') {
      const code = event.credential.kind === 'qr' ? passCodeFromQr(event.credential.value) : null;
      kind = code ? 'qr' : 'card';
      value = code ?? normaliseCard(event.credential.value);
    } else return;
    const view = this.record(point, event.deviceId, kind, value, event.deviceId, snapshot);
    void this.openBarrierIfGranted(view);
  }

  /** Decide and record: decision + stay + audit + outbox in one transaction, durable when it returns. */
  private record(point: EntryPoint, deviceId: string | null, kind: 'card' | 'plate' | 'qr', value: string, actor: string, snapshot: string | null = null): DecisionView {
    const { store, clock } = this.deps;
    const row = store.transaction(() => {
      const at = clock.now();
      const credential = kind === 'qr' ? undefined : store.residents.credential(kind, value);
      const pass = credential ? undefined : this.passFor(kind, value);
      const watchlisted = kind === 'plate' && store.watchlist.find('plate', value) !== undefined;
      const decision = decide(
        {
          at,
          direction: point.direction,
          kind,
          value,
          credential: credential
            ? { id: credential.id, holderId: credential.holder_id, holderName: credential.holder_name, list: credential.list, validFrom: credential.valid_from, validUntil: credential.valid_until }
            : null,
          pass: pass ? knownPass(pass) : null,
          watchlisted,
          inside: (subject) => store.decisions.isInside(subject),
        },
        this.rules,
      );
      return this.write(point, deviceId, kind, value, decision, actor, at, null, snapshot);
    });
    const view = this.view(row);
    this.deps.bus.emit('gate.decision', view);
    if (view.reason === 'watchlist') this.deps.alarms.raise('watchlist-hit', `plate:${value}`, `黑名单车辆：${value}（${point.name}）`, { decision: row.id });
    return view;
  }

  private passFor(kind: 'card' | 'plate' | 'qr', value: string): PassRow | undefined {
    const { passes } = this.deps.store;
    if (kind === 'qr') return passes.withCode(value);
    if (kind === 'card') return passes.withTempCard(value);
    return passes.withPlate(value);
  }

  private write(
    point: EntryPoint,
    deviceId: string | null,
    kind: string,
    value: string,
    d: Decision,
    actor: string,
    at: number,
    resolvedBy: string | null = null,
    snapshot: string | null = null,
  ): DecisionRow {
    const { store } = this.deps;
    const opens = d.outcome === 'granted' && point.barrier !== null;
    const row: DecisionRow = {
      id: newId(),
      at,
      entry_point: point.id,
      direction: point.direction,
      device_id: deviceId,
      credential_kind: kind,
      credential_value: value,
      outcome: d.outcome,
      reason: d.reason,
      subject: d.subject,
      subject_name: d.subjectName,
      list: d.list,
      resolved_by: resolvedBy,
      resolved_at: resolvedBy ? at : null,
      resolution: null,
      barrier: point.barrier,
      barrier_status: opens ? 'sent' : 'none',
      barrier_detail: null,
      snapshot,
    };
    store.decisions.insert(row);
    if (d.outcome === 'granted' && d.subject) store.decisions.move(d.subject, point.direction, row.id, at, newId);
    store.audit.append({
      actor,
      action: kind === 'manual' ? 'barrier.manual_open' : 'access.decision',
      target: point.id,
      detail: { decision: row.id, outcome: d.outcome, reason: d.reason, credential: kind === 'card' ? maskTail(value) : value },
    });
    store.outbox.add('decisions', row.id, row, at);
    return row;
  }

  /** The guard opens the barrier by hand, always with a reason; audited. */
  async manualOpen(entryPointId: string, reason: string, guardId: string): Promise<DecisionView> {
    const point = this.entryPoint(entryPointId);
    this.checkReason(reason);
    if (!point.barrier) throw new GuardpostError(ErrorCode.Conflict, `entry point ${point.name} has no barrier`);
    const row = this.deps.store.transaction(() =>
      this.write(point, null, 'manual', reason, { outcome: 'granted', reason: 'manual', subject: null, subjectName: null, list: null }, guardId, this.deps.clock.now(), guardId),
    );
    const view = this.view(row);
    this.deps.bus.emit('gate.decision', view);
    return this.openBarrierIfGranted(view);
  }

  /** A waiting car: the guard opens (with a reason from the list) or refuses. */
  async resolve(decisionId: string, action: 'open' | 'refuse', reason: string, guardId: string): Promise<DecisionView> {
    const { store, clock } = this.deps;
    if (action === 'open') this.checkReason(reason);
    const row = store.transaction(() => {
      const current = store.decisions.get(decisionId);
      if (!current) throw new GuardpostError(ErrorCode.NotFound, `no decision ${decisionId}`);
      if (current.outcome !== 'pending' || current.resolved_at !== null) throw new GuardpostError(ErrorCode.Conflict, 'this car has already been dealt with');
      const at = clock.now();
      const point = this.entryPoint(current.entry_point);
      const opens = action === 'open';
      const updated = store.decisions.update(decisionId, {
        outcome: opens ? 'granted' : 'denied',
        reason: opens ? 'manual' : 'refused',
        resolved_by: guardId,
        resolved_at: at,
        resolution: reason,
        barrier_status: opens && point.barrier ? 'sent' : 'none',
      });
      if (opens && updated.subject) store.decisions.move(updated.subject, point.direction, decisionId, at, newId);
      store.audit.append({ actor: guardId, action: opens ? 'barrier.manual_open' : 'access.refuse', target: point.id, detail: { decision: decisionId, reason } });
      store.outbox.add('decisions', decisionId, updated, at);
      return updated;
    });
    const view = this.view(row);
    this.deps.bus.emit('gate.decision', view);
    return this.openBarrierIfGranted(view);
  }

  /** Send a failed barrier command again. */
  async retry(decisionId: string, guardId: string): Promise<DecisionView> {
    const { store } = this.deps;
    const row = store.transaction(() => {
      const current = store.decisions.get(decisionId);
      if (!current) throw new GuardpostError(ErrorCode.NotFound, `no decision ${decisionId}`);
      if (current.barrier_status !== 'failed') throw new GuardpostError(ErrorCode.Conflict, 'only a failed barrier command can be retried');
      store.audit.append({ actor: guardId, action: 'barrier.retry', target: current.entry_point, detail: { decision: decisionId } });
      return store.decisions.update(decisionId, { barrier_status: 'sent', barrier_detail: null });
    });
    return this.openBarrierIfGranted(this.view(row));
  }

  /** A person on a pass walking through (no reader): the guard taps in or out at the console. */
  passMovement(passId: string, entryPointId: string, direction: 'in' | 'out', guardId: string): DecisionView {
    const point = this.entryPoint(entryPointId);
    const pass = this.deps.store.passes.get(passId);
    if (!pass) throw new GuardpostError(ErrorCode.NotFound, `no pass ${passId}`);
    const walkIn: EntryPoint = { ...point, direction, barrier: null };
    return this.record(walkIn, null, 'qr', pass.code, guardId);
  }

  /**
   * A car nobody dealt with for this long has turned away; its card leaves the queue as refused by
   * the system, so the guard's queue shows only cars that are still there.
   */
  expirePending(olderThanMs = pendingExpiryMs): void {
    const { store, clock } = this.deps;
    const limit = clock.now() - olderThanMs;
    for (const row of store.decisions.list(true, 500)) {
      if (row.at > limit) continue;
      const updated = store.transaction(() => {
        const at = clock.now();
        const changed = store.decisions.update(row.id, { outcome: 'denied', reason: 'refused', resolved_by: 'system', resolved_at: at, resolution: 'expired' });
        store.outbox.add('decisions', row.id, changed, at);
        return changed;
      });
      this.deps.bus.emit('gate.decision', this.view(updated));
    }
  }

  list(pendingOnly: boolean, limit: number): DecisionView[] {
    return this.deps.store.decisions.list(pendingOnly, limit).map((r) => this.view(r));
  }

  private checkReason(reason: string): void {
    if (!this.deps.config.gate.manual_open_reasons.includes(reason)) {
      throw new GuardpostError(ErrorCode.BadRequest, `reason must be one of: ${this.deps.config.gate.manual_open_reasons.join(', ')}`);
    }
  }

  /** After the commit: the barrier command, its outcome recorded; a barrier that does not answer raises an alarm. */
  private async openBarrierIfGranted(view: DecisionView): Promise<DecisionView> {
    if (view.barrierStatus !== 'sent') return view;
    const point = this.entryPoint(view.entryPoint);
    const result = await this.deps.devices.command(point.barrier!, { type: 'open', params: { decision: view.id } });
    const { store, clock } = this.deps;
    const row = store.transaction(() => {
      const updated = store.decisions.update(view.id, { barrier_status: result.ok ? 'opened' : 'failed', barrier_detail: result.detail ?? null });
      store.outbox.add('decisions', view.id, updated, clock.now());
      return updated;
    });
    const after = this.view(row);
    this.deps.bus.emit('gate.decision', after);
    if (!result.ok) {
      this.deps.log.warn({ decision: view.id, barrier: point.barrier, detail: result.detail }, 'barrier command failed');
      this.deps.alarms.raise('barrier-failed', view.id, `道闸未响应：${point.name}（${result.detail ?? '无应答'}）`, { decision: view.id, barrier: point.barrier });
    }
    return after;
  }

  view(row: DecisionRow): DecisionView {
    const point = this.entryPoints.find((p) => p.id === row.entry_point);
    return {
      id: row.id,
      at: row.at,
      entryPoint: row.entry_point,
      entryPointName: point?.name ?? row.entry_point,
      direction: row.direction,
      credentialKind: row.credential_kind,
      credential: row.credential_kind === 'card' ? maskTail(row.credential_value) : row.credential_value,
      outcome: row.outcome,
      reason: row.reason,
      subject: row.subject,
      subjectName: row.subject_name,
      list: row.list,
      resolvedBy: row.resolved_by,
      resolution: row.resolution,
      barrierStatus: row.barrier_status,
      barrierDetail: row.barrier_detail,
      snapshot: row.snapshot ? `/api/gate/decisions/${row.id}/snapshot` : null,
    };
  }

  /** Where the picture of a decision is on disk: inside its camera's snapshot directory, never outside it. */
  snapshotFile(decisionId: string): string {
    const row = this.deps.store.decisions.get(decisionId);
    const dir = row?.device_id ? this.deps.config.devices[row.device_id]?.snapshot_dir : undefined;
    if (!row?.snapshot || typeof dir !== 'string') throw new GuardpostError(ErrorCode.NotFound, `no picture for decision ${decisionId}`);
    const base = resolve(dir);
    const file = resolve(base, row.snapshot);
    if (!file.startsWith(`${base}${sep}`)) throw new GuardpostError(ErrorCode.NotFound, `no picture for decision ${decisionId}`);
    return file;
  }
}

function knownPass(p: PassRow): KnownPass {
  const detail = JSON.parse(p.detail) as { curfew?: string };
  return {
    id: p.id,
    kind: p.kind,
    holderName: p.holder_name,
    validFrom: p.valid_from,
    validUntil: p.valid_until,
    active: p.status === 'active',
    curfew: detail.curfew ?? null,
  };
}
