// Repository for device events: each one stored with its outbox row in a single transaction.
import type Database from 'better-sqlite3';
import type { DeviceEvent } from '../../drivers/contract.js';
import { newId } from '../core/ids.js';
import type { Outbox } from './outbox.js';

export interface StoredDeviceEvent {
  id: string;
  deviceId: string;
  type: DeviceEvent['type'];
  at: number;
  receivedAt: number;
  event: DeviceEvent;
}

interface Row {
  id: string;
  device_id: string;
  type: DeviceEvent['type'];
  at: number;
  received_at: number;
  data: string;
}

export class DeviceEventRepo {
  private readonly insert: Database.Statement<[string, string, string, number, number, string]>;
  private readonly recordOne: Database.Transaction<(event: DeviceEvent) => string>;
  private readonly recordBatch: Database.Transaction<(events: DeviceEvent[]) => string[]>;

  constructor(
    private readonly db: Database.Database,
    outbox: Outbox,
    private readonly now: () => number,
  ) {
    this.insert = db.prepare('INSERT INTO device_events (id, device_id, type, at, received_at, data) VALUES (?, ?, ?, ?, ?, ?)');
    const write = (event: DeviceEvent): string => {
      const id = newId();
      const receivedAt = this.now();
      const data = JSON.stringify(event);
      this.insert.run(id, event.deviceId, event.type, event.at, receivedAt, data);
      outbox.add('device_events', id, { id, receivedAt, ...event }, receivedAt);
      return id;
    };
    this.recordOne = db.transaction(write);
    this.recordBatch = db.transaction((events: DeviceEvent[]) => events.map(write));
  }

  /** Durable when it returns (synchronous=FULL). */
  record(event: DeviceEvent): string {
    return this.recordOne.immediate(event);
  }

  /** Many events in one transaction: one fsync for the lot. */
  recordMany(events: DeviceEvent[]): string[] {
    return this.recordBatch.immediate(events);
  }

  recent(limit: number): StoredDeviceEvent[] {
    const rows = this.db.prepare('SELECT * FROM device_events ORDER BY received_at DESC, id DESC LIMIT ?').all(limit) as Row[];
    return rows.map(fromRow);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM device_events').get() as { n: number }).n;
  }
}

function fromRow(r: Row): StoredDeviceEvent {
  return { id: r.id, deviceId: r.device_id, type: r.type, at: r.at, receivedAt: r.received_at, event: JSON.parse(r.data) as DeviceEvent };
}
