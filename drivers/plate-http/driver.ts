// Driver for plate cameras that push each recognition over HTTP (generic JSON, Hikvision ISAPI, Dahua ITSAPI).
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import Type, { type Static } from 'typebox';
import type { Timer } from '../../gateway/core/clock.js';
import { SecretHash, verifySecret } from '../../gateway/core/secret.js';
import type { DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { parsePlatePush, plateErrorReasons, platePushFormats, type PlatePushFormat } from './parse.js';
import { attachRoute } from './server.js';

export const defaultListenHost = '0.0.0.0';
export const defaultPath = '/plate';
export const defaultSilentAfterS = 600;
export const defaultMaxBodyBytes = 2 * 1024 * 1024;

const BasicAuthSchema = Type.Object(
  {
    kind: Type.Literal('basic'),
    username: Type.String({ minLength: 1, maxLength: 64, description: 'the user name the camera sends' }),
    password_hash: SecretHash('camera push password'),
  },
  { additionalProperties: false },
);

const TokenAuthSchema = Type.Object(
  {
    kind: Type.Literal('token'),
    token_hash: SecretHash('camera push token'),
  },
  { additionalProperties: false },
);

/**
 * Chosen by `kind` with if/then rather than anyOf, as config/schema.ts does for devices: a mistake in
 * a basic block is then reported against the basic keys only, not drowned in the token branch's complaints.
 */
const PushAuthSchema = Type.Unsafe<Static<typeof BasicAuthSchema> | Static<typeof TokenAuthSchema>>({
  type: 'object',
  required: ['kind'],
  properties: { kind: { enum: ['basic', 'token'], description: 'basic or token' } },
  allOf: [
    { if: { properties: { kind: { const: 'basic' } }, required: ['kind'] }, then: BasicAuthSchema },
    { if: { properties: { kind: { const: 'token' } }, required: ['kind'] }, then: TokenAuthSchema },
  ],
  description: 'how the camera proves itself: {kind: basic, username, password_hash} or {kind: token, token_hash}',
});

export const PlateHttpConfigSchema = Type.Object({
  format: Type.Unsafe<PlatePushFormat>({ enum: [...platePushFormats], description: 'what the camera pushes: generic, hikvision or dahua' }),
  listen_host: Type.Optional(Type.String({ minLength: 1, default: defaultListenHost, description: 'the address to listen on for pushes (0.0.0.0 for cameras on the LAN)' })),
  listen_port: Type.Integer({ minimum: 1, maximum: 65535, description: 'the TCP port cameras push to (1-65535); cameras on one port are told apart by path' }),
  path: Type.Optional(Type.String({ pattern: '^/[A-Za-z0-9._~/-]*$', maxLength: 128, default: defaultPath, description: 'the URL path this camera pushes to, e.g. /plate/gate1' })),
  auth: PushAuthSchema,
  snapshot_dir: Type.Optional(Type.String({ minLength: 1, description: 'a directory to keep the pictures in' })),
  silent_after_s: Type.Optional(Type.Integer({ minimum: 10, maximum: 604800, default: defaultSilentAfterS, description: 'seconds without a push before the camera shows offline (10-604800)' })),
  max_body_bytes: Type.Optional(Type.Integer({ minimum: 65536, maximum: 33554432, default: defaultMaxBodyBytes, description: 'the largest push accepted, in bytes (65536-33554432)' })),
});

export type PlateHttpConfig = Static<typeof PlateHttpConfigSchema> & { kind: DeviceKind };

/** A successful check is reused this long, so a camera pushing every few seconds costs one scrypt per window. */
const authCacheOkMs = 5 * 60_000;
/** A failed check is remembered briefly: a camera with a stale password must not burn a core on scrypt. */
const authCacheFailMs = 30_000;
const authCacheMax = 32;
/** Device times further than this from ours are not believed (same rule as the MQTT devices). */
const maxClockSkewMs = 24 * 3600 * 1000;
/** An oversize or unauthorised body is read and dropped up to this much, so the camera gets its answer; beyond it the connection is cut. */
const drainLimitBytes = 8 * 1024 * 1024;

/** "10 min", "90 s", "2 h": how long a camera has been silent, for lastError. */
export function describeSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** The plate as a file-name part: letters (Chinese included), digits and dashes; anything else becomes "_". */
export function safeFilePart(plate: string): string {
  const safe = [...plate.normalize('NFC')].map((c) => (/^[\p{L}\p{N}-]$/u.test(c) ? c : '_')).join('');
  return safe.slice(0, 32) || 'plate';
}

const digest = (text: string) => createHash('sha256').update(text).digest();

type AuthOutcome = 'ok' | 'missing' | 'bad';

interface CachedCheck {
  result: Promise<boolean>;
  until: number;
}

/** One camera pushing to one path. Constructors only assign; start/stop are idempotent. */
export class PlateHttpDevice implements Driver {
  private state: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private detach: (() => Promise<void>) | null = null;
  private starting: Promise<void> | null = null;
  private silence: Timer | null = null;
  private readonly authCache = new Map<string, CachedCheck>();

  constructor(
    private readonly config: PlateHttpConfig,
    private readonly ctx: DriverContext,
  ) {}

  private get path(): string {
    const p = this.config.path ?? defaultPath;
    return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  }

  async start(): Promise<void> {
    if (this.detach) return;
    if (this.starting) return this.starting;
    this.starting = (async () => {
      this.update({ state: 'starting' });
      const host = this.config.listen_host ?? defaultListenHost;
      this.detach = await attachRoute(host, this.config.listen_port, this.path, (req, res, url, rest) => void this.onRequest(req, res, url, rest), this.ctx.log);
      // Online once listening: a camera cannot be polled, so "online" means "ready, and not yet
      // silent for longer than silent_after_s"; the silence clock starts now, as after a push.
      this.update({ state: 'online', lastError: null });
      this.armSilence();
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    this.silence?.cancel();
    this.silence = null;
    const detach = this.detach;
    this.detach = null;
    this.authCache.clear();
    if (detach) await detach();
    this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.state };
  }

  private armSilence(): void {
    this.silence?.cancel();
    const seconds = this.config.silent_after_s ?? defaultSilentAfterS;
    this.silence = this.ctx.clock.setTimeout(() => {
      this.silence = null;
      if (this.detach) this.update({ state: 'offline', lastError: `no push for ${describeSeconds(seconds)}` });
    }, seconds * 1000);
  }

  /** The camera was heard from: online again, and the silence clock restarts. */
  private alive(lastError: string | null): void {
    if (!this.detach) return; // a push that finished after stop() says nothing about a stopped device
    this.armSilence();
    this.update({ state: 'online', lastSeen: this.ctx.clock.now(), lastError });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse, url: URL, rest: string): Promise<void> {
    try {
      await this.handle(req, res, url, rest);
    } catch (err) {
      this.ctx.log.error({ err }, 'plate push handling failed');
      if (!res.headersSent) this.reply(res, 500, 'internal error');
      else res.destroy();
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse, url: URL, rest: string): Promise<void> {
    const source = `${req.socket.remoteAddress ?? '?'} ${req.method ?? '?'} ${url.pathname}`;
    if (req.method !== 'POST' && req.method !== 'PUT') {
      await drain(req);
      res.setHeader('allow', 'POST, PUT');
      this.reply(res, 405, 'use POST');
      return;
    }
    const auth = await this.authenticate(req, url);
    if (auth !== 'ok') {
      await drain(req);
      res.setHeader('www-authenticate', 'Basic realm="guardpost", charset="UTF-8"');
      // A request without credentials is the first leg of HTTP authentication (RFC 7235): cameras
      // that wait for the challenge send one before every push, so it is not counted.
      if (auth === 'bad') this.ctx.reject('bad credentials', source);
      else this.ctx.log.debug({ source }, 'plate push without credentials, challenged');
      this.reply(res, 401, 'authentication required');
      return;
    }
    const limit = this.config.max_body_bytes ?? defaultMaxBodyBytes;
    const body = await readBody(req, limit);
    if (!this.detach) {
      // Stopped while the body arrived: the camera retries (Dahua) or the push is lost either way.
      this.reply(res, 503, 'device stopped', { close: true });
      return;
    }
    if (body === 'too-large') {
      this.ctx.reject(`body over the ${limit} byte limit`, source);
      this.reply(res, 413, `body over ${limit} bytes`, { close: true });
      return;
    }
    if (body === 'aborted') return;

    const sub = rest.replace(/^\/+|\/+$/g, '').toLowerCase();
    if (sub !== '') {
      // Dahua's ITSAPI heartbeat (and device-info) interfaces: point them at <path>/keepalive.
      if (sub === 'keepalive' || sub === 'deviceinfo') {
        this.alive(null);
        this.replyOk(res);
      } else {
        this.reply(res, 404, 'no such interface');
      }
      return;
    }

    const result = parsePlatePush(this.config.format, body, req.headers['content-type']);
    if (result.kind === 'error') {
      const detail = `${result.code}: ${result.message}`;
      this.ctx.log.debug({ source, detail }, 'plate push not understood');
      this.ctx.reject(`${result.code}: ${plateErrorReasons[result.code]}`, body);
      this.alive(`last push not understood: ${detail}`);
      // The detail goes back to the camera too: it is what an installer reads in the camera's upload log.
      this.reply(res, 400, detail);
      return;
    }
    if (result.kind === 'none') {
      this.ctx.log.debug({ why: result.why, detail: result.detail }, 'plate push without a plate');
      this.alive(null);
      this.replyOk(res);
      return;
    }
    const now = this.ctx.clock.now();
    const at = result.at !== undefined && Math.abs(result.at - now) <= maxClockSkewMs ? result.at : now;
    for (const note of result.notes) this.ctx.log.warn({ note }, 'plate push picture left out');
    const snapshot = result.picture && this.config.snapshot_dir ? await this.keepPicture(result.picture, at, result.plate) : undefined;
    // emit returns once the gateway recorded the event, so the camera's 200 means "stored".
    this.ctx.emit({
      type: 'plate',
      deviceId: this.ctx.deviceId,
      at,
      plate: result.plate,
      ...(result.confidence !== undefined ? { confidence: result.confidence } : {}),
      ...(snapshot ? { snapshot } : {}),
    });
    this.alive(null);
    this.replyOk(res);
  }

  /** Writes snapshot_dir/<deviceId>/<YYYY-MM-DD>/<epoch>-<plate>.jpg and returns the path relative to snapshot_dir. */
  private async keepPicture(picture: Buffer, at: number, plate: string): Promise<string | undefined> {
    const root = this.config.snapshot_dir as string;
    // UTC dates, as the recordings use: one rule for every file the gateway keeps.
    const day = new Date(at).toISOString().slice(0, 10);
    const dir = join(root, this.ctx.deviceId, day);
    try {
      await mkdir(dir, { recursive: true });
      const base = `${at}-${safeFilePart(plate)}`;
      for (let n = 0; n < 10; n++) {
        const name = n === 0 ? `${base}.jpg` : `${base}-${n}.jpg`;
        try {
          // 'wx': two reads of one plate in the same millisecond never overwrite each other.
          await writeFile(join(dir, name), picture, { flag: 'wx' });
          return `${this.ctx.deviceId}/${day}/${name}`;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      throw new Error('too many pictures with one name');
    } catch (err) {
      // The plate matters more than its picture: the event goes out without one.
      this.ctx.log.warn({ err, dir }, 'could not keep the plate picture');
      return undefined;
    }
  }

  private async authenticate(req: IncomingMessage, url: URL): Promise<AuthOutcome> {
    const auth = this.config.auth;
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    let user: string | null = null;
    let secret: string | null = null;
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'bad';
      user = decoded.slice(0, colon);
      secret = decoded.slice(colon + 1);
    } else if (scheme === 'bearer' && value && auth.kind === 'token') {
      secret = value;
    } else if (auth.kind === 'token' && url.searchParams.has('token')) {
      // Most cameras take only a URL for the push target: the token rides in it.
      secret = url.searchParams.get('token');
    } else if (header) {
      return 'bad';
    }
    if (secret === null || secret === '') return header || url.searchParams.has('token') ? 'bad' : 'missing';
    if (auth.kind === 'basic') {
      // Compared as digests: equal length for timingSafeEqual, and no early exit on the first differing byte.
      if (user === null || !timingSafeEqual(digest(user), digest(auth.username))) return 'bad';
      return (await this.verifyCached(`basic\0${user}\0${secret}`, secret, auth.password_hash)) ? 'ok' : 'bad';
    }
    // A token device also takes the token as a Basic password, whatever the user name: some camera UIs offer nothing else.
    return (await this.verifyCached(`token\0${secret}`, secret, auth.token_hash)) ? 'ok' : 'bad';
  }

  private verifyCached(credential: string, secret: string, hash: string): Promise<boolean> {
    const key = digest(credential).toString('base64');
    const now = this.ctx.clock.now();
    const hit = this.authCache.get(key);
    if (hit && hit.until > now) return hit.result;
    if (this.authCache.size >= authCacheMax) {
      for (const [k, v] of this.authCache) if (v.until <= now) this.authCache.delete(k);
      if (this.authCache.size >= authCacheMax) this.authCache.delete(this.authCache.keys().next().value as string);
    }
    // The promise is cached at once, so pushes arriving during one scrypt share it.
    const entry: CachedCheck = { result: verifySecret(secret, hash), until: now + authCacheOkMs };
    this.authCache.set(key, entry);
    void entry.result.then((ok) => {
      if (!ok) entry.until = this.ctx.clock.now() + authCacheFailMs;
    });
    return entry.result;
  }

  /** The answer each family expects for a push it may forget: Dahua resends until it reads Result true. */
  private replyOk(res: ServerResponse): void {
    switch (this.config.format) {
      case 'hikvision':
        send(res, 200, 'application/xml; charset=UTF-8', responseStatusXml(1, 'OK'));
        return;
      case 'dahua':
        send(res, 200, 'application/json; charset=UTF-8', JSON.stringify({ Result: true }));
        return;
      case 'generic':
        send(res, 200, 'application/json; charset=UTF-8', JSON.stringify({ ok: true }));
        return;
    }
  }

  private reply(res: ServerResponse, status: number, message: string, opts: { close?: boolean } = {}): void {
    if (opts.close) res.setHeader('connection', 'close');
    switch (this.config.format) {
      case 'hikvision':
        send(res, status, 'application/xml; charset=UTF-8', responseStatusXml(status === 401 ? 4 : 6, message));
        return;
      case 'dahua':
        send(res, status, 'application/json; charset=UTF-8', JSON.stringify({ Result: false, Message: message }));
        return;
      case 'generic':
        send(res, status, 'application/json; charset=UTF-8', JSON.stringify({ ok: false, error: message }));
        return;
    }
  }

  private update(change: Partial<DeviceHealth>): void {
    this.state = { ...this.state, ...change };
    this.ctx.report(change);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** ISAPI's ResponseStatus (statusCode 1 = OK, 4 = Invalid Operation, 6 = Invalid Content). */
function responseStatusXml(code: number, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ResponseStatus version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><statusCode>${code}</statusCode><statusString>${escapeXml(message)}</statusString><subStatusCode>${code === 1 ? 'ok' : 'badParameters'}</subStatusCode></ResponseStatus>\n`;
}

/** Reads the body up to `limit`; past it the rest is read and dropped (up to drainLimitBytes) so the camera sees the 413. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  // Declared far too large: answer at once; the connection closes after the answer, unread.
  if (Number.isFinite(declared) && declared > drainLimitBytes) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > drainLimitBytes) {
        req.destroy();
        return;
      }
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.once('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.once('error', () => resolve('aborted'));
    req.once('close', () => {
      if (!req.complete) resolve(over ? 'too-large' : 'aborted');
    });
  });
}

/** Reads and drops a body we answer without looking at, bounded like readBody. */
async function drain(req: IncomingMessage): Promise<void> {
  await readBody(req, 0);
}

export const plateHttpDriver: DriverDefinition<PlateHttpConfig> = {
  type: 'plate-http',
  kinds: ['plate-camera'],
  configSchema: PlateHttpConfigSchema,
  capabilities: ['events'],
  create: (config, ctx) => new PlateHttpDevice(config, ctx),
};

