// Prometheus metrics: counters fed from the bus, gauges read from the store, broker and devices on scrape.
import { Counter, Gauge, Registry } from 'prom-client';
import type { EventBus } from './core/bus.js';
import type { DeviceStatus } from '../drivers/registry.js';
import type { SyncView } from './http/contracts.js';

export interface MetricsSources {
  devices(): DeviceStatus[];
  outboxDepth(): number;
  storeBytes(): number;
  mqttClients(): number;
  sync(): SyncView;
}

const deviceStates = ['starting', 'online', 'offline', 'failed', 'stopped'] as const;

export class Metrics {
  readonly registry = new Registry();
  private readonly offs: (() => void)[] = [];
  private readonly deviceEvents: Counter<'type'>;
  private readonly rejected: Counter<'source' | 'reason'>;

  constructor(
    private readonly bus: EventBus,
    sources: MetricsSources,
  ) {
    const registers = [this.registry];
    this.deviceEvents = new Counter({
      name: 'guardpost_device_events_total',
      help: 'Device events durably recorded, by type.',
      labelNames: ['type'],
      registers,
    });
    this.rejected = new Counter({
      name: 'guardpost_input_rejected_total',
      help: 'Messages refused or not understood (bad payload, unknown topic, oversize, denied), by source and reason.',
      labelNames: ['source', 'reason'],
      registers,
    });
    new Gauge({
      name: 'guardpost_device_state',
      help: '1 for the state each device is in, 0 for the others.',
      labelNames: ['device', 'kind', 'state'],
      registers,
      collect() {
        this.reset();
        for (const d of sources.devices()) {
          for (const state of deviceStates) this.set({ device: d.id, kind: d.kind, state }, d.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'guardpost_outbox_depth',
      help: 'Records waiting to be sent to HQ.',
      registers,
      collect() {
        this.set(sources.outboxDepth());
      },
    });
    new Gauge({
      name: 'guardpost_sync_oldest_unsent_seconds',
      help: 'Age of the oldest record not yet acknowledged by HQ (0 when none waits).',
      registers,
      collect() {
        this.set(sources.sync().oldestUnsentAgeS ?? 0);
      },
    });
    new Gauge({
      name: 'guardpost_sync_last_success_timestamp_seconds',
      help: 'When HQ last acknowledged a batch (0 never).',
      registers,
      collect() {
        this.set((sources.sync().lastSuccessAt ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'guardpost_sync_parked_records',
      help: 'Records HQ refused as invalid, waiting for an admin.',
      registers,
      collect() {
        this.set(sources.sync().parked ?? 0);
      },
    });
    new Gauge({
      name: 'guardpost_sync_online',
      help: '1 while the link to HQ is up.',
      registers,
      collect() {
        this.set(sources.sync().state === 'online' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'guardpost_store_bytes',
      help: 'Size of the database and its write-ahead log.',
      registers,
      collect() {
        this.set(sources.storeBytes());
      },
    });
    new Gauge({
      name: 'guardpost_mqtt_clients',
      help: 'MQTT clients connected to the embedded broker.',
      registers,
      collect() {
        this.set(sources.mqttClients());
      },
    });
  }

  start(): void {
    if (this.offs.length > 0) return;
    this.offs.push(
      this.bus.on('device.recorded', ({ event }) => this.deviceEvents.inc({ type: event.type })),
      this.bus.on('input.rejected', (r) => this.rejected.inc({ source: r.source, reason: r.reason })),
    );
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
