// Tests SerialLink over real socat pseudo-terminal pairs with the real serialport binding: data, unplug, replug, stop.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../gateway/core/clock.js';
import { GuardpostError } from '../../../gateway/core/errors.js';
import { SerialLink, SerialWriteError, type SerialLinkOptions } from '../../../drivers/serial/link.js';
import { startPtyPair, stopPtyPair } from './socat.js';

/** Polls until `cond` holds; fails with `what` after `ms`. Only ever a deadline, never a measurement. */
async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface LogLine {
  level: number;
  msg: string;
  err?: unknown;
}

/** A real pino logger whose lines the test can read. */
function captureLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

/** The system clock, counting timers still pending, to prove stop() leaves none behind. */
function countingClock(): { clock: Clock; active: () => number } {
  const live = new Set<object>();
  const clock: Clock = {
    now: () => systemClock.now(),
    setInterval: (fn, ms) => systemClock.setInterval(fn, ms),
    setTimeout(fn, ms) {
      const token = {};
      live.add(token);
      const t = systemClock.setTimeout(() => {
        live.delete(token);
        fn();
      }, ms);
      return {
        cancel: () => {
          live.delete(token);
          t.cancel();
        },
      };
    },
  };
  return { clock, active: () => live.size };
}

let dir: string;
let devPath: string;
let peerPath: string;
const socats = new Set<ChildProcess>();
const ports = new Set<SerialPort>();
const links = new Set<SerialLink>();

/** A pseudo-terminal pair: the link opens devPath, the test plays the device on peerPath. */
async function startSocat(): Promise<ChildProcess> {
  const proc = await startPtyPair(devPath, peerPath);
  socats.add(proc);
  return proc;
}

async function stopSocat(proc: ChildProcess): Promise<void> {
  socats.delete(proc);
  await stopPtyPair(proc);
}

/** The device end, opened with the real binding too; collects what the link sends. */
async function openPeer(): Promise<{ port: SerialPort; received: () => Buffer }> {
  const port = new SerialPort({ path: peerPath, baudRate: 9600, autoOpen: false });
  port.on('error', () => {}); // the peer dies with socat on purpose
  const chunks: Buffer[] = [];
  port.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  ports.add(port);
  return { port, received: () => Buffer.concat(chunks) };
}

async function closePeer(port: SerialPort): Promise<void> {
  ports.delete(port);
  if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
}

function makeLink(extra: Partial<SerialLinkOptions> = {}, clock: Clock = systemClock) {
  const { log, lines } = captureLogger();
  const states: Array<{ state: string; error?: string }> = [];
  const chunks: Buffer[] = [];
  const link = new SerialLink(
    { path: devPath, baudRate: 9600, ...extra },
    { log, clock, onData: (c) => chunks.push(c), onState: (state, error) => states.push(error === undefined ? { state } : { state, error }) },
  );
  links.add(link);
  return { link, lines, states, received: () => Buffer.concat(chunks), reset: () => void chunks.splice(0) };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-serial-'));
  devPath = join(dir, 'dev');
  peerPath = join(dir, 'peer');
});

afterEach(async () => {
  await Promise.all([...links].map((l) => l.stop()));
  links.clear();
  await Promise.all([...ports].map(closePeer));
  await Promise.all([...socats].map(stopSocat));
  await rm(dir, { recursive: true, force: true });
});

