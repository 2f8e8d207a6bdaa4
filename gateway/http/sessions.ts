// Logins: person + PIN checked against the configured scrypt hash, short-lived bearer tokens, lockout after failures.
import { randomBytes } from 'node:crypto';
import type { PersonConfig, Role } from '../../config/schema.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { verifySecret } from '../core/secret.js';
import type { AuditLog } from '../store/audit.js';

export interface Session {
  token: string;
  person: { id: string; name: string; role: Role };
  expiresAt: number;
}

// A shift is 12 hours; a session should not outlive the guard's shift.
const sessionMs = 12 * 3600 * 1000;
const maxFailures = 5;
const lockoutMs = 5 * 60 * 1000;

export class Sessions {
  private readonly byToken = new Map<string, Session>();
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();

  constructor(
    private readonly people: readonly PersonConfig[],
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  async login(personId: string, pin: string, from: string): Promise<Session> {
    const now = this.clock.now();
    const person = this.people.find((p) => p.id === personId);
    const lock = this.failures.get(personId);
    if (lock && lock.lockedUntil > now) {
      this.audit.append({ actor: personId, action: 'login.locked', detail: { from } });
      throw new GuardpostError(ErrorCode.LockedOut, `too many wrong PINs: try again in ${Math.ceil((lock.lockedUntil - now) / 60000)} min`);
    }
    // Hash even for an unknown person so the answer takes as long either way.
    const ok = await verifySecret(pin, person?.pin_hash ?? unknownPersonHash);
    if (!person || !ok) {
      const count = (lock?.count ?? 0) + 1;
      this.failures.set(personId, { count, lockedUntil: count >= maxFailures ? now + lockoutMs : 0 });
      this.audit.append({ actor: personId, action: 'login.failed', detail: { from, reason: person ? 'wrong PIN' : 'unknown person' } });
      throw new GuardpostError(ErrorCode.Unauthorized, 'wrong person or PIN');
    }
    this.failures.delete(personId);
    const session: Session = {
      token: randomBytes(32).toString('base64url'),
      person: { id: person.id, name: person.name, role: person.role },
      expiresAt: now + sessionMs,
    };
    this.byToken.set(session.token, session);
    this.audit.append({ actor: person.id, action: 'login', detail: { from, role: person.role } });
    return session;
  }

  /** The live session for a token, or null when unknown or expired. */
  check(token: string | undefined): Session | null {
    if (!token) return null;
    const session = this.byToken.get(token);
    if (!session) return null;
    if (session.expiresAt <= this.clock.now()) {
      this.byToken.delete(token);
      return null;
    }
    return session;
  }

  logout(token: string): void {
    const session = this.byToken.get(token);
    if (!session) return;
    this.byToken.delete(token);
    this.audit.append({ actor: session.person.id, action: 'logout' });
  }
}

// A valid hash of a random secret nobody knows: same cost as a real check.
const unknownPersonHash = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
