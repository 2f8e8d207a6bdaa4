// The /api/live websocket: pushes recorded device events and device health changes to logged-in screens.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { LiveMessage } from '../contracts.js';
import type { HttpContext } from '../context.js';
import { eventView } from '../../devices/view.js';

// A screen that cannot keep up (a frozen tab) is skipped rather than allowed to grow the gateway's memory.
const maxBufferedBytes = 1024 * 1024;

export const liveRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get(
    '/api/live',
    { websocket: true, schema: { querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }) } },
    (socket, request) => {
      const session = ctx.sessions.check(request.query.token);
      if (!session) {
        socket.close(4401, 'session missing or expired');
        return;
      }
      const send = (msg: LiveMessage) => {
        if (socket.readyState !== socket.OPEN || socket.bufferedAmount > maxBufferedBytes) return;
        // Sessions end while the socket is open: stop pushing and tell the screen.
        if (!ctx.sessions.check(session.token)) {
          socket.close(4401, 'session expired');
          return;
        }
        socket.send(JSON.stringify(msg));
      };
      const offs = [
        ctx.bus.on('device.recorded', ({ id, event }) => send({ type: 'device.event', event: eventView(id, event, ctx.clock.now(), ctx.devices.get(event.deviceId)) })),
        ctx.bus.on('device.health', ({ deviceId }) => {
          const d = ctx.devices.get(deviceId);
          if (d) send({ type: 'device.health', device: { id: d.id, name: d.name, kind: d.kind, type: d.type, state: d.state, lastSeen: d.lastSeen, lastError: d.lastError } });
        }),
        ctx.bus.on('gate.decision', (decision) => send({ type: 'gate.decision', decision })),
        ctx.bus.on('gate.visit', (visit) => send({ type: 'gate.visit', visit })),
        ctx.bus.on('alarm', (alarm) => send({ type: 'alarm', alarm })),
        ctx.bus.on('video.snapshot', (snapshot) => send({ type: 'video.snapshot', snapshot })),
        // Review decisions concern the requester and the supervisors, nobody else.
        ctx.bus.on('video.grant', (grant) => {
          if (session.person.role === 'supervisor' || grant.requestedBy === session.person.id) send({ type: 'video.grant', grant });
        }),
        ctx.bus.on('video.camera', (camera) => {
          if (session.person.role !== 'guard') send({ type: 'video.camera', camera });
        }),
      ];
      socket.on('close', () => offs.forEach((off) => off()));
      send({ type: 'hello', person: session.person });
    },
  );
};
