// How a device event looks on a screen or the websocket: flat, named, and with personal numbers masked.
import type { EventView } from '../http/contracts.js';
import type { DeviceEvent } from '../../drivers/contract.js';
import type { DeviceStatus } from '../../drivers/registry.js';
import { maskTail } from '../core/mask.js';

export function eventView(id: string, event: DeviceEvent, receivedAt: number, device: DeviceStatus | undefined): EventView {
  return {
    id,
    deviceId: event.deviceId,
    deviceName: device?.name ?? event.deviceId,
    deviceKind: device?.kind ?? 'unknown',
    type: event.type,
    at: event.at,
    receivedAt,
    detail: eventDetail(event),
  };
}

function eventDetail(event: DeviceEvent): EventView['detail'] {
  switch (event.type) {
    case 'credential':
      return { kind: event.credential.kind, value: maskTail(event.credential.value) };
    case 'plate':
      return event.confidence === undefined ? { plate: event.plate } : { plate: event.plate, confidence: event.confidence };
    case 'checkpoint':
      return { tag: event.tag };
    case 'state':
      return event.state;
    case 'camera.event':
      return { topic: event.topic, ...event.data };
  }
}
