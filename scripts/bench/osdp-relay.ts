// Benchmark: an OSDP card read -> the gate's decision, recorded durably -> the Modbus relay's coil switched on.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { FunctionCode, withCrc } from '../../drivers/modbus-relay/frame.js';
import { defaultConfigPath, packageRoot } from '../../gateway/core/paths.js';
import { h10301Bits, SimBus, SimulatedPd } from '../../test/drivers/osdp/pd.js';
import { percentile, round2 } from './stats.js';

const reads = Number(process.env.BENCH_OSDP_READS ?? 200);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function ptyPair(a: string, b: string): Promise<ChildProcess> {
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += String(d);
      if (err.includes('starting data transfer loop')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`socat exited with ${code}: ${err}`)));
  });
  return proc;
}

/**
 * The relay board's side, reduced to what the barrier driver asks of it: coils and inputs that read
 * as off, single-coil writes echoed as Modbus requires. It notes when each "coil on" arrives.
 */
async function relayBoard(path: string, onCoilOn: () => void): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let buf = Buffer.alloc(0);
  port.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    // Every request the driver sends here (FC01, FC02, FC05) is 8 bytes long.
    while (buf.length >= 8) {
      const req = buf.subarray(0, 8);
      buf = buf.subarray(8);
      const [unit, fn] = [req[0]!, req[1]!];
      if (fn === FunctionCode.WriteSingleCoil) {
        if (req[4] === 0xff) onCoilOn();
        port.write(Buffer.from(req));
      } else if (fn === FunctionCode.ReadCoils || fn === FunctionCode.ReadDiscreteInputs) {
        const count = req.readUInt16BE(4);
        const bytes = Math.ceil(count / 8);
        port.write(withCrc(Buffer.from([unit, fn, bytes, ...new Array<number>(bytes).fill(0)])));
      }
    }
  });
  return port;
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'guardpost-bench-'));
  const [osdpPort, readerEnd, relayPort, boardEnd] = ['osdp', 'reader', 'relay', 'board'].map((n) => join(dir, n)) as [string, string, string, string];
  const socats = [await ptyPair(osdpPort, readerEnd), await ptyPair(relayPort, boardEnd)];
  const pd = new SimulatedPd({ address: 0 });
  const bus = new SimBus(readerEnd, 9600, [pd]);
  await bus.open();
  let coilOn: (() => void) | null = null;
  const board = await relayBoard(boardEnd, () => coilOn?.());

  // The config wants device paths (/dev/...): the pty itself, not socat's link to it.
  const [osdpDevice, relayDevice] = [realpathSync(osdpPort), realpathSync(relayPort)];
  // The demo site with its MQTT reader and barrier swapped for an OSDP reader and a Modbus relay board.
  const yaml = readFileSync(defaultConfigPath, 'utf8')
    .replace('demo:\n  enabled: true', 'demo:\n  enabled: false')
    .replace('devices:\n', `devices:\n  reader-osdp:\n    type: osdp\n    kind: reader\n    port: ${osdpDevice}\n    address: 0\n    poll_ms: 0\n  relay-barrier:\n    type: modbus-relay\n    kind: barrier\n    port: ${relayDevice}\n    unit: 1\n    open_coil: 0\n    pulse_ms: 100\n`)
    .replace('devices: [reader-north-in, plate-north-in]\n      barrier: barrier-north', 'devices: [reader-osdp]\n      barrier: relay-barrier');
  const configPath = join(dir, 'bench.yaml');
  writeFileSync(configPath, yaml);
  const httpPort = await freePort();
  const gateway = spawn(process.execPath, [join(packageRoot, 'dist/gateway/main.js'), 'start', '--config', configPath], {
    cwd: packageRoot,
    env: { ...process.env, GUARDPOST_DATA: join(dir, 'data'), GUARDPOST_HTTP_PORT: String(httpPort), GUARDPOST_MQTT_PORT: String(await freePort()) },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    for (let i = 0; ; i++) {
      try {
        const health = (await (await fetch(`${base}/api/health`)).json()) as { devices: { id: string; state: string }[] };
        if (['reader-osdp', 'relay-barrier'].every((id) => health.devices.find((d) => d.id === id)?.state === 'online')) break;
      } catch {
        // not listening yet
      }
      if (i > 300) throw new Error('the OSDP reader and the relay board did not come online');
      await new Promise((r) => setTimeout(r, 50));
    }
    const login = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId: 'admin', pin: '9999' }) });
    const { token } = (await login.json()) as { token: string };
    const rows = ['unit,kind,name,phone,cards,plates,list', ...Array.from({ length: reads }, (_, i) => `9-1-${100 + i},owner,住户${i},,${20000 + i},,resident`)];
    await fetch(`${base}/api/gate/residents/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: rows.join('\n') });

    // The card leaves the reader with its osdp_RAW reply: time from that write to the coil write.
    let sentAt = 0;
    const handle = pd.handle.bind(pd);
    pd.handle = (frame: Buffer) => {
      const reply = handle(frame);
      if (reply && reply.includes(0x50) && sentAt === -1) sentAt = performance.now();
      return reply;
    };
    const samples: number[] = [];
    for (let i = 0; i < reads; i++) {
      const opened = new Promise<void>((resolve) => (coilOn = resolve));
      sentAt = -1;
      pd.queueCard(h10301Bits(1, 20000 + i));
      await opened;
      samples.push(performance.now() - sentAt);
      // Let the pulse finish before the next car.
      await new Promise((r) => setTimeout(r, 150));
    }
    return { osdp_to_relay_p50_ms: round2(percentile(samples, 50)), osdp_to_relay_p99_ms: round2(percentile(samples, 99)) };
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    await bus.close();
    await new Promise<void>((r) => board.close(() => r()));
    for (const s of socats) s.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
