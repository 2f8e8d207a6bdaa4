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
