// Who is asking: the bearer token of a logged-in person, and the roles a route admits.
import type { FastifyRequest } from 'fastify';
import type { Role } from '../../config/schema.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import type { Session, Sessions } from './sessions.js';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  return header.slice('Bearer '.length).trim() || undefined;
}

/** The caller's session; throws 401 without one and 403 when the role is not admitted. */
export function requireSession(sessions: Sessions, request: FastifyRequest, roles?: readonly Role[]): Session {
  const session = sessions.check(bearerToken(request));
  if (!session) throw new GuardpostError(ErrorCode.Unauthorized, 'log in first (session missing or expired)');
  if (roles && !roles.includes(session.person.role)) throw new GuardpostError(ErrorCode.Forbidden, `this needs one of these roles: ${roles.join(', ')}`);
  return session;
}

/**
 * For media a page cannot fetch with headers (<img>, <video>, websockets): the session token may
 * come as ?token=. Request logging is off, so it does not land in logs.
 */
export function requireMediaSession(sessions: Sessions, request: FastifyRequest, roles?: readonly Role[]): Session {
  const query = request.query as { token?: unknown } | undefined;
  const token = bearerToken(request) ?? (typeof query?.token === 'string' ? query.token : undefined);
  const session = sessions.check(token);
  if (!session) throw new GuardpostError(ErrorCode.Unauthorized, 'log in first (session missing or expired)');
  if (roles && !roles.includes(session.person.role)) throw new GuardpostError(ErrorCode.Forbidden, `this needs one of these roles: ${roles.join(', ')}`);
  return session;
}
