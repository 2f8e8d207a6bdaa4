// The fastify app as a plugin: error handling, every API route, the websocket and the edge UI.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError } from 'fastify';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { edgeDistDir } from '../core/paths.js';
import type { HttpContext } from './context.js';
import { idempotency } from './idempotency.js';
import { eventRoutes } from './routes/events.js';
import { gateRoutes } from './routes/gate.js';
import { patrolRoutes } from './routes/patrol.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { sessionRoutes } from './routes/session.js';
import { videoRoutes } from './routes/video.js';
import { syncRoutes } from './routes/sync.js';

export type App = Awaited<ReturnType<typeof buildApp>>;

export async function buildApp(ctx: HttpContext) {
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }),
    // Every request logged would drown the device log; errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Unknown keys are a client bug: refuse them (fastify would strip them silently by default).
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error: FastifyError | GuardpostError, request, reply) => {
    if (error instanceof GuardpostError) {
      const { field, problem } = (error.details ?? {}) as { field?: string; problem?: string };
      return reply.status(error.statusCode).send({ error: { code: error.code, message: error.message, ...(field ? { field } : {}), ...(problem ? { problem } : {}) } });
    }
    if (error.validation) {
      const message = `${error.validationContext ?? 'request'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`;
      return reply.status(400).send({ error: { code: ErrorCode.BadRequest, message } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: status === 404 ? ErrorCode.NotFound : ErrorCode.BadRequest, message: error.message } });
    }
    request.log.error({ err: error, url: request.url }, 'request failed');
    return reply.status(500).send({ error: { code: ErrorCode.Internal, message: 'internal error; see the gateway log' } });
  });

  idempotency(app, ctx.store.idempotency, ctx.clock);
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(healthRoutes, { ctx });
  await app.register(sessionRoutes, { ctx });
  await app.register(eventRoutes, { ctx });
  await app.register(liveRoutes, { ctx });
  await app.register(gateRoutes, { ctx });
  await app.register(patrolRoutes, { ctx });
  await app.register(videoRoutes, { ctx });
  await app.register(syncRoutes, { ctx });

  const uiBuilt = existsSync(join(edgeDistDir, 'index.html'));
  if (uiBuilt) await app.register(fastifyStatic, { root: edgeDistDir, wildcard: false });
  app.setNotFoundHandler((request, reply) => {
    // Screens are client-side routes: anything that is not the API gets the app.
    if (uiBuilt && request.method === 'GET' && !request.url.startsWith('/api/')) return reply.sendFile('index.html');
    return reply.status(404).send({ error: { code: ErrorCode.NotFound, message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
  return app;
}
