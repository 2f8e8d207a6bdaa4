// The composition root: builds every component of a guard post from its config and starts/stops them in order.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { GuardpostConfig } from '../config/schema.js';
import { driverCatalogue } from '../drivers/catalogue.js';
import { DeviceRegistry, type DeviceSpec } from '../drivers/registry.js';
import { DeviceSimulator } from '../drivers/sim/simulator.js';
import { createBroker, type Broker, type DeviceCredentials } from './broker/broker.js';
import { EventBus } from './core/bus.js';
import { systemClock, type Clock } from './core/clock.js';
import { ErrorCode, GuardpostError } from './core/errors.js';
import { deviceIntake } from './devices/intake.js';
import { RejectionLog } from './devices/rejections.js';
import { buildApp, type App } from './http/app.js';
import { Sessions } from './http/sessions.js';
import { Metrics } from './metrics.js';
import { openStore, prepareDataDir, type Store } from './store/db.js';
import { Alarms } from './alarms.js';
import { Access } from './gate/access.js';
import { importResidents } from './gate/import.js';
import { Passes } from './gate/passes.js';
import { GateSchedule } from './gate/schedule.js';
import { Shifts } from './gate/shifts.js';
import { Visitors } from './gate/visitors.js';
import { demoPatrolPlanPath, demoResidentsPath } from './core/paths.js';
import type { PatrolPlan } from './http/patrol-contracts.js';
import { Patrol } from './patrol/service.js';
import { Video } from './video/service.js';
import { Sync } from '../sync/sync.js';
import { SyncMonitor } from './sync-monitor.js';
import { lockDataDir, type DataDirLock } from './store/lock.js';

export interface GatewayOptions {
  config: GuardpostConfig;
  log: Logger;
  clock?: Clock;
}

export interface Listening {
  httpPort: number;
  mqttPort: number;
}

export class Gateway {
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Undo steps of what has started, run in reverse by stop(). */
  private readonly stack: { name: string; undo: () => unknown }[] = [];
  private store: Store | null = null;
  private app: App | null = null;
  private starting: Promise<Listening> | null = null;

  constructor(private readonly options: GatewayOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
  }

  /** Start everything; on failure whatever had started is stopped again before the error is thrown. */
  start(): Promise<Listening> {
    this.starting ??= this.startAll().catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    while (this.stack.length > 0) {
      const step = this.stack.pop()!;
      try {
        await step.undo();
      } catch (err) {
        this.log.error({ err, step: step.name }, 'stop step failed');
      }
    }
    this.starting = null;
  }

  /** The HTTP app while running (tests use its inject()). */
  get http(): App | null {
    return this.app;
  }

