#!/usr/bin/env node
// The guardpost command: start the gateway, or one of the operator's tools (migrate, config-check, doctor, audit, hash-pin).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatProblems, loadConfigFile } from '../config/load.js';
import type { GuardpostConfig } from '../config/schema.js';
import { GuardpostError } from './core/errors.js';
import { createLogger } from './core/log.js';
import { systemdNotifier } from './core/notify.js';
import { defaultConfigPath } from './core/paths.js';
import { Gateway } from './gateway.js';
import { runDevicesScan } from './cli/devices.js';
import { runDoctor } from './cli/doctor.js';
import { readSecretFromStdin } from './cli/prompt.js';
import { hashSecret } from './core/secret.js';
import { openStore } from './store/db.js';

const usage = `usage: guardpost <command> [options]

commands:
  start [--config FILE]          run the gateway (default command)
  migrate [--config FILE]        apply database migrations and exit
  config-check FILE              validate a config file, listing every problem
  doctor [--config FILE]         check serial ports, ffmpeg, disk, clock and config
  audit verify [--config FILE]   verify the hash chain of the audit log
  hash-pin                       read a PIN or password on stdin and print its hash for the config
  devices scan [--port P] [--baud N] [--addresses 0-126] [--onvif]
                                 list serial ports; with --port, also the OSDP readers answering on that bus;
                                 with --onvif, also the ONVIF cameras answering WS-Discovery on the LAN

The config file is --config, else $GUARDPOST_CONFIG, else the built-in demo site.
$GUARDPOST_DATA, $GUARDPOST_HTTP_PORT and $GUARDPOST_MQTT_PORT override the file.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      baud: { type: 'string' },
      addresses: { type: 'string' },
      onvif: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const [command = 'start', ...rest] = positionals;
  const configPath = () => resolve(values.config ?? (process.env.GUARDPOST_CONFIG || defaultConfigPath));
  const config = (): GuardpostConfig => loadConfigFile(configPath(), process.env);

  switch (command) {
    case 'start':
      return start(config());
    case 'migrate': {
      const cfg = config();
      const store = openStore({ dataDir: resolve(cfg.data_dir), now: Date.now });
      const { from, to, applied } = store.migration;
      store.close();
      console.log(applied.length > 0 ? `migrated from version ${from} to ${to}: ${applied.join(', ')}` : `database already at version ${to}`);
      return 0;
    }
    case 'config-check': {
      const file = rest[0] ?? values.config;
      if (!file) throw new GuardpostError('bad_request', 'config-check needs a file: guardpost config-check site.yaml');
      loadConfigFile(resolve(file), process.env);
      console.log(`${file}: ok`);
      return 0;
    }
    case 'doctor':
      return runDoctor(configPath());
    case 'audit': {
      if (rest[0] !== 'verify') throw new GuardpostError('bad_request', 'usage: guardpost audit verify [--config FILE]');
      const cfg = config();
      const store = openStore({ dataDir: resolve(cfg.data_dir), now: Date.now });
      const result = store.audit.verify();
      store.close();
      if (result.ok) {
        console.log(`audit log verified: ${result.rows} entries, chain intact`);
        return 0;
      }
      console.error(`audit log BROKEN at entry ${result.broken?.seq}: ${result.broken?.reason} (${result.rows} entries read)`);
      return 1;
    }
    case 'devices': {
      if (rest[0] !== 'scan') throw new GuardpostError('bad_request', 'usage: guardpost devices scan [--port PATH] [--baud N] [--addresses 0-126] [--onvif]');
      return runDevicesScan({ ...(values.port ? { port: values.port } : {}), ...(values.baud ? { baud: values.baud } : {}), ...(values.addresses ? { addresses: values.addresses } : {}), ...(values.onvif ? { onvif: true } : {}) });
    }
    case 'hash-pin': {
      const secret = await readSecretFromStdin('PIN or password: ');
      if (secret.length < 4) throw new GuardpostError('bad_request', 'a PIN needs at least 4 characters');
      console.log(await hashSecret(secret));
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

async function start(config: GuardpostConfig): Promise<number> {
  const log = createLogger(config.log.level, { pretty: process.stdout.isTTY });
  const gateway = new Gateway({ config, log });
  const notifier = systemdNotifier(process.env, log);
  await gateway.start();
  notifier.ready();
  notifier.startWatchdog(() => gateway.isHealthy());

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      notifier.stopping();
      // systemd gives 10 s before SIGKILL (TimeoutStopSec); leave with an error rather than be killed mid-write.
      const deadline = setTimeout(() => {
        log.error('stop took longer than 8 s; exiting');
        resolveExit(1);
      }, 8000);
      deadline.unref();
      void gateway.stop().then(() => {
        clearTimeout(deadline);
        notifier.close();
        log.info('stopped cleanly');
        log.flush();
        resolveExit(0);
      });
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Lingering sockets or timers must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(`config has ${err.problems.length} problem(s):`);
      for (const line of formatProblems(err.problems)) console.error(`  ${line}`);
    } else if (err instanceof GuardpostError) {
      console.error(`guardpost: ${err.message}`);
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${usage}`);
    } else {
      console.error('guardpost: unexpected error', err);
    }
    process.exit(err instanceof ConfigError ? 3 : 1);
  },
);
