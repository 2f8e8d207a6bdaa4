// guardpost devices scan: lists serial ports, and finds the OSDP readers answering on a real pty bus.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddresses } from '../../gateway/cli/devices.js';
import { packageRoot } from '../../gateway/core/paths.js';
import { startPtyPair, stopPtyPair } from '../drivers/serial/socat.js';
import { SimBus, SimulatedPd } from '../drivers/osdp/pd.js';
import { gatewayMain, tempDir } from '../helpers/gateway.js';

let socat: ChildProcess | undefined;
let bus: SimBus | undefined;
afterEach(async () => {
  await bus?.close();
  if (socat) await stopPtyPair(socat);
});

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [gatewayMain, ...args], { cwd: packageRoot });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    proc.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('devices scan', () => {
  it('finds the OSDP readers on a bus by address, with their identity', async () => {
    const dir = tempDir();
    const [port, device] = [join(dir, 'rs485'), join(dir, 'readers')];
    socat = await startPtyPair(port, device);
    bus = new SimBus(device, 9600, [new SimulatedPd({ address: 3 }), new SimulatedPd({ address: 7 })]);
    await bus.open();
    const result = await run(['devices', 'scan', '--port', port, '--baud', '9600', '--addresses', '0-10']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^serial ports:/m);
    const answered = [...result.out.matchAll(/^ {2}address (\d+): vendor/gm)].map((m) => Number(m[1]));
    expect(answered).toEqual([3, 7]);
  });

  it('refuses impossible arguments with one clear line', async () => {
    const bad = await run(['devices', 'scan', '--port', '/dev/null', '--baud', '1234']);
    expect(bad.code).not.toBe(0);
    expect(bad.err.trim()).toBe('guardpost: --baud: expected 9600, 19200, 38400, 57600 or 115200, got "1234"');
    expect(parseAddresses('0-3,10')).toEqual([0, 1, 2, 3, 10]);
    expect(() => parseAddresses('5-2')).toThrow(/expected addresses 0-126/);
    expect(() => parseAddresses('127')).toThrow(/expected addresses 0-126/);
  });
});
