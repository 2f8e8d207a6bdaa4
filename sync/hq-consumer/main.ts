#!/usr/bin/env node
// The reference HQ consumer's command line: take gates' batches into PostgreSQL over MQTT or HTTP, or publish master data.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../../gateway/core/log.js';
import { masterKinds, type MasterKind } from '../contract.js';
import { ContractChecker } from './check.js';
import { buildHttpConsumer } from './http.js';
import { Intake } from './intake.js';
import { safeUrl, startMqttConsumer } from './mqtt.js';
import { MasterInputError, publishMaster } from './publish-master.js';
import { HqStore } from './store.js';

const usage = `usage: node dist/sync/hq-consumer/main.js <mqtt|http|publish-master> [options]

  mqtt             take batches from HQ's broker (persistent session, subscribed to guardpost/v1/+/+/up/#)
  http             take batches on POST /v1/batches and serve GET /v1/master
  publish-master   store the next version of one kind of master data and publish it retained

options:
  --pg URL             PostgreSQL, e.g. postgres://hq@db/guardpost        (or $GUARDPOST_HQ_PG)
  --mqtt URL           HQ's broker, e.g. mqtts://broker:8883              (or $GUARDPOST_HQ_MQTT)
  --username NAME      broker user                                        (or $GUARDPOST_HQ_MQTT_USERNAME)
  --password SECRET    broker password                                    (or $GUARDPOST_HQ_MQTT_PASSWORD)
  --client-id ID       the persistent session's client id (default guardpost-hq-consumer)
  --http-host HOST     address to listen on (default 127.0.0.1; put TLS in front of it)
  --http-port PORT     port to listen on (default 8090)
  --token TOKEN        bearer token gates send                            (or $GUARDPOST_HQ_TOKEN)
  --hmac-key KEY       key gates sign requests with                       (or $GUARDPOST_HQ_HMAC_KEY)
  --compound ID        publish-master: the compound
  --kind KIND          publish-master: ${masterKinds.join(' | ')}
  --file FILE          publish-master: JSON file with the kind's data (sync/contract/master/<kind>.schema.json)
  --log-level LEVEL    trace | debug | info | warn | error (default info)

Prefer the environment for secrets: a command line is visible to every user of the machine.`;

