// HTTP mode: POST /v1/batches (gzip JSON, bearer token or HMAC, Idempotency-Key) and GET /v1/master, for gates that cannot use HQ's broker.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../gateway/core/log.js';
import { ErrorCode } from '../../gateway/core/errors.js';
import { masterKinds } from '../contract.js';
import { StoreUnavailable, type Intake } from './intake.js';

const gunzipAsync = promisify(gunzip);

export interface HttpAuth {
  /** Gates send `Authorization: Bearer <token>`. */
  token?: string;
  /** Gates sign: X-Guardpost-Timestamp (epoch ms) and X-Guardpost-Signature (hex HMAC-SHA256 of "<timestamp>.<body as sent>"). */
  hmacKey?: string;
}

/** A signed request older or newer than this by HQ's clock is refused: a captured one cannot be replayed later. */
export const hmacWindowMs = 5 * 60 * 1000;
/** A batch is at most 5000 records; compressed it is far smaller than this, and decompressed it may not exceed the second. */
const bodyLimit = 32 * 1024 * 1024;
const maxInflated = 128 * 1024 * 1024;

const idPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const keyPattern = /^[a-z0-9][a-z0-9-]{0,62}:[a-z_]{1,40}:\d{1,16}-\d{1,16}$/;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Why the request is not authorised, or null when it is. Compares in constant time; never says what was expected. */
export function authProblem(headers: FastifyRequest['headers'], body: Buffer, auth: HttpAuth, now: number): string | null {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && /^Bearer /i.test(authorization)) {
    if (auth.token === undefined) return 'this HQ takes signed requests, not a bearer token';
    // Digests first: timingSafeEqual needs equal lengths, and the length of the token must not leak either.
    return timingSafeEqual(sha256(authorization.slice(7).trim()), sha256(auth.token)) ? null : 'wrong token';
  }
  const signature = headers['x-guardpost-signature'];
  if (signature !== undefined) {
    if (auth.hmacKey === undefined) return 'this HQ takes a bearer token, not signed requests';
    const timestamp = headers['x-guardpost-timestamp'];
    if (typeof timestamp !== 'string' || !/^\d{1,16}$/.test(timestamp)) return 'X-Guardpost-Timestamp missing or not epoch milliseconds';
    if (Math.abs(now - Number(timestamp)) > hmacWindowMs) return `X-Guardpost-Timestamp is more than ${hmacWindowMs / 60_000} minutes from HQ's clock (is the gate's clock right?)`;
    if (typeof signature !== 'string' || !/^[0-9a-fA-F]{64}$/.test(signature)) return 'X-Guardpost-Signature is not 64 hex digits';
    const expected = createHmac('sha256', auth.hmacKey).update(`${timestamp}.`).update(body).digest();
    return timingSafeEqual(Buffer.from(signature, 'hex'), expected) ? null : 'wrong signature';
  }
  return 'not authorised: send Authorization: Bearer <token>, or X-Guardpost-Timestamp and X-Guardpost-Signature';
}

const fail = (reply: FastifyReply, status: number, code: string, message: string) => reply.status(status).send({ error: { code, message } });

/** `have=residents:3,watchlist:7` as kind -> version. Kinds this HQ does not know are left out (a newer gate may know more). */
export function parseHave(text: string): Map<string, number> | string {
  const have = new Map<string, number>();
  if (text === '') return have;
  if (text.length > 1000) return 'have is too long';
  for (const part of text.split(',')) {
    const m = /^([a-z_]{1,40}):(\d{1,9})$/.exec(part.trim());
    if (!m) return `have: "${part.slice(0, 40)}" is not <kind>:<version>`;
    if ((masterKinds as readonly string[]).includes(m[1]!)) have.set(m[1]!, Number(m[2]));
  }
  return have;
}

export async function buildHttpConsumer(intake: Intake, auth: HttpAuth, log: Logger): Promise<FastifyInstance> {
  if (auth.token === undefined && auth.hmacKey === undefined) throw new Error('HTTP mode needs a bearer token or an HMAC key');
  const app = Fastify({ bodyLimit, logger: false });
  // The raw bytes are what a signature covers: no parsing before the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('preHandler', async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const problem = authProblem(req.headers, body, auth, Date.now());
    if (problem === null) return;
    log.warn({ ip: req.ip, url: req.url.slice(0, 200), problem }, 'request refused');
    await fail(reply, 401, ErrorCode.Unauthorized, problem);
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, req, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) return fail(reply, status, status === 404 ? ErrorCode.NotFound : ErrorCode.BadRequest, error.message);
    log.error({ err: error.message, url: req.url.slice(0, 200) }, 'request failed');
    return fail(reply, 500, ErrorCode.Internal, 'internal error; see the consumer log');
  });

  app.post('/v1/batches', async (req, reply) => {
    const receivedAt = Date.now();
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    let body: Buffer;
    if (encoding === 'gzip') {
      try {
        body = await gunzipAsync(raw, { maxOutputLength: maxInflated });
      } catch (err) {
        return fail(reply, 400, ErrorCode.BadRequest, `the body is not gzip: ${(err as Error).message}`);
      }
    } else if (encoding === 'identity') body = raw;
    else return fail(reply, 415, ErrorCode.BadRequest, `Content-Encoding ${encoding.slice(0, 40)}: send gzip`);

    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !keyPattern.test(key)) return fail(reply, 400, ErrorCode.BadRequest, 'Idempotency-Key missing or not <site>:<stream>:<first seq>-<last seq>');

    try {
      const check = intake.check(body);
      if (!check.ok) {
        await intake.reject(check, body, 'http', receivedAt);
        return fail(reply, 400, ErrorCode.BadRequest, check.reason);
      }
      const { batch } = check.checked;
      const expected = `${batch.site}:${batch.stream}:${batch.records[0]!.seq}-${batch.records.at(-1)!.seq}`;
      if (key !== expected) return fail(reply, 400, ErrorCode.BadRequest, `Idempotency-Key ${key} does not match the batch (${expected})`);
      const before = await intake.store.answerFor(batch.compound, key);
      if (before) return reply.header('idempotent-replay', 'true').send(before);
      const outcome = await intake.keep(check.checked, 'http', receivedAt, key);
      return reply.send(outcome.answer);
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err;
      log.error({ err: err.message }, 'batch not stored: postgresql failed');
      return fail(reply.header('retry-after', '30'), 503, ErrorCode.Internal, 'HQ cannot store batches right now; send it again later');
    }
  });

  app.get('/v1/master', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
    const compound = text('compound');
    const site = text('site');
    if (compound === undefined || !idPattern.test(compound)) return fail(reply, 400, ErrorCode.BadRequest, 'compound missing or not an id');
    if (site === undefined || !idPattern.test(site)) return fail(reply, 400, ErrorCode.BadRequest, 'site missing or not an id');
    const have = parseHave(text('have') ?? '');
    if (typeof have === 'string') return fail(reply, 400, ErrorCode.BadRequest, have);
    try {
      return reply.send({ items: await intake.store.masterNewerThan(compound, have) });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'master data not read: postgresql failed');
      return fail(reply.header('retry-after', '30'), 503, ErrorCode.Internal, 'HQ cannot read master data right now; ask again later');
    }
  });

  return app;
}
