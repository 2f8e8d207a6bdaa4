// The patrol's routes: the plan and its versions, the supervisor's day view, trend and CSV, reasons, hits, incidents.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Role } from '../../../config/schema.js';
import { ErrorCode, GuardpostError } from '../../core/errors.js';
import { localDate } from '../../core/time.js';
import { requireSession } from '../auth.js';
import type { HttpContext } from '../context.js';
import { ErrorBody } from '../contracts.js';
import * as P from '../patrol-contracts.js';

const everyone: readonly Role[] = ['guard', 'operator', 'supervisor', 'admin'];
const managers: readonly Role[] = ['supervisor', 'admin'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const patrolRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  const { patrol } = ctx;
  const actor = (request: Parameters<typeof requireSession>[1], roles: readonly Role[]) => {
    const { person } = requireSession(ctx.sessions, request, roles);
    return { id: person.id, role: person.role };
  };

  app.get('/api/patrol/plan', { schema: { response: { 200: P.PlanResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    const current = patrol.current();
    if (!current) throw new GuardpostError(ErrorCode.NotFound, 'no patrol plan yet');
    return current;
  });

  app.get('/api/patrol/plan/versions', { schema: { response: { 200: P.PlanVersionsResponse, ...errors } } }, async (request) => {
    actor(request, managers);
    return { versions: patrol.versions() };
  });

  app.put(
    '/api/patrol/plan',
    { schema: { body: Type.Object({ plan: P.PatrolPlan, effectiveFrom: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }), response: { 200: P.PlanResponse, ...errors } } },
    async (request) => {
      patrol.setPlan(request.body.plan, request.body.effectiveFrom, actor(request, managers));
      return patrol.current()!;
    },
  );

  app.get('/api/patrol/day', { schema: { querystring: P.DayQuery, response: { 200: P.DayResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    const { date, route, guard } = request.query;
    return patrol.day(date, { ...(route ? { route } : {}), ...(guard ? { guard } : {}) });
  });

  app.get('/api/patrol/day.csv', { schema: { querystring: P.DayQuery } }, async (request, reply) => {
    actor(request, managers);
    const { date, route, guard } = request.query;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="patrol-${date}.csv"`)
      .send(patrol.csv(date, { ...(route ? { route } : {}), ...(guard ? { guard } : {}) }));
  });

  app.get('/api/patrol/trend', { schema: { querystring: P.TrendQuery, response: { 200: P.TrendResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return patrol.trend(request.query.days, request.query.route);
  });

  app.post('/api/patrol/reasons', { schema: { body: P.MissedReasonRequest, response: { 200: Type.Object({ round: P.RoundView }), ...errors } } }, async (request) => {
    const { round, checkpoint, reason } = request.body;
    return { round: patrol.setReason(round, checkpoint, reason, actor(request, managers)) };
  });

  app.post('/api/patrol/hits', { schema: { body: P.HitRequest, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    patrol.manualHit(request.body.tag, request.body.at, actor(request, ['guard', 'supervisor', 'admin']));
    return reply.status(204).send(null);
  });

  app.post('/api/patrol/incidents', { config: { idempotent: true }, schema: { body: P.IncidentRequest, response: { 201: P.IncidentResponse, ...errors } } }, async (request, reply) => {
    const incident = patrol.reportIncident(request.body, actor(request, ['guard', 'supervisor', 'admin']));
    return reply.status(201).send({ incident });
  });

  app.get(
    '/api/patrol/incidents',
    { schema: { querystring: Type.Object({ date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }, { additionalProperties: false }), response: { 200: P.IncidentsResponse, ...errors } } },
    async (request) => {
      actor(request, everyone);
      return { incidents: patrol.incidents(request.query.date ?? localDate(ctx.clock.now(), ctx.config.site.timezone)) };
    },
  );
};