describe('SerialLink over a socat pty pair', () => {
  it('carries bytes both ways and resolves writes after drain', async () => {
    await startSocat();
    const { link, states, received } = makeLink();
    await link.start();
    expect(link.state).toBe('online');
    expect(states).toEqual([{ state: 'online' }]);
    const peer = await openPeer();

    await link.write(Buffer.from([0x53, 0x00, 0x08, 0x00, 0x04, 0x60, 0xaa, 0xbb]));
    await waitFor(() => peer.received().length === 8, 'the device to receive 8 bytes');
    expect(peer.received()).toEqual(Buffer.from([0x53, 0x00, 0x08, 0x00, 0x04, 0x60, 0xaa, 0xbb]));

    peer.port.write(Buffer.from('W26:1234567\r\n'));
    await waitFor(() => received().length === 13, 'the link to receive a line');
    expect(String(received())).toBe('W26:1234567\r\n');
  });

  it('goes offline when the device vanishes, logs once per change, and comes back within 5 s', async () => {
    const first = await startSocat();
    const { link, lines, states, received, reset } = makeLink();
    await link.start();
    const peer = await openPeer();

    await stopSocat(first);
    await waitFor(() => link.state === 'offline', 'the link to notice the unplug');
    expect(states.map((s) => s.state)).toEqual(['online', 'offline']);
    await expect(link.write(Buffer.from('x'))).rejects.toMatchObject({ name: 'SerialWriteError', reason: 'offline' });
    await closePeer(peer.port);

    // Let it retry several times while the device is gone: retries are logged at debug only.
    const retries = () => lines.filter((l) => l.msg === 'serial port unavailable, will retry').length;
    await waitFor(() => retries() >= 4, 'four failed reopen attempts');
    const warns = lines.filter((l) => l.level === 40);
    expect(warns.filter((l) => l.msg === 'serial port offline')).toHaveLength(1);
    for (let i = 1; i < warns.length; i++) expect(warns[i]?.err).not.toEqual(warns[i - 1]?.err);
    expect(warns.length).toBeLessThan(retries());

    await startSocat();
    await waitFor(() => link.state === 'online', 'the link to come back online', 5000);
    expect(states.at(-1)).toEqual({ state: 'online' });
    expect(lines.filter((l) => l.msg === 'serial port online')).toHaveLength(2);

    const again = await openPeer();
    reset();
    again.port.write(Buffer.from('after replug\n'));
    await waitFor(() => String(received()) === 'after replug\n', 'data after the replug');
    await link.write(Buffer.from('ack\n'));
    await waitFor(() => String(again.received()) === 'ack\n', 'the device to receive after the replug');
  });

  it('starts offline when the port is absent and goes online within 5 s once it appears', async () => {
    const { link, states, received } = makeLink();
    await link.start();
    expect(link.state).toBe('offline');
    expect(states).toHaveLength(1);
    expect(states[0]?.state).toBe('offline');
    expect(states[0]?.error).toMatch(/no such file/i);
    expect(link.lastError).toMatch(/no such file/i);

    await startSocat();
    await waitFor(() => link.state === 'online', 'the link to open the new port', 5000);
    const peer = await openPeer();
    peer.port.write(Buffer.from([1, 2, 3]));
    await waitFor(() => received().length === 3, 'bytes from the device');
  });

  it('stop is idempotent, cancels its timers, releases the port and rejects later writes', async () => {
    const { clock, active } = countingClock();
    const { link, states } = makeLink({}, clock);
    await link.start();
    expect(active()).toBe(1); // the retry timer
    await Promise.all([link.stop(), link.stop()]);
    expect(active()).toBe(0);
    expect(link.state).toBe('stopped');
    await link.stop();

    await startSocat();
    await link.start();
    await link.start();
    expect(link.state).toBe('online');
    await link.stop();
    expect(link.state).toBe('stopped');
    expect(active()).toBe(0);
    expect(states.map((s) => s.state)).toEqual(['offline', 'online']);
    await expect(link.write(Buffer.from('x'))).rejects.toMatchObject({ reason: 'stopped' });

    // The lock and descriptor are gone: another link can take the same port at once.
    const other = makeLink();
    await other.link.start();
    expect(other.link.state).toBe('online');
  });

  it('rejects a write that cannot drain in time, and one pending when the port vanishes', async () => {
    const proc = await startSocat();
    const { link } = makeLink({ writeTimeoutMs: 300 });
    await link.start();
    // Nobody reads the device end, so the pty and socat buffers fill and the write cannot complete.
    const big = Buffer.alloc(4 * 1024 * 1024, 0x55);
    const timedOut = link.write(big);
    await expect(timedOut).rejects.toMatchObject({ reason: 'timeout' });
    expect(link.state).toBe('online');

    const { link: slow } = makeLink({ writeTimeoutMs: 30_000 });
    await link.stop();
    await slow.start();
    const pending = slow.write(big);
    let settled = false;
    void pending.catch(() => {}).finally(() => (settled = true));
    await stopSocat(proc);
    await waitFor(() => settled, 'the pending write to fail');
    await expect(pending).rejects.toBeInstanceOf(SerialWriteError);
    await expect(pending).rejects.toMatchObject({ reason: expect.stringMatching(/disconnected|io/) });
    await waitFor(() => slow.state === 'offline', 'the link to go offline');
  });

  it('survives a data handler that throws', async () => {
    await startSocat();
    const { log, lines } = captureLogger();
    let calls = 0;
    const link = new SerialLink(
      { path: devPath, baudRate: 9600 },
      {
        log,
        clock: systemClock,
        onData: () => {
          calls++;
          throw new Error('driver bug');
        },
      },
    );
    links.add(link);
    await link.start();
    const peer = await openPeer();
    peer.port.write(Buffer.from('a'));
    await waitFor(() => calls >= 1, 'the handler to run');
    expect(lines.some((l) => l.msg === 'serial data handler threw')).toBe(true);
    expect(link.state).toBe('online');
  });

  it('refuses invalid options at start, not in the constructor', async () => {
    const { link } = makeLink({ baudRate: 0, parity: 'weird' as 'none' });
    await expect(link.start()).rejects.toBeInstanceOf(GuardpostError);
    await expect(link.start()).rejects.toThrow(/baudRate.*parity/);
    expect(link.state).toBe('stopped');
  });
});
