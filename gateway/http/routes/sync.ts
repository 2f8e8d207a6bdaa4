// The sync routes: how the link to HQ is doing, and the records HQ refused, for admins and supervisors.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Role } from '../../../config/schema.js';
import { ErrorCode, GuardpostError } from '../../core/errors.js';
import { requireSession } from '../auth.js';
import type { HttpContext } from '../context.js';
import { ErrorBody, SyncResponse } from '../contracts.js';

const viewers: readonly Role[] = ['supervisor', 'admin'];
const admins: readonly Role[] = ['admin'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export const syncRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get('/api/sync', { schema: { response: { 200: SyncResponse, ...errors } } }, async (request) => {
    requireSession(ctx.sessions, request, viewers);
    return { sync: ctx.sync.view(), parked: ctx.sync.parked() };
  });

  app.post(
    '/api/sync/parked/:seq/retry',
    { schema: { params: Type.Object({ seq: Type.Integer({ minimum: 1 }) }), response: { 200: SyncResponse, ...errors } } },
    async (request) => {
      const { person } = requireSession(ctx.sessions, request, admins);
      if (!ctx.sync.retry(request.params.seq, person.id)) throw new GuardpostError(ErrorCode.NotFound, `no parked record ${request.params.seq}`);
      return { sync: ctx.sync.view(), parked: ctx.sync.parked() };
    },
  );
};
