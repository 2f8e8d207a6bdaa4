// Login and logout at the console, and the list of people the login screen shows.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ErrorBody, LoginRequest, PeopleResponse, SessionResponse } from '../contracts.js';
import type { HttpContext } from '../context.js';
import { bearerToken } from '../auth.js';

export const sessionRoutes: FastifyPluginAsyncTypebox<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get('/api/people', { schema: { response: { 200: PeopleResponse } } }, async () => ({
    people: ctx.config.people.map(({ id, name, role }) => ({ id, name, role })),
  }));

  app.post('/api/session', { schema: { body: LoginRequest, response: { 200: SessionResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody } } }, async (request) => {
    return ctx.sessions.login(request.body.personId, request.body.pin, request.ip);
  });

  app.delete('/api/session', { schema: { headers: Type.Object({ authorization: Type.Optional(Type.String({ maxLength: 512 })) }) } }, async (request, reply) => {
    const token = bearerToken(request);
    if (token) ctx.sessions.logout(token);
    return reply.status(204).send();
  });
};
