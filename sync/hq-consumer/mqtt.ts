// MQTT mode: a persistent session on HQ's broker; each batch committed to PostgreSQL before its PUBACK, answered on the gate's answer topic.
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../../gateway/core/log.js';
import { answerTopic, parseUpTopic } from '../contract.js';
import { StoreUnavailable, type Intake, type Outcome } from './intake.js';

/** Every gate's up topics. */
export const upFilter = 'guardpost/v1/+/+/up/#';

/**
 * Where HQ answers a gate's MQTT batches (MQTT 5 request/response): the gate sets this as the
 * publish's Response Topic with its Idempotency-Key as Correlation Data. The broker's PUBACK to the
 * gate says only that the broker has the batch; this answer says what HQ did with each record.
 */

/** MQTT 5 reason codes on the consumer's PUBACK. */
const Success = 0x00;
const PayloadFormatInvalid = 0x99;

export interface MqttModeOptions {
  url: string;
  username?: string;
  password?: string;
  /** Fixed: it names the persistent session the broker keeps batches in while the consumer is away. */
  clientId: string;
  intake: Intake;
  log: Logger;
}

export interface MqttConsumer {
  close(): Promise<void>;
}

/** Credentials stay out of logs: a URL is shown without them. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export function startMqttConsumer(opts: MqttModeOptions): Promise<MqttConsumer> {
  const { intake, log } = opts;
  let closing = false;
  /** Set while PostgreSQL is out: the consumer leaves the broker, which keeps the batches, until it is back. */
  let pausedSince: number | null = null;
  /** Failures since the last stored batch: each waits longer, so a failure that repeats does not spin. */
  let failures = 0;

  const answer = (client: MqttClient, packet: IPublishPacket, outcome: Outcome, expected: { compound: string; site: string } | null) => {
    const to = packet.properties?.responseTopic;
    if (to === undefined) return;
    // Only the sender's own answer topic: a gate must not make HQ publish somewhere else.
    if (!expected || to !== answerTopic(expected.compound, expected.site)) {
      log.warn({ topic: packet.topic }, 'batch asked for an answer on a topic that is not its own; not answered');
      return;
    }
    const correlationData = packet.properties?.correlationData;
    // Not awaited: its PUBACK comes in behind the batch this handler has not acknowledged yet.
    client.publish(to, JSON.stringify(outcome.answer), { qos: 1, properties: { contentType: 'application/json', ...(correlationData ? { correlationData } : {}) } }, (err) => {
      if (err && !closing) log.warn({ err: err.message, topic: to }, 'answer not sent');
    });
  };

  const pause = (client: MqttClient, err: unknown) => {
    if (pausedSince !== null || closing) return;
    pausedSince = Date.now();
    failures++;
    log.error({ err: (err as Error).message, failures }, 'postgresql failed: leaving the broker without acknowledging; it keeps the batches until postgresql is back');
    // Forced: no PUBACK for anything in flight, so the broker delivers it again on the next session.
    client.end(true, () => {
      void (async () => {
        let delay = Math.min(250 * 2 ** (failures - 1), 30_000);
        await new Promise((r) => setTimeout(r, delay));
        while (!closing && !(await intake.store.ping())) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 30_000);
        }
        if (closing) return;
        log.info({ pausedMs: Date.now() - (pausedSince ?? Date.now()) }, 'postgresql is back: reconnecting to the broker');
        pausedSince = null;
        client.reconnect();
      })();
    });
  };

  const handle = async (client: MqttClient, packet: IPublishPacket, payload: Buffer): Promise<number | null> => {
    const from = parseUpTopic(packet.topic);
    let outcome: Outcome;
    try {
      if (from) outcome = await intake.take(payload, 'mqtt', from);
      else {
        const reason = `not an up topic: ${packet.topic.slice(0, 200)}`;
        outcome = await intake.reject({ ok: false, reason, origin: { compound: null, site: null, stream: null }, ids: [] }, payload, 'mqtt', Date.now());
      }
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err;
      pause(client, err.cause);
      return null;
    }
    failures = 0;
    answer(client, packet, outcome, from);
    if (outcome.kind === 'invalid') return PayloadFormatInvalid;
    const { batch, accepted, rejected } = outcome.checked;
    log.debug({ compound: batch.compound, site: batch.site, stream: batch.stream, accepted: accepted.length, rejected: rejected.length }, 'batch stored');
    return rejected.length > 0 ? PayloadFormatInvalid : Success;
  };

  return new Promise((resolve, reject) => {
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: opts.clientId,
      clean: false,
      // The session (subscription and queued batches) outlives any outage of the consumer.
      properties: { sessionExpiryInterval: 0xffffffff },
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      // Called for every QoS 1 message; mqtt.js sends the PUBACK (with the code) only when `done` is called.
      customHandleAcks: (_topic, message, packet, done) => {
        handle(client, packet as IPublishPacket, message).then(
          (code) => {
            if (code !== null) done(code);
          },
          (err: unknown) => {
            // A bug, not a bad batch: no PUBACK, so the broker delivers it again after a restart.
            log.error({ err: (err as Error).message, topic: (packet as IPublishPacket).topic }, 'batch handling failed');
            pause(client, err);
          },
        );
      },
    };
    const client = connect(opts.url, options);
    let first = true;
    client.on('connect', (connack) => {
      (client.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true);
      log.info({ url: safeUrl(opts.url), clientId: opts.clientId, sessionPresent: connack.sessionPresent }, 'connected to the broker');
      client.subscribe(upFilter, { qos: 1 }, (err, granted) => {
        const refused = err ?? (granted?.some((g) => g.qos >= 0x80) ? new Error(`the broker refused the subscription to ${upFilter}`) : null);
        if (refused) {
          log.error({ err: refused.message }, 'subscription failed');
          if (first) {
            first = false;
            client.end(true);
            reject(refused);
          }
          return;
        }
        if (first) {
          first = false;
          resolve({
            close: async () => {
              closing = true;
              await client.endAsync(true);
            },
          });
        }
      });
    });
    client.on('error', (err) => {
      log.warn({ err: err.message }, 'broker connection error');
      // Wrong credentials do not get better by retrying: fail the start.
      if (first && /Not authorized|Bad User Name or Password/i.test(err.message)) {
        first = false;
        client.end(true);
        reject(new Error(`the broker at ${safeUrl(opts.url)} refused the consumer's credentials: ${err.message}`));
      }
    });
  });
}
