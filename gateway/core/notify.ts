// systemd's notify protocol (Type=notify): READY, WATCHDOG pings and STOPPING over $NOTIFY_SOCKET.
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

export interface Notifier {
  ready(): void;
  stopping(): void;
  /** Start pinging the watchdog at half the interval systemd asked for; no-op without WATCHDOG_USEC. */
  startWatchdog(isHealthy: () => boolean): void;
  close(): void;
}

const noop: Notifier = { ready() {}, stopping() {}, startWatchdog() {}, close() {} };

/**
 * Node has no unix datagram sockets, so the optional native unix-dgram module sends the messages.
 * Outside systemd (no NOTIFY_SOCKET) this is a no-op and the module is never loaded.
 */
export function systemdNotifier(env: NodeJS.ProcessEnv, log: Logger): Notifier {
  const target = env.NOTIFY_SOCKET;
  if (!target) return noop;
  let socket: UnixDgramSocket;
  try {
    const require = createRequire(import.meta.url);
    const unixDgram = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
    socket = unixDgram.createSocket('unix_dgram');
    socket.on('error', (err) => log.warn({ err }, 'systemd notify failed'));
  } catch (err) {
    log.warn({ err }, 'NOTIFY_SOCKET is set but unix-dgram is not installed: systemd will not see readiness');
    return noop;
  }
  // A leading @ names an abstract socket, written with a leading NUL byte.
  const path = target.startsWith('@') ? `\0${target.slice(1)}` : target;
  const send = (message: string) => {
    const buf = Buffer.from(message);
    socket.send(buf, 0, buf.length, path);
  };
  let watchdog: NodeJS.Timeout | null = null;
  return {
    ready: () => send(`READY=1\nMAINPID=${process.pid}`),
    stopping: () => send('STOPPING=1'),
    startWatchdog(isHealthy) {
      const usec = Number(env.WATCHDOG_USEC);
      if (!Number.isFinite(usec) || usec <= 0 || watchdog) return;
      // Only a gateway whose event loop runs and whose store answers deserves a ping; else systemd restarts it.
      watchdog = setInterval(() => {
        if (isHealthy()) send('WATCHDOG=1');
      }, Math.max(1000, usec / 2000));
      watchdog.unref();
    },
    close() {
      if (watchdog) clearInterval(watchdog);
      socket.close();
    },
  };
}
