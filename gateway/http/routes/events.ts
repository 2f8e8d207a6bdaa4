// GET /api/events: the latest device events for a logged-in screen, masked.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, EventsQuery, EventsResponse } from '../contracts.js';
import type { HttpContext } from '../context.js';
import { requireSession } from '../auth.js';
import { eventView } from '../../devices/view.js';

export const eventRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get('/api/events', { schema: { querystring: EventsQuery, response: { 200: EventsResponse, 400: ErrorBody, 401: ErrorBody } } }, async (request) => {
    requireSession(ctx.sessions, request);
    const events = ctx.store.deviceEvents.recent(request.query.limit).map((e) => eventView(e.id, e.event, e.receivedAt, ctx.devices.get(e.deviceId)));
    return { events };
  });
};
