// Where device events enter the gateway: recorded durably first, then handed to every service on the bus.
import type { DeviceEvent } from '../../drivers/contract.js';
import type { EventBus } from '../core/bus.js';
import type { Store } from '../store/db.js';

export interface DeviceIntake {
  /** Throws when the event could not be recorded: the driver must then not acknowledge it to the device. */
  accept(event: DeviceEvent): void;
  /** Several events in one commit (a wand's download block); all or none. */
  acceptMany(events: DeviceEvent[]): void;
}

/**
 * The raw event and its outbox row are committed before any service sees it, outside the bus on
 * purpose: the bus shields listeners from each other's failures, but a failure to record must reach
 * the driver, so that an MQTT device gets no PUBACK and sends again instead of being told "stored".
 */
export function deviceIntake(bus: EventBus, store: Store): DeviceIntake {
  const accept = (event: DeviceEvent): void => {
    const id = store.deviceEvents.record(event);
    bus.emit('device.recorded', { id, event });
    bus.emit('device.event', event);
  };
  return {
    accept,
    // Every service's writes join the one transaction: one commit for the lot.
    acceptMany: (events) => store.transaction(() => events.forEach(accept)),
  };
}
