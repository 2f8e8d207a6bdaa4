// Typed, synchronous event bus: one listener's failure never reaches the emitter or other listeners.
import type { Logger } from 'pino';
import type { BusEventName, BusEvents } from './events.js';

type Listener<K extends BusEventName> = (payload: BusEvents[K]) => void | Promise<void>;

export class EventBus {
  // Listeners are stored per event name; the Map keeps registration order.
  private readonly listeners = new Map<BusEventName, Set<Listener<BusEventName>>>();

  constructor(private readonly log: Logger) {}

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends BusEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<BusEventName>);
    return () => set.delete(listener as Listener<BusEventName>);
  }

  /**
   * Deliver to every listener in registration order, synchronously. Synchronous delivery is what
   * lets a driver acknowledge a device only after the durable write made by a listener returned.
   */
  emit<K extends BusEventName>(name: K, payload: BusEvents[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        const result = listener(payload);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((err: unknown) => this.reportFailure(name, err));
        }
      } catch (err) {
        this.reportFailure(name, err);
      }
    }
  }

  listenerCount(name: BusEventName): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  private reportFailure(name: BusEventName, err: unknown): void {
    this.log.error({ err, event: name }, 'bus listener failed');
  }
}
