// Test helper: real pseudo-terminal pairs made by socat, standing in for a USB-RS485 adapter and its device.
import { spawn, type ChildProcess } from 'node:child_process';

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
