// The gate's routes: units, visitors and passes, the vehicle queue and the barrier, shifts, keys, watchlist, alarms.
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Role } from '../../../config/schema.js';
import { ErrorCode, GuardpostError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { maskIdNumber, maskPhone } from '../../core/mask.js';
import { importResidents } from '../../gate/import.js';
import { checkPhone } from '../../gate/identity.js';
import { parsePlate } from '../../gate/plates.js';
import { requireSession } from '../auth.js';
import type { HttpContext } from '../context.js';
import { ErrorBody } from '../contracts.js';
import * as C from '../gate-contracts.js';

const gateStaff: readonly Role[] = ['guard', 'supervisor', 'admin'];
const everyone: readonly Role[] = ['guard', 'operator', 'supervisor', 'admin'];
const managers: readonly Role[] = ['supervisor', 'admin'];

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const CodeParam = Type.Object({ code: Type.String({ pattern: '^[0-9A-Za-z]{4,12}$' }) });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const gateRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  const { access, visitors, passes, shifts } = ctx.gate;
  // Offices export residents from Excel as CSV; the body is read as text and parsed by the importer.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const actor = (request: Parameters<typeof requireSession>[1], roles: readonly Role[]) => {
    const { person } = requireSession(ctx.sessions, request, roles);
    return { id: person.id, role: person.role };
  };

  app.get('/api/gate/info', { schema: { response: { 200: C.GateInfoResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    const { gate } = ctx.config;
    return {
      entryPoints: access.entryPoints.map((p) => ({
        id: p.id,
        name: p.name,
        direction: p.direction,
        barrier: p.barrier,
        barrierState: p.barrier ? (ctx.devices.get(p.barrier)?.state ?? null) : null,
      })),
      manualOpenReasons: gate.manual_open_reasons,
      lists: Object.entries(gate.lists).map(([id, l]) => ({ id, name: l.name, rule: l.rule })),
      workerCurfew: gate.worker_curfew,
    };
  });

  // ---- units and residents ----

  app.get('/api/gate/units', { schema: { querystring: C.UnitsQuery, response: { 200: C.UnitsResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return { units: ctx.store.residents.findUnits(request.query.q ?? '', request.query.limit) };
  });

  app.get('/api/gate/units/:id/residents', { schema: { params: IdParam, response: { 200: C.ResidentsResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    if (!ctx.store.residents.unit(request.params.id)) throw new GuardpostError(ErrorCode.NotFound, `no unit ${request.params.id}`);
    return {
      residents: ctx.store.residents.residentsOf(request.params.id).map((r) => ({ id: r.id, unitId: r.unit_id, kind: r.kind, name: r.name, phoneMasked: r.phone ? maskPhone(r.phone) : null })),
    };
  });

  app.post('/api/gate/residents/import', { schema: { body: Type.String({ minLength: 1, maxLength: 50 * 1024 * 1024 }), response: { 200: C.ImportReport, ...errors } }, bodyLimit: 50 * 1024 * 1024 }, async (request) => {
    const who = actor(request, managers);
    return importResidents(request.body, { store: ctx.store, lists: Object.keys(ctx.config.gate.lists), now: ctx.clock.now(), actor: who.id, timeZone: ctx.config.site.timezone });
  });

  // ---- visitors ----

  app.get('/api/gate/visitors/lookup', { schema: { querystring: C.VisitorLookupQuery, response: { 200: C.VisitorLookupResponse, ...errors } } }, async (request) => {
    actor(request, gateStaff);
    if (!request.query.idNumber && !request.query.phone) throw new GuardpostError(ErrorCode.BadRequest, 'give idNumber or phone');
    return { visitor: visitors.lookup(request.query) };
  });

  app.post('/api/gate/watchlist/check', { schema: { body: C.WatchlistCheckRequest, response: { 200: C.WatchlistCheckResponse, ...errors } } }, async (request) => {
    actor(request, gateStaff);
    return { hits: visitors.watchlistHits(request.body) };
  });

  app.post('/api/gate/visits', { config: { idempotent: true }, schema: { body: C.RegisterVisitRequest, response: { 201: C.VisitResponse, ...errors } } }, async (request, reply) => {
    const visit = visitors.register(request.body, actor(request, gateStaff));
    return reply.status(201).send({ visit });
  });

  app.get('/api/gate/visits', { schema: { querystring: C.VisitsQuery, response: { 200: C.VisitsResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return { visits: visitors.list(request.query.status ?? 'open', request.query.limit) };
  });

  app.post('/api/gate/visits/:id/confirm', { schema: { params: IdParam, body: C.ConfirmVisitRequest, response: { 200: C.VisitResponse, ...errors } } }, async (request) => ({
    visit: visitors.confirm(request.params.id, request.body.method, request.body.confirmedBy, actor(request, gateStaff)),
  }));

  app.post('/api/gate/visits/:id/override', { schema: { params: IdParam, body: C.OverrideVisitRequest, response: { 200: C.VisitResponse, ...errors } } }, async (request) => ({
    visit: visitors.override(request.params.id, request.body.note, actor(request, managers)),
  }));

  app.post('/api/gate/visits/:id/pass', { config: { idempotent: true }, schema: { params: IdParam, body: C.IssuePassRequest, response: { 200: C.VisitResponse, ...errors } } }, async (request) => ({
    visit: visitors.issuePass(request.params.id, request.body.tempCard, actor(request, gateStaff)),
  }));

  app.post('/api/gate/visits/:id/sign-out', { schema: { params: IdParam, response: { 200: C.VisitResponse, ...errors } } }, async (request) => ({
    visit: visitors.signOut(request.params.id, actor(request, gateStaff)),
  }));

  app.post('/api/gate/preregistrations', { config: { idempotent: true }, schema: { body: C.PreregistrationRequest, response: { 201: C.PreregistrationResponse, ...errors } } }, async (request, reply) => {
    const preregistration = visitors.preregister(request.body, actor(request, gateStaff), 'guard');
    return reply.status(201).send({ preregistration });
  });

  app.get('/api/gate/preregistrations/:code', { schema: { params: CodeParam, response: { 200: C.PreregistrationResponse, ...errors } } }, async (request) => {
    actor(request, gateStaff);
    return { preregistration: visitors.preregistration(request.params.code) };
  });

  // ---- worker and goods-out passes ----

  app.post('/api/gate/passes/worker', { config: { idempotent: true }, schema: { body: C.WorkerPassRequest, response: { 201: C.PassResponse, ...errors } } }, async (request, reply) => {
    return reply.status(201).send({ pass: passes.issueWorker(request.body, actor(request, gateStaff)) });
  });

  app.post('/api/gate/passes/goods-out', { config: { idempotent: true }, schema: { body: C.GoodsOutPassRequest, response: { 201: C.PassResponse, ...errors } } }, async (request, reply) => {
    return reply.status(201).send({ pass: passes.issueGoodsOut(request.body, actor(request, gateStaff)) });
  });

  app.get('/api/gate/passes', { schema: { querystring: C.PassesQuery, response: { 200: C.PassesResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    const { kind, status, limit } = request.query;
    return { passes: passes.list({ ...(kind ? { kind } : {}), ...(status ? { status } : {}) }, limit) };
  });

  for (const [path, direction] of [['enter', 'in'], ['leave', 'out']] as const) {
    app.post(`/api/gate/passes/:id/${path}`, { schema: { params: IdParam, body: C.PassMovementRequest, response: { 200: C.PassResponse, ...errors } } }, async (request) => {
      const who = actor(request, gateStaff);
      const decision = access.passMovement(request.params.id, request.body.entryPoint, direction, who.id);
      if (decision.outcome !== 'granted') throw new GuardpostError(ErrorCode.Conflict, `refused: ${decision.reason}`, { problem: decision.reason });
      return { pass: passes.get(request.params.id) };
    });
  }

  app.post('/api/gate/passes/:id/sign-off', { schema: { params: IdParam, response: { 200: C.PassResponse, ...errors } } }, async (request) => ({
    pass: passes.signOff(request.params.id, actor(request, gateStaff)),
  }));

  // ---- decisions and the barrier ----

  app.get('/api/gate/decisions', { schema: { querystring: C.DecisionsQuery, response: { 200: C.DecisionsResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return { decisions: access.list(request.query.pending ?? false, request.query.limit) };
  });

  // Pictures are shown in <img>, which cannot send a bearer header: the token may come as ?token=.
  app.get('/api/gate/decisions/:id/snapshot', { schema: { params: IdParam, querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 128 })) }) } }, async (request, reply) => {
    if (!request.headers.authorization && request.query.token) request.headers.authorization = `Bearer ${request.query.token}`;
    actor(request, everyone);
    const file = access.snapshotFile(request.params.id);
    const picture = await readFile(file).catch(() => {
      throw new GuardpostError(ErrorCode.NotFound, `the picture for decision ${request.params.id} is gone`);
    });
    return reply.type('image/jpeg').header('cache-control', 'private, max-age=86400').send(picture);
  });

  app.post('/api/gate/decisions/:id/resolve', { schema: { params: IdParam, body: C.ResolveDecisionRequest, response: { 200: C.DecisionResponse, ...errors } } }, async (request) => ({
    decision: await access.resolve(request.params.id, request.body.action, request.body.reason, actor(request, gateStaff).id),
  }));

  app.post('/api/gate/decisions/:id/retry', { schema: { params: IdParam, response: { 200: C.DecisionResponse, ...errors } } }, async (request) => ({
    decision: await access.retry(request.params.id, actor(request, gateStaff).id),
  }));

  app.post('/api/gate/entry-points/:id/open', { schema: { params: IdParam, body: C.ManualOpenRequest, response: { 200: C.DecisionResponse, ...errors } } }, async (request) => ({
    decision: await access.manualOpen(request.params.id, request.body.reason, actor(request, gateStaff).id),
  }));

  // ---- alarms ----

  app.get('/api/alarms', { schema: { querystring: C.AlarmsQuery, response: { 200: C.AlarmsResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return { alarms: ctx.alarms.list(request.query.open ?? false, request.query.limit) };
  });

  app.post('/api/alarms/:id/resolve', { schema: { params: IdParam, body: C.ResolveAlarmRequest, response: { 200: C.AlarmsResponse, ...errors } } }, async (request) => {
    const who = actor(request, everyone);
    const alarm = ctx.alarms.resolve(request.params.id, who.id, request.body.resolution);
    if (!alarm) throw new GuardpostError(ErrorCode.Conflict, 'no open alarm with this id');
    return { alarms: [alarm] };
  });

  // ---- shifts and keys ----

  app.get('/api/gate/shifts', { schema: { response: { 200: C.ShiftsResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return shifts.status();
  });

  app.post('/api/gate/shifts/sign-on', { schema: { response: { 200: C.ShiftsResponse, ...errors } } }, async (request) => shifts.signOn(actor(request, gateStaff)));

  app.post('/api/gate/shifts/sign-off', { schema: { body: C.SignOffRequest, response: { 200: C.ShiftsResponse, ...errors } } }, async (request) =>
    shifts.signOff(actor(request, gateStaff), request.body.handoverNote ?? null),
  );

  app.get('/api/gate/keys', { schema: { response: { 200: C.KeysResponse, ...errors } } }, async (request) => {
    actor(request, everyone);
    return { keys: shifts.keys() };
  });

  app.post('/api/gate/keys', { schema: { body: C.CreateKeyRequest, response: { 200: C.KeysResponse, ...errors } } }, async (request) => ({
    keys: shifts.addKey(request.body.label, request.body.location ?? null, actor(request, managers)),
  }));

  app.post('/api/gate/keys/:id/issue', { schema: { params: IdParam, body: C.IssueKeyRequest, response: { 200: C.KeysResponse, ...errors } } }, async (request) => ({
    keys: shifts.issueKey(request.params.id, request.body.holderName, request.body.purpose, request.body.dueAt, actor(request, gateStaff)),
  }));

  app.post('/api/gate/keys/:id/return', { schema: { params: IdParam, response: { 200: C.KeysResponse, ...errors } } }, async (request) => ({
    keys: shifts.returnKey(request.params.id, actor(request, gateStaff)),
  }));

  // ---- watchlist ----

  app.get('/api/gate/watchlist', { schema: { response: { 200: C.WatchlistResponse, ...errors } } }, async (request) => {
    actor(request, managers);
    return { entries: ctx.store.watchlist.list().map((w) => ({ id: w.id, kind: w.kind, valueMasked: maskWatched(w.kind, w.value), reason: w.reason, addedBy: w.added_by, addedAt: w.added_at })) };
  });

  app.post('/api/gate/watchlist', { schema: { body: C.WatchlistEntryRequest, response: { 200: C.WatchlistResponse, ...errors } } }, async (request) => {
    const who = actor(request, managers);
    const { kind, reason } = request.body;
    const value = normaliseWatched(kind, request.body.value);
    if (ctx.store.watchlist.find(kind, value)) throw new GuardpostError(ErrorCode.Conflict, 'already on the watchlist');
    const id = newId();
    ctx.store.transaction(() => {
      ctx.store.watchlist.add({ id, kind, value, reason, added_by: who.id, added_at: ctx.clock.now() });
      ctx.store.audit.append({ actor: who.id, action: 'watchlist.add', target: id, detail: { kind, value: maskWatched(kind, value), reason } });
    });
    return { entries: ctx.store.watchlist.list().map((w) => ({ id: w.id, kind: w.kind, valueMasked: maskWatched(w.kind, w.value), reason: w.reason, addedBy: w.added_by, addedAt: w.added_at })) };
  });

  app.delete('/api/gate/watchlist/:id', { schema: { params: IdParam } }, async (request, reply) => {
    const who = actor(request, managers);
    ctx.store.transaction(() => {
      if (!ctx.store.watchlist.remove(request.params.id)) throw new GuardpostError(ErrorCode.NotFound, `no watchlist entry ${request.params.id}`);
      ctx.store.audit.append({ actor: who.id, action: 'watchlist.remove', target: request.params.id });
    });
    return reply.status(204).send();
  });
};

function normaliseWatched(kind: 'id_number' | 'plate' | 'phone', value: string): string {
  if (kind === 'plate') {
    const plate = parsePlate(value);
    if (!plate.ok) throw new GuardpostError(ErrorCode.BadRequest, `plate ${value} is not valid (${plate.reason})`, { field: 'value', problem: plate.reason });
    return plate.plate;
  }
  if (kind === 'phone') {
    const phone = checkPhone(value);
    if (!phone.ok) throw new GuardpostError(ErrorCode.BadRequest, `phone number ${value} is not valid`, { field: 'value', problem: phone.reason });
    return phone.normalised;
  }
  return value.trim().toUpperCase();
}

function maskWatched(kind: string, value: string): string {
  if (kind === 'id_number') return maskIdNumber(value);
  if (kind === 'phone') return maskPhone(value);
  return value;
}
