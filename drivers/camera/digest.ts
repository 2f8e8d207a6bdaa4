// HTTP/RTSP authentication for cameras: WWW-Authenticate parsing and Digest (RFC 7616/2617/2069) or Basic answers.
import { createHash, randomBytes } from 'node:crypto';

/** One challenge from a WWW-Authenticate header: the scheme (lower case) and its parameters (names lower case). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Splits WWW-Authenticate values into challenges. One header may carry several challenges
 * (`Digest realm="a", nonce="b", Basic realm="a"`), and a response may repeat the header
 * (Hikvision sends one Digest MD5 and one Digest SHA-256 line). Never throws; unparseable
 * fragments are skipped.
 */
export function parseChallenges(values: readonly string[]): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const value of values) {
    let i = 0;
    let current: AuthChallenge | null = null;
    const n = value.length;
    while (i < n) {
      while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
      if (i >= n) break;
      const tokenStart = i;
      while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(value[i] as string)) i++;
      const token = value.slice(tokenStart, i);
      if (token.length === 0) {
        // Not a token character: skip to the next comma rather than give up on the rest.
        while (i < n && value[i] !== ',') i++;
        continue;
      }
      let j = i;
      while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
      if (value[j] === '=' && current) {
        // auth-param: token = token / quoted-string
        j++;
        while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
        let paramValue = '';
        if (value[j] === '"') {
          j++;
          while (j < n && value[j] !== '"') {
            if (value[j] === '\\' && j + 1 < n) j++;
            paramValue += value[j];
            j++;
          }
          j++;
        } else {
          const start = j;
          while (j < n && value[j] !== ',' && value[j] !== ' ' && value[j] !== '\t') j++;
          paramValue = value.slice(start, j);
        }
        current.params[token.toLowerCase()] = paramValue;
        i = j;
      } else if (value[j] === '=') {
        // A parameter before any scheme: not a challenge.
        while (i < n && value[i] !== ',') i++;
      } else {
        current = { scheme: token.toLowerCase(), params: {} };
        out.push(current);
        i = j;
      }
    }
  }
  return out;
}

const digestAlgorithms: Record<string, 'md5' | 'sha256'> = {
  MD5: 'md5',
  'MD5-SESS': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-SESS': 'sha256',
};

/**
 * The challenge to answer: Digest SHA-256, then Digest MD5, then Basic. Digest challenges with an
 * algorithm we do not know (SHA-512-256) or a qop without "auth" (auth-int only) are passed over.
 */
export function chooseChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | null {
  const usable = (c: AuthChallenge): boolean => {
    if (c.scheme === 'basic') return true;
    if (c.scheme !== 'digest' || c.params.nonce === undefined || c.params.realm === undefined) return false;
    if (digestAlgorithms[(c.params.algorithm ?? 'MD5').toUpperCase()] === undefined) return false;
    const qop = c.params.qop;
    return qop === undefined || qop.split(',').some((q) => q.trim().toLowerCase() === 'auth');
  };
  const rank = (c: AuthChallenge): number => (c.scheme === 'basic' ? 0 : (c.params.algorithm ?? 'MD5').toUpperCase().startsWith('SHA-256') ? 2 : 1);
  return challenges.filter(usable).sort((a, b) => rank(b) - rank(a))[0] ?? null;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function quoted(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * Answers one Digest or Basic challenge, request after request: a Digest session counts its nonce
 * uses (nc) as RFC 7616 asks, so one challenge serves a connection's later requests too.
 */
export class AuthSession {
  private nc = 0;

  constructor(
    readonly challenge: AuthChallenge,
    private readonly username: string,
    private readonly password: string,
    /** Tests pass a fixed client nonce to check against the RFCs' worked examples. */
    private readonly cnonce: () => string = () => randomBytes(12).toString('hex'),
  ) {}

  /** The Authorization header value for `method` on `uri` (the request-target as sent: a path for HTTP, the URL for RTSP). */
  authorization(method: string, uri: string): string {
    const c = this.challenge;
    if (c.scheme === 'basic') return basicAuthorization(this.username, this.password);
    const algorithmName = (c.params.algorithm ?? 'MD5').toUpperCase();
    const hashName = digestAlgorithms[algorithmName] ?? 'md5';
    const h = (text: string): string => createHash(hashName).update(text, 'utf8').digest('hex');
    const realm = c.params.realm ?? '';
    const nonce = c.params.nonce ?? '';
    const qop = c.params.qop === undefined ? undefined : 'auth';
    const cnonce = this.cnonce();
    let ha1 = h(`${this.username}:${realm}:${this.password}`);
    if (algorithmName.endsWith('-SESS')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
    const ha2 = h(`${method}:${uri}`);
    const parts = [`username=${quoted(this.username)}`, `realm=${quoted(realm)}`, `nonce=${quoted(nonce)}`, `uri=${quoted(uri)}`];
    if (qop) {
      this.nc += 1;
      const nc = this.nc.toString(16).padStart(8, '0');
      parts.push(`response=${quoted(h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`))}`, `qop=${qop}`, `nc=${nc}`, `cnonce=${quoted(cnonce)}`);
    } else {
      // RFC 2069 style, what gst-rtsp-server and many RTSP cameras ask for.
      parts.push(`response=${quoted(h(`${ha1}:${nonce}:${ha2}`))}`);
    }
    if (c.params.algorithm !== undefined) parts.push(`algorithm=${c.params.algorithm}`);
    if (c.params.opaque !== undefined) parts.push(`opaque=${quoted(c.params.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}
