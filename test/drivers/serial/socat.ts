// Test helper: real pseudo-terminal pairs made by socat, standing in for a USB-RS485 adapter and its device.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * Starts `socat pty,link=a pty,link=b` and resolves once both links exist and data flows.
 * Whatever a process writes to one end comes out of the other.
 */
export async function startPtyPair(a: string, b: string): Promise<ChildProcess> {
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat not ready after 5 s: ${stderr}`)), 5000);
      // Kept listening for the process's whole life so socat never blocks on a full stderr pipe.
      proc.stderr?.on('data', (d: Buffer) => {
        stderr += String(d);
        if (stderr.includes('starting data transfer loop')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('error', reject);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`socat exited with ${code}: ${stderr}`));
      });
    });
  } catch (err) {
    await stopPtyPair(proc);
    throw err;
  }
  return proc;
}

/** SIGTERM lets socat remove its links, as udev removes a device node on unplug; SIGKILL if it hangs. */
export async function stopPtyPair(proc: ChildProcess): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

export interface PtyRig {
  /** The gateway's end (the driver opens it) and the device's end, fresh for each test. */
  readonly host: string;
  readonly peer: string;
  /** Starts socat: the adapter is plugged in. */
  plugIn(): Promise<ChildProcess>;
  /** Stops that socat: the adapter is pulled out. */
  unplug(proc: ChildProcess): Promise<void>;
  /** Cleanup after the test, last registered first (a driver stops before the device it talks to). */
  afterwards(fn: () => Promise<unknown> | unknown): void;
}

/**
 * The per-test pty pair of a serial driver suite: a temp dir, the two link paths, and the cleanup of
 * whatever the test started, even when it fails half-way.
 */
export function usePtyRig(prefix: string, hostName: string, peerName: string): PtyRig {
  let dir = '';
  const socats = new Set<ChildProcess>();
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const rig = {
    host: '',
    peer: '',
    async plugIn() {
      const proc = await startPtyPair(rig.host, rig.peer);
      socats.add(proc);
      return proc;
    },
    async unplug(proc: ChildProcess) {
      socats.delete(proc);
      await stopPtyPair(proc);
    },
    afterwards(fn: () => Promise<unknown> | unknown) {
      cleanups.push(fn);
    },
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    rig.host = join(dir, hostName);
    rig.peer = join(dir, peerName);
  });
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    await Promise.all([...socats].map((p) => stopPtyPair(p)));
    socats.clear();
    await rm(dir, { recursive: true, force: true });
  });
  return rig;
}
