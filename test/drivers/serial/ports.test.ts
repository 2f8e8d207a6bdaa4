// Tests listing serial ports and matching them to by-id links, with real udevadm, real symlinks and socat ptys.
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSerialPorts, readByIdLinks } from '../../../drivers/serial/ports.js';
import { startPtyPair, stopPtyPair } from './socat.js';

let dir: string;
let socat: ChildProcess | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-ports-'));
});

afterEach(async () => {
  if (socat) await stopPtyPair(socat);
  socat = null;
  await rm(dir, { recursive: true, force: true });
});

describe('readByIdLinks', () => {
  it('is empty when the directory does not exist', async () => {
    expect((await readByIdLinks(join(dir, 'no-such-dir'))).size).toBe(0);
  });

  it('maps each device to its link and skips dangling ones', async () => {
    socat = await startPtyPair(join(dir, 'a'), join(dir, 'b'));
    const byId = join(dir, 'by-id');
    await mkdir(byId);
    const devA = await realpath(join(dir, 'a'));
    const devB = await realpath(join(dir, 'b'));
    await symlink(devA, join(byId, 'usb-FTDI_FT232R_USB_UART_A1B2C3-if00-port0'));
    await symlink(devB, join(byId, 'usb-1a86_USB_Serial-if00-port0'));
    await symlink(join(dir, 'gone'), join(byId, 'usb-Unplugged-if00-port0'));
    const links = await readByIdLinks(byId);
    expect(links).toEqual(
      new Map([
        [devB, join(byId, 'usb-1a86_USB_Serial-if00-port0')],
        [devA, join(byId, 'usb-FTDI_FT232R_USB_UART_A1B2C3-if00-port0')],
      ]),
    );
  });
});

describe('listSerialPorts', () => {
  it('lists what udev knows, without by-id paths when there is no by-id directory', async () => {
    const ports = await listSerialPorts({ byIdDir: join(dir, 'no-such-dir') });
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) {
      expect(p.path).toMatch(/^\/dev\//);
      expect(p.byId).toBeUndefined();
    }
  });

  it('adds the by-id path of every listed port that has one', async () => {
    const plain = await listSerialPorts({ byIdDir: join(dir, 'no-such-dir') });
    const byId = join(dir, 'by-id');
    await mkdir(byId);
    for (const [i, p] of plain.entries()) await symlink(p.path, join(byId, `usb-Test_Adapter_${i}-if00-port0`));
    const ports = await listSerialPorts({ byIdDir: byId });
    expect(ports.map((p) => p.path)).toEqual(plain.map((p) => p.path));
    for (const [i, p] of ports.entries()) expect(p.byId).toBe(join(byId, `usb-Test_Adapter_${i}-if00-port0`));
  });
});