/** A mistake on the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

const idPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      pg: { type: 'string' },
      mqtt: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'client-id': { type: 'string' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      token: { type: 'string' },
      'hmac-key': { type: 'string' },
      compound: { type: 'string' },
      kind: { type: 'string' },
      file: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const env = process.env;
  // An empty variable counts as unset: `FOO= cmd` is how people clear one.
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] || undefined);
  return {
    help: values.help === true,
    mode: positionals[0],
    extra: positionals.slice(1),
    pg: pick(values.pg, 'GUARDPOST_HQ_PG'),
    mqtt: pick(values.mqtt, 'GUARDPOST_HQ_MQTT'),
    username: pick(values.username, 'GUARDPOST_HQ_MQTT_USERNAME'),
    password: pick(values.password, 'GUARDPOST_HQ_MQTT_PASSWORD'),
    clientId: values['client-id'] ?? 'guardpost-hq-consumer',
    httpHost: values['http-host'] ?? '127.0.0.1',
    httpPort: values['http-port'] ?? '8090',
    token: pick(values.token, 'GUARDPOST_HQ_TOKEN'),
    hmacKey: pick(values['hmac-key'], 'GUARDPOST_HQ_HMAC_KEY'),
    compound: values.compound,
    kind: values.kind,
    file: values.file,
    logLevel: values['log-level'] ?? 'info',
  };
}

type Options = ReturnType<typeof options>;

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`${what} is required`);
  return value;
}

/** Runs until SIGTERM or SIGINT, then `stop` and exit 0. */
function untilSignal(log: Logger, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolveExit) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      void stop().then(
        () => resolveExit(0),
        (err: unknown) => {
          log.error({ err: (err as Error).message }, 'stop failed');
          resolveExit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

async function openStore(opts: Options, log: Logger): Promise<HqStore> {
  const url = required(opts.pg, '--pg (or $GUARDPOST_HQ_PG)');
  try {
    return await HqStore.open(url, log);
  } catch (err) {
    throw new Error(`cannot open PostgreSQL at ${safeUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
}

async function main(argv: string[]): Promise<number> {
  const opts = options(argv);
  if (opts.help) {
    console.log(usage);
    return 0;
  }
  if (opts.extra.length > 0) throw new UsageError(`unexpected argument ${opts.extra[0]}`);
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(opts.logLevel)) throw new UsageError(`--log-level ${opts.logLevel}: not trace, debug, info, warn or error`);
  const log = createLogger(opts.logLevel, { pretty: process.stdout.isTTY });
  const checker = new ContractChecker();

  switch (opts.mode) {
    case 'mqtt': {
      const url = required(opts.mqtt, '--mqtt (or $GUARDPOST_HQ_MQTT)');
      const store = await openStore(opts, log);
      const consumer = await startMqttConsumer({
        url,
        clientId: opts.clientId,
        intake: new Intake(checker, store, log),
        log,
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: opts.password } : {}),
      });
      log.info({ mode: 'mqtt' }, 'consumer ready');
      return untilSignal(log, async () => {
        await consumer.close();
        await store.close();
      });
    }
    case 'http': {
      if (opts.token === undefined && opts.hmacKey === undefined) throw new UsageError('http needs --token or --hmac-key (or $GUARDPOST_HQ_TOKEN / $GUARDPOST_HQ_HMAC_KEY)');
      const port = Number(opts.httpPort);
      if (!/^\d{1,5}$/.test(opts.httpPort) || port > 65535) throw new UsageError(`--http-port ${opts.httpPort}: not a TCP port number`);
      const store = await openStore(opts, log);
      const app = await buildHttpConsumer(new Intake(checker, store, log), { ...(opts.token !== undefined ? { token: opts.token } : {}), ...(opts.hmacKey !== undefined ? { hmacKey: opts.hmacKey } : {}) }, log);
      await app.listen({ host: opts.httpHost, port });
      const address = app.server.address();
      log.info({ mode: 'http', host: opts.httpHost, port: typeof address === 'object' && address ? address.port : port }, 'consumer ready');
      return untilSignal(log, async () => {
        await app.close();
        await store.close();
      });
    }
    case 'publish-master': {
      const compound = required(opts.compound, '--compound');
      if (!idPattern.test(compound)) throw new UsageError(`--compound ${compound}: lower-case letters, digits and dashes`);
      const kind = required(opts.kind, '--kind');
      if (!(masterKinds as readonly string[]).includes(kind)) throw new UsageError(`--kind ${kind}: not one of ${masterKinds.join(', ')}`);
      const file = resolve(required(opts.file, '--file'));
      const store = await openStore(opts, log);
      try {
        const row = await publishMaster(
          {
            compound,
            kind: kind as MasterKind,
            file,
            ...(opts.mqtt !== undefined
              ? { mqtt: { url: opts.mqtt, ...(opts.username !== undefined ? { username: opts.username } : {}), ...(opts.password !== undefined ? { password: opts.password } : {}) } }
              : {}),
          },
          checker,
          store,
        );
        log.info({ compound, kind, version: row.version, published: opts.mqtt !== undefined }, 'master data stored');
        console.log(`${compound} ${kind}: version ${row.version}${opts.mqtt !== undefined ? ' stored and published' : ' stored (no --mqtt: served over HTTP only)'}`);
        return 0;
      } finally {
        await store.close();
      }
    }
    case undefined:
      throw new UsageError('a mode is required');
    default:
      throw new UsageError(`unknown mode "${opts.mode}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Lingering sockets or timers must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`guardpost-hq-consumer: ${(err as Error).message}\n\n${usage}`);
      process.exit(2);
    }
    console.error(`guardpost-hq-consumer: ${err instanceof MasterInputError ? '' : 'failed: '}${(err as Error).message}`);
    process.exit(err instanceof MasterInputError ? 2 : 1);
  },
);
