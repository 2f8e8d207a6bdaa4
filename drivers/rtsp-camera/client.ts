// One RTSP DESCRIBE over TCP, answering a 401 challenge on the same connection: the liveness probe of an RTSP camera.
import { connect, type Socket } from 'node:net';
import { AuthSession, chooseChallenge, parseChallenges } from '../camera/digest.js';
import { credentialsOf, withoutCredentials } from '../camera/url.js';
import { buildRtspRequest, headerOf, headersOf, parseRtspResponse, parseSdp, type RtspResponse, type Sdp } from './rtsp.js';

export type DescribeResult =
  | { kind: 'ok'; sdp?: Sdp; sdpError?: string; raw: Buffer }
  | { kind: 'auth'; detail: string }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'status'; status: number; detail: string }
  /** `reason` is the same for every answer of one kind (for counting), `detail` names the URL too. */
  | { kind: 'garbage'; reason: string; detail: string; raw: Buffer };

export interface DescribeOptions {
  /** Credentials; when absent, those in the URL (if any). */
  username?: string;
  password?: string;
  /** For the whole exchange: connect, challenge and answer. */
  timeoutMs: number;
}

const userAgent = 'guardpost';

class ExchangeError extends Error {
  constructor(
    readonly result: DescribeResult,
  ) {
    super(result.kind);
  }
}

function garbage(shown: string, reason: string, raw: Buffer): ExchangeError {
  return new ExchangeError({ kind: 'garbage', reason, detail: `${shown}: ${reason}`, raw: Buffer.from(raw) });
}

/**
 * DESCRIBE `uri` (rtsp://): an answer of any kind proves the camera is there; 200 also proves the
 * stream exists and the credentials work, and brings the SDP. Never throws.
 */
export async function describeStream(uri: string, opts: DescribeOptions): Promise<DescribeResult> {
  const fromUrl = credentialsOf(uri);
  const username = opts.username ?? fromUrl.username;
  const password = opts.password ?? fromUrl.password ?? '';
  const clean = withoutCredentials(uri);
  let url: URL;
  try {
    url = new URL(clean);
  } catch {
    return { kind: 'unreachable', detail: `not a URL: ${clean}` };
  }
  if (url.protocol !== 'rtsp:') return { kind: 'unreachable', detail: `not an rtsp:// URL: ${clean}` };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 554;
  const conn = new RtspConnection(host, port, opts.timeoutMs, clean);
  try {
    await conn.open();
    const headers = { Accept: 'application/sdp', 'User-Agent': userAgent };
    let res = await conn.request('DESCRIBE', clean, headers);
    if (res.response.status === 401) {
      const offered = headersOf(res.response, 'www-authenticate');
      if (!username) return { kind: 'auth', detail: `${clean} asks for credentials and none are configured` };
      const challenge = chooseChallenge(parseChallenges(offered));
      if (!challenge) return { kind: 'auth', detail: `${clean} asks for an authentication scheme we do not speak: ${offered.join(' | ') || 'none given'}` };
      const session = new AuthSession(challenge, username, password);
      res = await conn.request('DESCRIBE', clean, { ...headers, Authorization: session.authorization('DESCRIBE', clean) });
      if (res.response.status === 401) return { kind: 'auth', detail: `${clean} refused the credentials (RTSP 401 after ${challenge.scheme === 'basic' ? 'Basic' : 'Digest'} authentication)` };
    }
    const { response, raw } = res;
    if (response.status !== 200) return { kind: 'status', status: response.status, detail: `${clean} answered RTSP ${response.status} ${response.reason}`.trim() };
    const type = headerOf(response, 'content-type') ?? '';
    if (!/^application\/sdp/i.test(type)) return { kind: 'ok', sdpError: `DESCRIBE answered ${type || 'no Content-Type'}, not application/sdp`, raw };
    const parsed = parseSdp(response.body.toString('utf8'));
    return parsed.ok ? { kind: 'ok', sdp: parsed.sdp, raw } : { kind: 'ok', sdpError: parsed.reason, raw };
  } catch (err) {
    if (err instanceof ExchangeError) return err.result;
    return { kind: 'unreachable', detail: `${clean}: ${(err as Error).message}` };
  } finally {
    conn.close();
  }
}

/** A TCP connection carrying requests one at a time, each answered before the next is sent. */
class RtspConnection {
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private cseq = 0;
  private waiting: { resolve(r: { response: RtspResponse; raw: Buffer }): void; reject(e: Error): void } | null = null;
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Rejects open() when the connection fails before it is established. */
  private onFailure: ((e: Error) => void) | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
    private readonly shown: string,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      this.socket = socket;
      socket.setNoDelay(true);
      // An I/O deadline on a real timer, not the driver's clock: a test's manual clock must not stall a socket.
      this.timer = setTimeout(() => this.fail(new ExchangeError({ kind: 'unreachable', detail: `${this.shown}: no answer within ${this.timeoutMs} ms` })), this.timeoutMs);
      socket.once('connect', () => resolve());
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const e = new ExchangeError({ kind: 'unreachable', detail: `${this.shown}: ${err.code ?? err.message}` });
        this.fail(e);
        reject(e);
      });
      socket.once('close', () => this.fail(new ExchangeError({ kind: 'unreachable', detail: `${this.shown}: connection closed before an answer` })));
      this.onFailure = reject;
    });
  }

  request(method: string, url: string, headers: Record<string, string>): Promise<{ response: RtspResponse; raw: Buffer }> {
    if (this.failure) return Promise.reject(this.failure);
    this.cseq += 1;
    const cseq = this.cseq;
    return new Promise((resolve, reject) => {
      this.waiting = {
        resolve: (r) => {
          const answered = headerOf(r.response, 'cseq');
          if (answered !== undefined && answered.trim() !== String(cseq)) reject(garbage(this.shown, 'answer to another CSeq than asked', r.raw));
          else resolve(r);
        },
        reject,
      };
      this.socket?.write(buildRtspRequest(method, url, cseq, headers));
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.failure ??= new Error('closed');
    this.socket?.destroy();
    this.socket = null;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const parsed = parseRtspResponse(this.buffer);
    if (parsed.kind === 'incomplete') return;
    if (parsed.kind === 'error') {
      this.fail(garbage(this.shown, parsed.reason, this.buffer));
      return;
    }
    const raw = this.buffer.subarray(0, this.buffer.length - parsed.rest.length);
    this.buffer = parsed.rest;
    const waiting = this.waiting;
    this.waiting = null;
    // An answer nobody asked for (or a server's own request): not what an RTSP camera does to a fresh client.
    if (!waiting) this.fail(garbage(this.shown, 'unsolicited answer', raw));
    else waiting.resolve({ response: parsed.response, raw: Buffer.from(raw) });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(err);
    this.onFailure?.(err);
    this.socket?.destroy();
  }
}
