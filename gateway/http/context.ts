// What the HTTP layer is given by the composition root: services, never globals.
import type { Logger } from 'pino';
import type { GuardpostConfig } from '../../config/schema.js';
import type { DeviceRegistry } from '../../drivers/registry.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/db.js';
import type { Sessions } from './sessions.js';
import type { Alarms } from '../alarms.js';
import type { Access } from '../gate/access.js';
import type { Passes } from '../gate/passes.js';
import type { Shifts } from '../gate/shifts.js';
import type { Visitors } from '../gate/visitors.js';
import type { Patrol } from '../patrol/service.js';
import type { Video } from '../video/service.js';
import type { SyncMonitor } from '../sync-monitor.js';

export interface GateServices {
  access: Access;
  visitors: Visitors;
  passes: Passes;
  shifts: Shifts;
}

export interface BrokerStatus {
  port(): number;
  clients(): number;
}

export interface HttpContext {
  config: GuardpostConfig;
  clock: Clock;
  log: Logger;
  bus: EventBus;
  store: Store;
  devices: DeviceRegistry;
  broker: BrokerStatus;
  sessions: Sessions;
  metrics: Metrics;
  alarms: Alarms;
  gate: GateServices;
  patrol: Patrol;
  video: Video;
  sync: SyncMonitor;
  startedAt: number;
}
