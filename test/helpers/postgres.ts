// A private PostgreSQL cluster (Debian's) for tests: its own directory, port and password, run as the postgres user, fsync off.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { freePort, tempDir } from './gateway.js';

export interface Postgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  password: string;
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Stop the cluster and remove its directory. */
  stop(): Promise<void>;
}

/** Debian installs each major version under /usr/lib/postgresql/<major>/bin; the newest is used. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'initdb'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/setup-system.sh');
  return join(root, newest, 'bin');
}

/** PostgreSQL refuses to run as root: its tools run as the postgres user. */
function asPostgres(command: string, args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args[0] ?? ''} failed (${r.status}): ${r.stderr || r.stdout}`);
}

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  const dir = tempDir('gp-postgres-');
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  spawnSync('chown', ['-R', 'postgres', dir]);
  chmodSync(dir, 0o700);
  const port = await freePort();
  try {
    // --no-sync and fsync=off: a test cluster that dies with the machine is no loss, and it is much faster.
    asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${join(dir, 'pwfile')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C']);
    writeFileSync(
      join(data, 'postgresql.auto.conf'),
      [`port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, 'fsync = off', 'synchronous_commit = off', 'full_page_writes = off', "log_min_messages = 'warning'"].join('\n') + '\n',
    );
    spawnSync('chown', ['postgres', join(data, 'postgresql.auto.conf')]);
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  } catch (err) {
    // A start that timed out may have left a server running.
    if (existsSync(join(data, 'postmaster.pid'))) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return {
    url,
    port,
    password,
    query: async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pool.query<T>(sql, params)).rows,
    stop: async () => {
      await pool.end().catch(() => undefined);
      try {
        asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
