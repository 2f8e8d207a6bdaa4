// A private Mosquitto broker (Debian's) for tests and benches: its own port, password file and ACL, stoppable and restartable.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MosquittoUser {
  username: string;
  password: string;
  /** ACL lines for this user, e.g. ["topic readwrite guardpost/v1/c1/north/#"]; default: everything. */
  acl?: string[];
}

export interface Mosquitto {
  port: number;
  url: string;
  /** Stop the broker (SIGTERM); its persistence file keeps sessions and queued messages for a restart. */
  stop(): Promise<void>;
  /** SIGKILL: a broker crash (no persistence flush). */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stop and remove its directory. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(users: MosquittoUser[]): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'gp-mosquitto-'));
  const port = await freePort();
  const passwords = join(dir, 'passwords');
  writeFileSync(passwords, '');
  for (const u of users) {
    const r = spawnSync('mosquitto_passwd', ['-b', passwords, u.username, u.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
  }
  writeFileSync(join(dir, 'acl'), users.map((u) => `user ${u.username}\n${(u.acl ?? ['topic readwrite #']).join('\n')}\n`).join('\n'));
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwords}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ].join('\n') + '\n',
  );
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    // Debian's mosquitto drops to the mosquitto user when started as root; it must read its files.
    spawnSync('chown', ['-R', 'mosquitto', dir]);
    const proc = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${stderr}`);
      // Connect, never bind: a test bind of the port could take it from the broker starting up.
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (open) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await gone;
    child = null;
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    start,
    close: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
