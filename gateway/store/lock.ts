// One gateway per data directory: a listening unix socket in the data dir is the lock.
import { unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ErrorCode, GuardpostError } from '../core/errors.js';

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * A socket rather than a pid file: the kernel frees it the instant the process dies, even by kill -9,
 * so a stale lock is told apart from a live one by whether anything answers, never by a reused pid.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, 'gateway.lock');
  const server = createServer((socket) => socket.end());
  try {
    await listen(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw lockError(dataDir, err);
    if (await answers(path)) {
      throw new GuardpostError(ErrorCode.DataDirLocked, `another guardpost gateway is already running on data directory ${dataDir}; stop it first`);
    }
    // Left behind by a gateway that died: nothing listens, so it is safe to take over.
    unlinkSync(path);
    try {
      await listen(server, path);
    } catch (err2) {
      throw lockError(dataDir, err2);
    }
  }
  server.unref();
  return {
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function lockError(dataDir: string, err: unknown): GuardpostError {
  return new GuardpostError(ErrorCode.DataDirUnusable, `cannot lock data directory ${dataDir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
}
