// The event bus: delivery in order, and one listener's failure never reaches the others or the emitter.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../gateway/core/bus.js';

describe('event bus', () => {
  it('delivers to every listener even when one throws or rejects, and logs the failures', async () => {
    const logged: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    const bus = new EventBus(log);
    const seen: string[] = [];
    bus.on('input.rejected', () => {
      throw new Error('listener one broke');
    });
    bus.on('input.rejected', async () => {
      throw new Error('listener two broke later');
    });
    const off = bus.on('input.rejected', (r) => void seen.push(r.reason));
    expect(() => bus.emit('input.rejected', { source: 'x', reason: 'bad json', bytes: 3 })).not.toThrow();
    expect(seen).toEqual(['bad json']);
    await new Promise((r) => setImmediate(r));
    expect(logged.join('')).toContain('listener one broke');
    expect(logged.join('')).toContain('listener two broke later');
    off();
    bus.emit('input.rejected', { source: 'x', reason: 'again', bytes: 1 });
    expect(seen).toEqual(['bad json']);
    expect(bus.listenerCount('input.rejected')).toBe(2);
  });
});
