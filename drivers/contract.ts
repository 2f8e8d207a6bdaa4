// The driver contract: what every device driver is, what it is given, and the events it emits.
import type { TSchema } from 'typebox';
import type { Logger } from 'pino';
import type { Clock } from '../gateway/core/clock.js';

/** What a device is, as the domain sees it. */
export type DeviceKind = 'reader' | 'plate-camera' | 'barrier' | 'checkpoint' | 'camera';

export const deviceKinds: readonly DeviceKind[] = ['reader', 'plate-camera', 'barrier', 'checkpoint', 'camera'];

interface DeviceEventBase {
  deviceId: string;
  /** When the device saw it, UTC epoch ms (the gateway's receive time when the device sends none). */
  at: number;
}

/** The typed events a driver emits; every driver, whatever its bytes, produces these. */
export type DeviceEvent =
  | (DeviceEventBase & { type: 'credential'; credential: { kind: 'card' | 'pin' | 'qr'; value: string; format?: string } })
  | (DeviceEventBase & { type: 'plate'; plate: string; confidence?: number; snapshot?: string })
  | (DeviceEventBase & {
      type: 'checkpoint';
      tag: string;
      /** Present for a record downloaded from an offline wand: its identity and the clock correction applied. */
      wand?: { id: string; seq: number; wandTime: string; offsetMs: number };
    })
  | (DeviceEventBase & { type: 'state'; state: Record<string, string | number | boolean> });

export type DeviceEventType = DeviceEvent['type'];

/** Which event types each kind of device may send; anything else is a misconfigured or rogue device. */
export const eventsByKind: Record<DeviceKind, readonly DeviceEventType[]> = {
  reader: ['credential', 'state'],
  'plate-camera': ['plate', 'state'],
  barrier: ['state'],
  checkpoint: ['checkpoint', 'state'],
  camera: ['state'],
};

export type DeviceState = 'starting' | 'online' | 'offline' | 'failed' | 'stopped';

export interface DeviceHealth {
  state: DeviceState;
  /** Last time anything was heard from the device, epoch ms. */
  lastSeen: number | null;
  lastError: string | null;
}

/** A command to a device; drivers answer with an ack or throw. */
export interface DeviceCommand {
  type: string;
  params?: Record<string, unknown>;
}

export interface CommandResult {
  ok: boolean;
  detail?: string;
}

export interface Driver {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): DeviceHealth;
  command?(cmd: DeviceCommand): Promise<CommandResult>;
}

/** A message handed to an in-process broker subscriber. */
export interface BrokerMessage {
  topic: string;
  payload: Buffer;
  retained: boolean;
}

/** The embedded broker as drivers see it: no aedes, no authentication, just topics. */
export interface BrokerClient {
  /**
   * Subscribe in-process. The handler's returned promise (or return) completes before the broker
   * acknowledges a QoS 1 publish, so a handler that records an event durably first makes the ack honest.
   * With `retained`, retained messages matching the filter are delivered first.
   */
  subscribe(filter: string, handler: (msg: BrokerMessage) => void | Promise<void>, opts?: { retained?: boolean }): Promise<() => Promise<void>>;
  publish(topic: string, payload: string | Buffer, opts?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
}

/** Everything a driver may touch. Drivers never see the store or domain services. */
export interface DriverContext {
  deviceId: string;
  log: Logger;
  /** Hand a device event to the gateway; returns once the gateway has accepted it. */
  emit(event: DeviceEvent): void;
  /**
   * Hand several events at once, recorded in one commit: for bulk downloads (a patrol wand) whose
   * source keeps them until told otherwise, where one commit per record would be needlessly slow.
   */
  emitMany(events: DeviceEvent[]): void;
  /** Report a change of health; the supervisor keeps the latest and publishes changes. */
  report(health: Partial<DeviceHealth>): void;
  /** Count and log once something the device sent that could not be understood. */
  reject(reason: string, raw: Buffer | string, topic?: string): void;
  broker: BrokerClient;
  /** Time and timers; tests pass a manual clock. */
  clock: Clock;
  /** Aborted when the driver is being stopped. */
  signal: AbortSignal;
}

/**
 * Topics outside guardpost's gp/ tree that a device with its own topic format (Tasmota, ESPHome,
 * vendor firmware) uses. Filters use MQTT wildcards; the first level must be literal and not `gp`.
 * Retained messages are allowed under them: such firmware retains its status and often its state.
 */
export interface ExtraTopics {
  /** Filters this device alone may publish to (its telemetry, status and replies). */
  publish?: readonly string[];
  /** Filters this device alone may subscribe to (its commands). */
  subscribe?: readonly string[];
  /**
   * Filters the device may publish to that no part of guardpost reads and that devices of the same
   * firmware share because the topic carries something the config does not know, such as
   * Tasmota's discovery announcement on tasmota/discovery/<MAC>/config. A refused publish closes
   * the connection, so without these such a device would be disconnected over and over.
   */
  shared?: readonly string[];
}

/** A driver family: its config schema, what it can do, and how to build one. */
export interface DriverDefinition<C = unknown> {
  type: string;
  kinds: readonly DeviceKind[];
  /** The driver's own config keys (beyond type, kind, name), as a TypeBox object schema. */
  configSchema: TSchema;
  capabilities: readonly string[];
  /** For devices that log in to the embedded broker with their own topic formats: the topics they may use. */
  mqttTopics?(config: C): ExtraTopics;
  create(config: C, ctx: DriverContext): Driver;
}
