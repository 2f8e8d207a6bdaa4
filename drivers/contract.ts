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
  | (DeviceEventBase & { type: 'state'; state: Record<string, string | number | boolean> })
  /**
   * Something a camera reported (ONVIF event: motion, tamper, an input): `topic` is the ONVIF topic
   * without namespaces (e.g. "RuleEngine/CellMotionDetector/Motion"), `data` its simple items.
   */
  | (DeviceEventBase & { type: 'camera.event'; topic: string; source?: Record<string, string>; data: Record<string, string | number | boolean> });

export type DeviceEventType = DeviceEvent['type'];

/** Which event types each kind of device may send; anything else is a misconfigured or rogue device. */
export const eventsByKind: Record<DeviceKind, readonly DeviceEventType[]> = {
  reader: ['credential', 'state'],
  'plate-camera': ['plate', 'state'],
  barrier: ['state'],
  checkpoint: ['checkpoint', 'state'],
  camera: ['camera.event', 'state'],
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
  /** What a query command answers (a camera's `describe` or `snapshot`); see the device kind's commands. */
  data?: unknown;
}

/** One stream a camera offers (an ONVIF media profile, or a configured RTSP URL). */
export interface CameraStream {
  /** The ONVIF profile token, or "main"/"sub" for a camera configured by URL. */
  token: string;
  name: string;
  /** rtsp:// URL with the credentials in it: pass it to ffmpeg, never log it (see gateway/core/log redaction). */
  uri: string;
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
}

/**
 * What a camera offers, answered by its driver's `describe` command. Capabilities decide features:
 * no `ptz`, no PTZ buttons; no `snapshot`, the gateway grabs a frame from the stream itself.
 */
export interface CameraMedia {
  info: { manufacturer?: string; model?: string; firmware?: string; serial?: string };
  /** In the camera's profile order: [0] is the main stream, [1] (when present) the sub-stream for live tiles. */
  streams: CameraStream[];
  snapshot: boolean;
  ptz: boolean;
  /** How the driver hears of camera events: a PullPoint subscription, or none (liveness polled only). */
  events: 'pullpoint' | 'none';
}

/**
 * The commands every camera driver answers:
 * - `describe` -> data: CameraMedia
 * - `snapshot` -> data: Buffer (a JPEG), when `snapshot` is true
 * - `ptz.move` {pan, tilt, zoom: -1..1, timeout_ms?} / `ptz.stop` / `ptz.presets` -> data: {token, name}[]
 *   / `ptz.goto` {preset}, when `ptz` is true
 */
export type CameraCommandType = 'describe' | 'snapshot' | 'ptz.move' | 'ptz.stop' | 'ptz.presets' | 'ptz.goto';

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
