// systemd integration: the notify protocol over a real unix datagram socket, and the unit's hardening.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../gateway/core/paths.js';
import { quietDemoConfig } from '../helpers/config.js';
import { startGateway, tempDir } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

interface DgramSocket {
  bind(path: string): void;
  on(event: 'message', listener: (buf: Buffer) => void): void;
  close(): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramSocket };

describe('systemd', () => {
  it('tells systemd READY, pings the watchdog while healthy, and says STOPPING on SIGTERM', async () => {
    const dir = tempDir();
    const socketPath = join(dir, 'notify.sock');
    const received: string[] = [];
    const socket = unixDgram.createSocket('unix_dgram');
    socket.on('message', (buf) => received.push(buf.toString()));
    socket.bind(socketPath);
    try {
      // WATCHDOG_USEC of 2 s: the gateway pings every second.
      const gw = await startGateway({ config: quietDemoConfig(dir), env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' } });
      await waitFor('READY and two watchdog pings', () => received.filter((m) => m === 'WATCHDOG=1').length >= 2);
      expect(received[0]).toBe(`READY=1\nMAINPID=${gw.proc.pid}`);
      expect(await gw.stop()).toBe(0);
      expect(received.at(-1)).toBe('STOPPING=1');
    } finally {
      socket.close();
    }
  });

  it('ships a unit that is Type=notify with a watchdog, restarts, and runs confined as its own user', () => {
    const unit = readFileSync(join(packageRoot, 'systemd/guardpost.service'), 'utf8');
    const directives = new Map(
      unit
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    expect(directives.get('Type')).toBe('notify');
    expect(Number(directives.get('WatchdogSec'))).toBeGreaterThan(0);
    expect(directives.get('Restart')).toBe('always');
    expect(directives.get('User')).toBe('guardpost');
    expect(directives.get('SupplementaryGroups')).toBe('dialout');
    expect(directives.get('ProtectSystem')).toBe('strict');
    expect(directives.get('ReadWritePaths')).toBe('/var/lib/guardpost');
    expect(directives.get('NoNewPrivileges')).toBe('yes');
    expect(Number(directives.get('TimeoutStopSec'))).toBeLessThanOrEqual(10);
    expect(directives.get('ExecStart')).toContain('dist/gateway/main.js start');
  });
});
