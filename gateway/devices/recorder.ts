// Records every device event durably, then announces it to screens, metrics and observers.
import type { EventBus } from '../core/bus.js';
import type { Store } from '../store/db.js';

/** Start/stop component: device.event in, one committed row (+ outbox) out, then device.recorded. */
export function deviceEventRecorder(bus: EventBus, store: Store) {
  let off: (() => void) | null = null;
  return {
    start() {
      off ??= bus.on('device.event', (event) => {
        const id = store.deviceEvents.record(event);
        bus.emit('device.recorded', { id, event });
      });
    },
    stop() {
      off?.();
      off = null;
    },
  };
}
