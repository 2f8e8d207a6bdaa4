// Hashing and checking of PINs and device passwords with scrypt, in a self-describing string.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import Type from 'typebox';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

// N=2^15 takes ~50 ms on the reference box: cheap for a login, expensive for a guesser.
const defaults = { N: 32768, r: 8, p: 1 };
const keyLength = 32;

/** "scrypt$N$r$p$salt$hash" with base64 salt and hash. */
export async function hashSecret(secret: string, params = defaults): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, keyLength, { ...params, maxmem: 256 * params.N * params.r });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** False for a wrong secret and for a malformed hash; never throws on bad input. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  try {
    const key = await scrypt(secret, salt, expected.length, { N, r, p, maxmem: 256 * N * r });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

export const secretHashPattern = '^scrypt\\$\\d+\\$\\d+\\$\\d+\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$';

/** Config key holding a hash made by hashSecret; `what` names the secret in error messages. */
export const SecretHash = (what: string) =>
  Type.String({ pattern: secretHashPattern, description: `a scrypt hash of the ${what} (make one with "guardpost hash-pin")` });
