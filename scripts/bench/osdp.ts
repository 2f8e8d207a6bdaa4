// Benchmark: the OSDP poll cycle, one PD at 9600 baud over a socat pty pair, the simulated PD answering ACK at once.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../gateway/core/clock.js';
import type { BrokerClient, DriverContext } from '../../drivers/contract.js';
import { createOsdpDriver } from '../../drivers/osdp/driver.js';
import { SimBus, SimulatedPd } from '../../test/drivers/osdp/pd.js';
import { round2 } from './stats.js';

const polls = Number(process.env.BENCH_OSDP_POLLS ?? 300);

async function ptyPair(a: string, b: string): Promise<ChildProcess> {
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`socat not ready: ${err}`)), 5000);
    proc.stderr?.on('data', (d: Buffer) => {
      err += String(d);
      if (err.includes('starting data transfer loop')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`socat exited with ${code}: ${err}`)));
  });
  return proc;
}

/**
 * osdp_poll_cycle_ms: mean time from one osdp_POLL to the next as the PD hears them, with poll_ms 0
 * (the driver polls back to back). On a real 9600-baud line each cycle also carries the wire time:
 * POLL 9 bytes (mark included) + ACK 9 bytes = 18 bytes x 10 bits = 18.75 ms, plus the PD's reply
 * delay (typically < 3 ms per the spec's timing section). A pty does not pace bytes at the baud rate, so the figure here
 * is the software cost of a cycle (driver, serial binding, pty, simulator) without that 18.75 ms.
 */
export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-bench-osdp-'));
  const acu = join(dir, 'acu');
  const pdPath = join(dir, 'pd');
  const socat = await ptyPair(acu, pdPath);
  const pd = new SimulatedPd({ address: 1 });
  const bus = new SimBus(pdPath, 9600, [pd]);
  await bus.open();
  const ctx: DriverContext = {
    deviceId: 'bench-reader',
    log: pino({ level: 'silent' }),
    emit: () => undefined,
    emitMany: (batch) => batch.forEach(() => undefined),
    report: () => undefined,
    reject: () => undefined,
    broker: {} as BrokerClient,
    clock: systemClock,
    signal: new AbortController().signal,
  };
  const reader = createOsdpDriver().create({ port: acu, baud: 9600, address: 1, poll_ms: 0 }, ctx);
  try {
    await reader.start();
    const pollTimes = () => bus.heard.flatMap((f, i) => (f[5] === 0x60 && ((f[4] as number) & 0x08) === 0 ? [bus.heardAt[i] as number] : []));
    const deadline = Date.now() + 60_000;
    while (pollTimes().length < polls + 10) {
      if (Date.now() > deadline) throw new Error('the OSDP bench did not reach its poll count in 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The first polls follow the ID/CAP/LSTAT start-up; skip them.
    const times = pollTimes().slice(10, 10 + polls);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    return { osdp_poll_cycle_ms: round2(gaps.reduce((a, b) => a + b, 0) / gaps.length) };
  } finally {
    await reader.stop();
    await bus.close();
    socat.kill('SIGTERM');
    await new Promise((r) => socat.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
