// One HTTP GET of a camera picture (ONVIF snapshot URI, configured snapshot_url), authenticated as the camera asks.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AuthSession, chooseChallenge, parseChallenges } from './digest.js';
import { credentialsOf, withoutCredentials } from './url.js';

export type CameraHttpFailure = 'auth' | 'unreachable' | 'timeout' | 'status' | 'not-image' | 'too-large';

/** Why a picture could not be fetched; the message names the URL without its credentials. */
export class CameraHttpError extends Error {
  constructor(
    readonly kind: CameraHttpFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CameraHttpError';
  }
}

export interface FetchImageOptions {
  /** Credentials; when absent, those in the URL (if any) are used. */
  username?: string;
  password?: string;
  /** For the whole exchange, challenge and answer included. */
  timeoutMs: number;
  maxBytes?: number;
}

const defaultMaxBytes = 8 * 1024 * 1024;

interface Answer {
  res: IncomingMessage;
  body: Buffer;
}

/**
 * GETs an image: first without credentials, then answering the camera's 401 challenge (Digest
 * preferred over Basic). Credentials are never sent unasked, so Basic never goes out to a camera
 * that did not ask for it. Resolves with the bytes and their Content-Type, which must be image/*.
 */
export async function fetchImage(uri: string, opts: FetchImageOptions): Promise<{ body: Buffer; contentType: string }> {
  const fromUrl = credentialsOf(uri);
  const username = opts.username ?? fromUrl.username;
  const password = opts.password ?? fromUrl.password ?? '';
  const clean = withoutCredentials(uri);
  let url: URL;
  try {
    url = new URL(clean);
  } catch {
    throw new CameraHttpError('unreachable', `not a URL: ${clean}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CameraHttpError('unreachable', `not an http(s) URL: ${clean}`);
  const maxBytes = opts.maxBytes ?? defaultMaxBytes;
  const deadline = Date.now() + opts.timeoutMs;
  const target = `${url.pathname}${url.search}`;

  let answer = await get(url, undefined, deadline, maxBytes, clean);
  if (answer.res.statusCode === 401) {
    const challenge = chooseChallenge(parseChallenges(headerValues(answer.res, 'www-authenticate')));
    if (!username) throw new CameraHttpError('auth', `${clean} asks for credentials and none are configured`);
    if (!challenge) throw new CameraHttpError('auth', `${clean} asks for an authentication scheme we do not speak: ${headerValues(answer.res, 'www-authenticate').join(' | ') || 'none given'}`);
    const session = new AuthSession(challenge, username, password);
    answer = await get(url, session.authorization('GET', target), deadline, maxBytes, clean);
    if (answer.res.statusCode === 401) throw new CameraHttpError('auth', `${clean} refused the credentials (HTTP 401 after ${challenge.scheme === 'basic' ? 'Basic' : 'Digest'} authentication)`);
  }
  const status = answer.res.statusCode ?? 0;
  if (status !== 200) throw new CameraHttpError('status', `${clean} answered HTTP ${status} ${answer.res.statusMessage ?? ''}`.trim());
  const contentType = String(answer.res.headers['content-type'] ?? '');
  if (!/^image\//i.test(contentType.trim())) throw new CameraHttpError('not-image', `${clean} answered ${contentType || 'no Content-Type'}, not an image`);
  return { body: answer.body, contentType };
}

function headerValues(res: IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) if ((res.rawHeaders[i] as string).toLowerCase() === name) out.push(res.rawHeaders[i + 1] as string);
  return out;
}

function get(url: URL, authorization: string | undefined, deadline: number, maxBytes: number, shown: string): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reject(new CameraHttpError('timeout', `${shown}: no answer within the timeout`));
      return;
    }
    const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = requester(url, {
      method: 'GET',
      headers: { accept: 'image/jpeg, image/*', ...(authorization ? { authorization } : {}) },
      // A camera on the LAN with a self-made certificate is the rule, not the exception.
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    // An I/O deadline on a real timer, not the driver's clock: a test's manual clock must not stall a socket.
    const timer = setTimeout(() => {
      req.destroy(new CameraHttpError('timeout', `${shown}: no answer within the timeout`));
    }, remaining);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err instanceof CameraHttpError ? err : new CameraHttpError('unreachable', `${shown}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    };
    req.once('error', fail);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy(new CameraHttpError('too-large', `${shown}: picture over ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.once('error', fail);
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ res, body: Buffer.concat(chunks) });
      });
    });
    req.end();
  });
}
