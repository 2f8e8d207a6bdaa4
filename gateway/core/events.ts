// The typed events that travel on the gateway's bus: device events from drivers and domain events.
import type { DeviceEvent, DeviceHealth } from '../../drivers/contract.js';
import type { AlarmView, DecisionView, VisitView } from '../http/gate-contracts.js';
import type { CameraView, GrantView, SnapshotView } from '../http/video-contracts.js';

export type { DeviceEvent, DeviceHealth };

/** A device event after it has been durably recorded (it has a store id). */
export interface RecordedDeviceEvent {
  id: string;
  event: DeviceEvent;
}

/** Something arrived that could not be understood; counted and logged once per kind. */
export interface RejectedInput {
  source: string;
  reason: string;
  topic?: string;
  bytes: number;
}

/** Every event the bus carries, by name. Listeners get exactly this payload type. */
export interface BusEvents {
  'device.event': DeviceEvent;
  'device.recorded': RecordedDeviceEvent;
  'device.health': { deviceId: string; health: DeviceHealth };
  'input.rejected': RejectedInput;
  'gate.decision': DecisionView;
  'gate.visit': VisitView;
  alarm: AlarmView;
  'video.grant': GrantView;
  'video.snapshot': SnapshotView;
  'video.camera': CameraView;
}

export type BusEventName = keyof BusEvents;
