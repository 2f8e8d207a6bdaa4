// The device registry: starts every device, restarts failures with backoff, isolates one bad device.
import { describe, expect, it } from 'vitest';
import type { BrokerClient, DeviceHealth, Driver, DriverContext, DriverDefinition } from '../../drivers/contract.js';
import { DeviceRegistry, type DeviceSpec, type DeviceStatus } from '../../drivers/registry.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import Type from 'typebox';

/** A driver whose behaviour each test scripts: how many starts fail, and a handle to its context. */
function scriptedDefinition(failStarts: Record<string, number>, contexts: Map<string, DriverContext>): DriverDefinition<never> {
  return {
    type: 'scripted',
    kinds: ['reader'],
    configSchema: Type.Object({}),
    capabilities: [],
    create(_config, ctx): Driver {
      contexts.set(ctx.deviceId, ctx);
      let health: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
      return {
        async start() {
          const left = failStarts[ctx.deviceId] ?? 0;
          if (left > 0) {
            failStarts[ctx.deviceId] = left - 1;
            throw new Error(`port busy (${left})`);
          }
          health = { ...health, state: 'online' };
          ctx.report({ state: 'online' });
        },
        async stop() {
          health = { ...health, state: 'stopped' };
        },
        health: () => health,
        async command(cmd) {
          return { ok: cmd.type === 'open' };
        },
      };
    },
  };
}

const spec = (id: string, type = 'scripted'): DeviceSpec => ({ id, type, kind: 'reader', name: id, config: {} });
const noBroker = {} as BrokerClient;

function setup(failStarts: Record<string, number>, devices: DeviceSpec[]) {
  const clock = new ManualClock(1_000_000);
  const contexts = new Map<string, DriverContext>();
  const healthLog: DeviceStatus[] = [];
  const events: unknown[] = [];
  const registry = new DeviceRegistry(devices, {
    definitions: [scriptedDefinition(failStarts, contexts)],
    log: silentLogger(),
    clock,
    broker: noBroker,
    emit: (e) => events.push(e),
    emitMany: (batch) => batch.forEach((e) => events.push(e)),
    reject: () => undefined,
    onHealth: (s) => healthLog.push(s),
  });
  return { clock, contexts, healthLog, events, registry };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('device registry', () => {
  it('keeps the other devices running when one fails, and restarts the failed one with growing backoff', async () => {
    const { clock, registry } = setup({ bad: 3 }, [spec('good'), spec('bad'), spec('nodriver', 'unknown-type')]);
    await registry.start();
    const state = (id: string) => registry.get(id)?.state;
    expect(state('good')).toBe('online');
    expect(state('bad')).toBe('failed');
    expect(registry.get('bad')?.lastError).toBe('port busy (3)');
    expect(state('nodriver')).toBe('failed');
    expect(registry.get('nodriver')?.lastError).toBe('no driver for type unknown-type');

    clock.advance(999);
    await flush();
    expect(registry.get('bad')?.lastError).toBe('port busy (3)');
    clock.advance(1); // first retry after 1 s
    await flush();
    expect(registry.get('bad')?.lastError).toBe('port busy (2)');
    clock.advance(1999); // second retry waits 2 s
    await flush();
    expect(registry.get('bad')?.lastError).toBe('port busy (2)');
    clock.advance(1);
    await flush();
    expect(registry.get('bad')?.lastError).toBe('port busy (1)');
    clock.advance(4000); // then 4 s, and this time it comes up
    await flush();
    expect(state('bad')).toBe('online');
    expect(state('good')).toBe('online');
    await registry.stop();
    expect(registry.list().map((d) => d.state)).toEqual(['stopped', 'stopped', 'stopped']);
  });

  it('restarts a running driver that reports itself failed', async () => {
    const { clock, contexts, registry } = setup({}, [spec('r1')]);
    await registry.start();
    contexts.get('r1')!.report({ state: 'failed', lastError: 'firmware wedged' });
    expect(registry.get('r1')).toMatchObject({ state: 'failed', lastError: 'firmware wedged' });
    clock.advance(1000);
    await flush();
    expect(registry.get('r1')?.state).toBe('online');
    await registry.stop();
  });

  it('routes events with lastSeen, routes commands, refuses unknown devices, and ignores a stopped driver', async () => {
    const { clock, contexts, events, registry, healthLog } = setup({}, [spec('r1')]);
    await registry.start();
    const ctx = contexts.get('r1')!;
    ctx.emit({ type: 'checkpoint', deviceId: 'r1', at: clock.now(), tag: 'T1' });
    expect(events).toHaveLength(1);
    expect(registry.get('r1')?.lastSeen).toBe(clock.now());
    expect(await registry.command('r1', { type: 'open' })).toEqual({ ok: true });
    expect(await registry.command('nope', { type: 'open' })).toEqual({ ok: false, detail: 'unknown device nope' });
    expect(healthLog.map((h) => h.state)).toEqual(['starting', 'online']);
    await registry.stop();
    ctx.emit({ type: 'checkpoint', deviceId: 'r1', at: clock.now(), tag: 'T2' });
    expect(events).toHaveLength(1);
  });
});
