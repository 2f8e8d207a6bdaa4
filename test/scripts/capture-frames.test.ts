// scripts/capture-frames: bytes written by a device on a real pty pair come out as timestamped hex lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../gateway/core/paths.js';
import { startPtyPair, stopPtyPair } from '../drivers/serial/socat.js';
import { tempDir } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

let socat: ChildProcess | undefined;
afterEach(async () => {
  if (socat) await stopPtyPair(socat);
});

describe('capture-frames', () => {
  it('records what the device sends, chunk by chunk, as hex', async () => {
    const dir = tempDir();
    const [a, b] = [join(dir, 'port'), join(dir, 'device')];
    socat = await startPtyPair(a, b);
    const out = join(dir, 'capture.jsonl');
    const capture = spawn(process.execPath, [join(packageRoot, 'dist/scripts/capture-frames.js'), '--port', a, '--baud', '9600', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    capture.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitFor('capture to open the port', () => log.includes('recording'));
    const device = new SerialPort({ path: b, baudRate: 9600 });
    await new Promise<void>((r) => device.once('open', () => r()));
    device.write(Buffer.from('5300080004604e81', 'hex'));
    await waitFor('the bytes captured', () => {
      try {
        return readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { hex: string }).hex).join('') === '5300080004604e81';
      } catch {
        return false;
      }
    });
    capture.kill('SIGINT');
    await new Promise((r) => capture.once('exit', r));
    await new Promise<void>((r) => device.close(() => r()));
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: number; hex: string });
    expect(lines.every((l) => Number.isInteger(l.t) && l.t >= 0)).toBe(true);
    expect(log).toContain('port closed after 8 bytes');
  });
});
