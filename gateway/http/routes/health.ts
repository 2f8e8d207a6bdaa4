// GET /api/health and GET /metrics: is the post working, and its numbers for Prometheus.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ErrorBody, HealthResponse } from '../contracts.js';
import type { HttpContext } from '../context.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get('/api/health', { schema: { response: { 200: HealthResponse, 500: ErrorBody } } }, async () => {
    const devices = ctx.devices.list();
    // The broker lives and dies with the process, so a gateway that answers has a running broker.
    return {
      status: devices.every((d) => d.state === 'online') ? ('ok' as const) : ('degraded' as const),
      site: { id: ctx.config.site.id, name: ctx.config.site.name, timezone: ctx.config.site.timezone },
      uptimeS: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
      store: {
        status: 'ok' as const,
        schemaVersion: ctx.store.migration.to,
        sizeBytes: ctx.store.sizeBytes(),
        outboxDepth: ctx.store.outbox.depth(),
      },
      broker: { status: 'ok' as const, port: ctx.broker.port(), clients: ctx.broker.clients() },
      sync: ctx.sync.view(),
      devices: devices.map(({ id, name, kind, type, state, lastSeen, lastError }) => ({ id, name, kind, type, state, lastSeen, lastError })),
    };
  });

  app.get('/metrics', { schema: { response: { 200: Type.String() } } }, async (_request, reply) => {
    reply.type(ctx.metrics.contentType);
    return ctx.metrics.text();
  });
};
