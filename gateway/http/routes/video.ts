// The video routes: cameras, PTZ, snapshots, timeline, review grants, playback, seals and their exports, storage.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { WebSocket } from 'ws';
import type { Role } from '../../../config/schema.js';
import type { Viewer } from '../../video/grants.js';
import { requireMediaSession, requireSession } from '../auth.js';
import type { HttpContext } from '../context.js';
import { ErrorBody } from '../contracts.js';
import { sendFile } from '../send-file.js';
import * as V from '../video-contracts.js';

const everyone: readonly Role[] = ['guard', 'operator', 'supervisor', 'admin'];
const watchers: readonly Role[] = ['operator', 'supervisor', 'admin'];
const reviewers: readonly Role[] = ['operator', 'supervisor'];
const supervisors: readonly Role[] = ['supervisor'];
const planners: readonly Role[] = ['supervisor', 'admin'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const liveBufferBytes = 2 * 1024 * 1024;
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false });

export const videoRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  const { video } = ctx;
  const viewer = (request: Parameters<typeof requireSession>[1], roles: readonly Role[]): Viewer => requireSession(ctx.sessions, request, roles).person;
  const mediaViewer = (request: Parameters<typeof requireSession>[1], roles: readonly Role[]): Viewer => requireMediaSession(ctx.sessions, request, roles).person;

  // ---- cameras ----

  app.get('/api/video/cameras', { schema: { response: { 200: Type.Array(V.CameraView), ...errors } } }, async (request) => {
    viewer(request, watchers);
    return video.cameras();
  });

  app.get('/api/video/cameras/:id/snapshot', { schema: { params: V.CameraParams, querystring: TokenQuery } }, async (request, reply) => {
    mediaViewer(request, watchers);
    const image = await video.liveSnapshot(request.params.id);
    return reply.type('image/jpeg').header('cache-control', 'no-store').send(image);
  });

  // Live tiles: websockets authenticate by ?token= (a page cannot set headers on them). Close codes
  // tell the page what to do: 4401 log in again, 4403 not allowed, 4404 no such camera, 4409 no
  // stream yet (retry later), 4415 use the MPEG-1 path, 1000 stream ended (retry with backoff).
  const LiveQuery = Type.Object({ token: Type.String({ maxLength: 128 }), stream: Type.Optional(Type.Union([Type.Literal('sub'), Type.Literal('main')])) }, { additionalProperties: false });
  const liveSocket = (
    socket: WebSocket,
    request: { params: { id: string }; query: { token: string } },
    watch: (viewer: { data(chunk: Buffer): void; bye(reason: string, code: string): void; ready(): boolean }) => () => void,
  ): void => {
    const session = ctx.sessions.check(request.query.token);
    if (!session) return socket.close(4401, 'session missing or expired');
    if (!watchers.includes(session.person.role)) return socket.close(4403, 'this needs an operator, supervisor or admin');
    const bye = (reason: string, code: string) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify({ type: 'bye', reason }));
      socket.close(code === 'unplayable' ? 4415 : 1000, reason.slice(0, 120));
    };
    try {
      const stop = watch({
        data: (chunk) => {
          if (!ctx.sessions.check(session.token)) return socket.close(4401, 'session expired');
          socket.send(chunk);
        },
        bye,
        // A tile that cannot keep up skips to the next key frame instead of growing the gateway's memory.
        ready: () => socket.readyState === socket.OPEN && socket.bufferedAmount < liveBufferBytes,
      });
      socket.on('close', stop);
    } catch (err) {
      const e = err as { statusCode?: number; message: string; details?: { problem?: string } };
      socket.send(JSON.stringify({ type: 'bye', reason: e.message }));
      socket.close(e.details?.problem === 'codec' ? 4415 : e.statusCode === 404 ? 4404 : 4409, e.message.slice(0, 120));
    }
  };

  app.get('/api/video/cameras/:id/live', { websocket: true, schema: { params: V.CameraParams, querystring: LiveQuery } }, (socket, request) =>
    liveSocket(socket, request, (viewer) =>
      video.watchLive(request.params.id, request.query.stream ?? 'sub', { ...viewer, hello: (h) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(h)) }),
    ),
  );

  app.get('/api/video/cameras/:id/live-mpeg1', { websocket: true, schema: { params: V.CameraParams, querystring: LiveQuery } }, (socket, request) =>
    liveSocket(socket, request, (viewer) => video.watchMpeg1(request.params.id, viewer)),
  );

  app.post('/api/video/cameras/:id/ptz', { schema: { params: V.CameraParams, body: V.PtzRequest, response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors } } }, async (request) => {
    await video.ptz(request.params.id, request.body, viewer(request, watchers));
    return { ok: true };
  });

  app.get('/api/video/cameras/:id/ptz/presets', { schema: { params: V.CameraParams, response: { 200: Type.Array(V.PtzPreset), ...errors } } }, async (request) => {
    viewer(request, watchers);
    return video.presets(request.params.id);
  });

  app.get('/api/video/cameras/:id/timeline', { schema: { params: V.CameraParams, querystring: V.TimelineQuery, response: { 200: V.Timeline, ...errors } } }, async (request) => {
    viewer(request, watchers);
    return video.timeline(request.params.id, request.query.from, request.query.to);
  });

  // ---- review grants ----

  app.post('/api/video/grants', { config: { idempotent: true }, schema: { body: V.GrantRequest, response: { 201: V.GrantView, ...errors } } }, async (request, reply) => {
    const grant = video.grants.request(request.body, viewer(request, reviewers));
    return reply.status(201).send(grant);
  });

  app.get('/api/video/grants', { schema: { querystring: V.GrantListQuery, response: { 200: Type.Array(V.GrantView), ...errors } } }, async (request) => {
    const { status, mine } = request.query;
    return video.grants.list({ ...(status ? { status } : {}), ...(mine !== undefined ? { mine } : {}) }, viewer(request, reviewers));
  });

  app.post('/api/video/grants/:id/approve', { schema: { params: V.IdParams, body: V.GrantDecision, response: { 200: V.GrantView, ...errors } } }, async (request) =>
    video.grants.approve(request.params.id, request.body, viewer(request, supervisors)),
  );

  app.post('/api/video/grants/:id/deny', { schema: { params: V.IdParams, body: V.GrantDecision, response: { 200: V.GrantView, ...errors } } }, async (request) =>
    video.grants.deny(request.params.id, request.body, viewer(request, supervisors)),
  );

  app.post('/api/video/grants/:id/revoke', { schema: { params: V.IdParams, body: Type.Optional(Type.Object({}, { additionalProperties: false })), response: { 200: V.GrantView, ...errors } } }, async (request) =>
    video.grants.revoke(request.params.id, viewer(request, reviewers)),
  );

  // ---- playback ----

  app.post('/api/video/playback', { schema: { body: V.PlaybackRequest, response: { 200: V.PlaybackView, ...errors } } }, async (request) =>
    video.playback(request.body, viewer(request, reviewers)),
  );

  app.get('/api/video/playback/:id', { schema: { params: V.IdParams, querystring: TokenQuery } }, async (request, reply) => {
    const path = video.clipFile(request.params.id, mediaViewer(request, reviewers));
    return sendFile(request, reply, path, 'video/mp4');
  });

  // ---- seals ----

  app.get('/api/video/seals', { schema: { response: { 200: Type.Array(V.SealView), ...errors } } }, async (request) => {
    viewer(request, planners);
    return video.seals.list();
  });

  app.post('/api/video/seals', { config: { idempotent: true }, schema: { body: V.SealRequest, response: { 201: V.SealView, ...errors } } }, async (request, reply) =>
    reply.status(201).send(video.seals.create(request.body, viewer(request, supervisors))),
  );

  app.post('/api/video/seals/:id/extend', { schema: { params: V.IdParams, body: V.SealExtend, response: { 200: V.SealView, ...errors } } }, async (request) =>
    video.seals.extend(request.params.id, request.body, viewer(request, supervisors)),
  );

  app.post('/api/video/seals/:id/release', { schema: { params: V.IdParams, body: V.SealRelease, response: { 200: V.SealView, ...errors } } }, async (request) =>
    video.seals.release(request.params.id, request.body, viewer(request, supervisors)),
  );

  app.post('/api/video/seals/:id/export', { schema: { params: V.IdParams, response: { 201: V.ExportView, ...errors } } }, async (request, reply) =>
    reply.status(201).send(await video.seals.export(request.params.id, viewer(request, supervisors))),
  );

  app.get('/api/video/exports/:id', { schema: { params: V.IdParams, response: { 200: V.ExportView, ...errors } } }, async (request) => {
    viewer(request, supervisors);
    return video.seals.exportView(request.params.id);
  });

  app.get(
    '/api/video/exports/:id/files/:name',
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }), name: Type.String({ maxLength: 128 }) }), querystring: TokenQuery } },
    async (request, reply) => {
      const who = mediaViewer(request, supervisors);
      const path = video.seals.exportFile(request.params.id, request.params.name);
      ctx.store.audit.append({ actor: who.id, action: 'video.export.download', target: request.params.id, detail: { file: request.params.name } });
      return sendFile(request, reply, path, request.params.name.endsWith('.json') ? 'application/json' : 'video/mp4', request.params.name);
    },
  );

  // ---- storage and snapshots ----

  app.get('/api/video/storage', { schema: { response: { 200: V.StorageView, ...errors } } }, async (request) => {
    viewer(request, planners);
    return video.storage();
  });

  app.get('/api/video/snapshots', { schema: { querystring: Type.Object({ subject: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }), response: { 200: Type.Array(V.SnapshotView), ...errors } } }, async (request) => {
    viewer(request, everyone);
    return video.snapshotsFor(request.query.subject);
  });

  app.get('/api/video/snapshots/:id/image', { schema: { params: V.IdParams, querystring: TokenQuery } }, async (request, reply) => {
    mediaViewer(request, everyone);
    return sendFile(request, reply, video.snapshotFile(request.params.id), 'image/jpeg');
  });
};