  /** True while the event loop turns and the store answers: what the systemd watchdog pings on. */
  isHealthy(): boolean {
    try {
      return this.store?.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  private push(name: string, undo: () => unknown): void {
    this.stack.push({ name, undo });
  }

  private async startAll(): Promise<Listening> {
    const { config } = this.options;
    const { clock, log } = this;
    const startedAt = clock.now();
    const dataDir = resolve(config.data_dir);

    prepareDataDir(dataDir);
    const lock: DataDirLock = await lockDataDir(dataDir);
    this.push('lock', () => lock.release());

    const store = openStore({ dataDir, now: () => clock.now(), checkpointsElsewhere: config.sync.enabled });
    this.store = store;
    this.push('store', () => {
      this.store = null;
      store.close();
    });
    if (store.migration.applied.length > 0) log.info({ applied: store.migration.applied }, 'database migrated');

    const bus = new EventBus(log.child({ component: 'bus' }));
    const rejections = new RejectionLog(bus, log.child({ component: 'input' }));
    const intake = deviceIntake(bus, store);

    // Every device with a password logs in to the broker; drivers of other firmwares name their extra topics.
    const mqttDevices = new Map<string, DeviceCredentials>(
      Object.entries(config.devices)
        .filter(([, d]) => typeof d.password_hash === 'string' && d.enabled !== false)
        .map(([id, d]) => {
          const extraTopics = driverCatalogue.find((def) => def.type === d.type)?.mqttTopics?.(d as never);
          return [id, extraTopics ? { passwordHash: d.password_hash as string, extraTopics } : { passwordHash: d.password_hash as string }];
        }),
    );
    const broker: Broker = createBroker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      maxPayloadBytes: config.mqtt.max_payload_bytes,
      devices: mqttDevices,
      log: log.child({ component: 'broker' }),
      onRejected: (r) => rejections.report(r.source, r.reason, null, r.topic, r.bytes),
    });
    let mqttPort: number;
    try {
      mqttPort = await broker.start();
    } catch (err) {
      throw listenError('MQTT', config.mqtt.host, config.mqtt.port, err);
    }
    this.push('broker', () => broker.stop());

    const specs: DeviceSpec[] = Object.entries(config.devices)
      .filter(([, d]) => d.enabled !== false)
      .map(([id, d]) => ({ id, type: d.type, kind: d.kind, name: d.name ?? id, config: d }));
    const devices = new DeviceRegistry(specs, {
      definitions: driverCatalogue,
      log: log.child({ component: 'devices' }),
      clock,
      broker: broker.client,
      emit: intake.accept,
      emitMany: intake.acceptMany,
      reject: (deviceId, reason, raw, topic) => rejections.report(deviceId, reason, raw, topic),
      onHealth: (status) => {
        log.info({ device: status.id, state: status.state, lastError: status.lastError }, 'device state');
        bus.emit('device.health', { deviceId: status.id, health: status });
      },
    });
    await devices.start();
    this.push('devices', () => devices.stop());

    // The link to HQ: its own worker thread and store connection, so draining never delays the gate.
    const sync = new Sync({ site: config.site.id, dataDir, sync: config.sync, log: log.child({ component: 'sync' }), clock });
    let syncMonitor: SyncMonitor | null = null;
    const metrics = new Metrics(bus, {
      devices: () => devices.list(),
      outboxDepth: () => store.outbox.depth(),
      storeBytes: () => store.sizeBytes(),
      mqttClients: () => broker.connectedClients(),
      sync: () => syncMonitor!.view(),
    });
    metrics.start();
    this.push('metrics', () => metrics.stop());

    const alarms = new Alarms(store, bus, clock);
    const access = new Access({ config, store, bus, clock, log: log.child({ component: 'gate' }), devices, alarms });
    const visitors = new Visitors({ config, store, bus, clock, alarms });
    const passes = new Passes({ config, store, clock, alarms });
    const shifts = new Shifts({ config, store, clock, alarms });
    if (config.demo?.enabled && store.residents.unitCount() === 0) seedDemoResidents(store, config, log, clock.now());
    access.start();
    visitors.start();
    this.push('gate', () => {
      access.stop();
      visitors.stop();
    });
    const patrol = new Patrol({ config, store, bus, clock, log: log.child({ component: 'patrol' }), alarms });
    if (config.demo?.enabled) patrol.seedPlan(JSON.parse(readFileSync(demoPatrolPlanPath, 'utf8')) as PatrolPlan);
    patrol.start();
    this.push('patrol', () => patrol.stop());
    const schedule = new GateSchedule({ clock, log: log.child({ component: 'gate' }), store, access, visitors, passes, shifts });
    schedule.start();
    this.push('gate-schedule', () => schedule.stop());

    syncMonitor = new SyncMonitor({ sync, enabled: config.sync.enabled, store, alarms, clock, patrol, log: log.child({ component: 'sync' }), alarmAfterS: config.sync.alarm_after_s });
    syncMonitor.start();
    sync.start();
    this.push('sync', async () => {
      syncMonitor!.stop();
      await sync.stop();
    });

    const video = new Video({ config, store, bus, clock, log: log.child({ component: 'video' }), alarms, devices });
    video.start();
    this.push('video', () => video.stop());

    const app: App = await buildApp({
      config,
      clock,
      log,
      bus,
      store,
      devices,
      broker: { port: () => mqttPort, clients: () => broker.connectedClients() },
      sessions: new Sessions(config.people, clock, store.audit),
      metrics,
      alarms,
      gate: { access, visitors, passes, shifts },
      patrol,
      video,
      sync: syncMonitor,
      startedAt,
    });
    this.app = app;
    this.push('http', () => {
      this.app = null;
      return app.close();
    });
    try {
      await app.listen({ host: config.http.host, port: config.http.port });
    } catch (err) {
      throw listenError('HTTP', config.http.host, config.http.port, err);
    }
    const httpPort = (app.server.address() as { port: number }).port;

    if (config.demo?.enabled) {
      const sims = config.demo.simulators.map(
        (s) =>
          new DeviceSimulator(
            { deviceId: s.device, kind: config.devices[s.device]!.kind, password: s.password, everyS: s.every_s, startS: s.start_s },
            { brokerUrl: `mqtt://127.0.0.1:${mqttPort}`, clock, log: log.child({ component: 'sim' }) },
          ),
      );
      sims.forEach((s) => s.start());
      this.push('simulators', () => Promise.all(sims.map((s) => s.stop())));
    }

    store.audit.append({ actor: 'system', action: 'gateway.start', detail: { httpPort, mqttPort } });
    this.push('audit-stop', () => store.audit.append({ actor: 'system', action: 'gateway.stop' }));
    log.info({ http: `http://${config.http.host}:${httpPort}`, mqttPort, dataDir, site: config.site.id }, 'guardpost running');
    return { httpPort, mqttPort };
  }
}

/** The demo compound's residents, cards and plates, loaded once into a new demo database. */
function seedDemoResidents(store: Store, config: GuardpostConfig, log: Logger, now: number): void {
  const report = importResidents(readFileSync(demoResidentsPath, 'utf8'), {
    store,
    lists: Object.keys(config.gate.lists),
    now,
    actor: 'system',
    timeZone: config.site.timezone,
  });
  log.info({ units: report.units, residents: report.residents, credentials: report.credentials, rejected: report.rejected.length }, 'demo residents loaded');
}

function listenError(what: string, host: string, port: number, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new GuardpostError(ErrorCode.PortInUse, `${what} port ${port} on ${host} is already in use: stop what uses it or set another port`);
  if (code === 'EACCES') return new GuardpostError(ErrorCode.PortInUse, `${what} port ${port} on ${host} needs privileges this user lacks: use a port above 1024`);
  if (code === 'EADDRNOTAVAIL') return new GuardpostError(ErrorCode.PortInUse, `${what} address ${host} is not an address of this machine`);
  return err instanceof Error ? err : new Error(String(err));
}
