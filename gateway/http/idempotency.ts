// Idempotency-Key for POSTs that create things: a retried or double-tapped request gets the first answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { IdempotencyRepo } from '../store/idempotency.js';

const keyPattern = /^[A-Za-z0-9_-]{8,100}$/;

/**
 * Routes opt in with `config: { idempotent: true }`. A second request with a key still in flight
 * waits for the first one's answer instead of acting again.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the hooks use only request and reply basics, whatever the app's logger and type provider
export function idempotency(app: FastifyInstance<any, any, any, any, any>, repo: IdempotencyRepo, clock: Clock): void {
  const inFlight = new Map<string, Promise<void>>();
  const settle = new WeakMap<FastifyRequest, () => void>();

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!(request.routeOptions.config as { idempotent?: boolean }).idempotent) return;
    const key = request.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !keyPattern.test(key)) throw new GuardpostError(ErrorCode.BadRequest, 'Idempotency-Key must be 8-100 letters, digits, - or _');
    const route = `${request.method} ${request.url.split('?')[0]}`;
    const pending = inFlight.get(key);
    if (pending) await pending;
    const stored = repo.get(key);
    if (stored) {
      if (stored.route !== route) throw new GuardpostError(ErrorCode.Conflict, 'this Idempotency-Key was used for another request');
      return reply.status(stored.status).header('idempotent-replay', 'true').type('application/json').send(stored.body);
    }
    let done!: () => void;
    inFlight.set(key, new Promise<void>((resolve) => (done = resolve)));
    settle.set(request, () => {
      inFlight.delete(key);
      done();
    });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const release = settle.get(request);
    if (!release) return payload;
    const key = request.headers['idempotency-key'] as string;
    // Only success is remembered: a request refused for bad input may be corrected and sent again.
    if (reply.statusCode < 300 && typeof payload === 'string') {
      repo.put(key, { route: `${request.method} ${request.url.split('?')[0]}`, status: reply.statusCode, body: payload }, clock.now());
    }
    release();
    return payload;
  });

  app.addHook('onResponse', async (request) => settle.get(request)?.());
}
