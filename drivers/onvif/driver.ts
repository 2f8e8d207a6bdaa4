// Driver for ONVIF cameras (Profile S): media description, snapshots, PTZ, PullPoint events, liveness and fault handling.
import Type, { type Static } from 'typebox';
import { Pauses, type Timer } from '../../gateway/core/clock.js';
import { fetchImage } from '../camera/http.js';
import { withCredentials } from '../camera/url.js';
import { CommandQueue } from '../commands.js';
import type { CameraMedia, CameraStream, CommandResult, DeviceCommand, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { OnvifClient, OnvifError } from './client.js';
import type { CameraNotification } from './events.js';
import type { MediaProfile } from './soap.js';

export const defaults = { port: 80, poll_s: 30, timeout_ms: 5000 } as const;

export const OnvifConfigSchema = Type.Object(
  {
    host: Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$', description: "the camera's IP address or host name" }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: defaults.port, description: "the camera's ONVIF (HTTP) port (1-65535)" })),
    // The onvif package writes the user name into the SOAP header as is: XML's special characters would break every request.
    username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^<>&"\'\\s]+$', description: 'an ONVIF user of the camera, without spaces or <>&"\' (operator rights; PTZ needs them)' }),
    password: Type.String({ maxLength: 128, description: "that user's password (kept in this file in clear: the camera needs it as is)" }),
    profiles: Type.Optional(
      Type.Object(
        {
          main: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the token of the media profile to record' })),
          sub: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the token of the media profile for live tiles' })),
        },
        { additionalProperties: false, description: "media profile tokens overriding the camera's order (first = main, second = sub)" },
      ),
    ),
    poll_s: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600, default: defaults.poll_s, description: 'seconds between liveness checks of a camera without PullPoint events (5-3600)' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 500, maximum: 60000, default: defaults.timeout_ms, description: 'how long to wait for the camera to answer, in ms (500-60000)' })),
  },
  { additionalProperties: false },
);

export type OnvifConfig = Static<typeof OnvifConfigSchema> & { kind?: DeviceKind };

/** Reconnection after a transient fault: 2 s, doubling, at most a minute. */
const firstRetryMs = 2000;
const maxRetryMs = 60_000;
/** A PullMessages that comes back empty sooner than this waits out the rest: a camera that ignores the Timeout must not spin us. */
const minPullIntervalMs = 1000;
/** Renew when the subscription has less than one pull's wait (1 min) and a margin left. */
const renewBelowMs = 70_000;
const messageLimit = 100;
/** Camera times further than this from ours are not believed (as for other devices). */
const maxClockSkewMs = 24 * 3600 * 1000;

/** A configuration the camera cannot satisfy (a profile token it does not have): not transient. */
class ConfigProblem extends Error {}

/** The camera answered, but no: a SOAP fault or an answer that is not the one asked for. */
function isRefusal(err: unknown): err is OnvifError {
  return err instanceof OnvifError && (err.kind === 'fault' || err.kind === 'garbage');
}

interface Session {
  client: OnvifClient;
  /** Changes on every (re)connection and stop: results of an older session are dropped. */
  generation: number;
  subscribed: boolean;
}

/** One ONVIF camera. Constructors only assign; start/stop are idempotent. */
export class OnvifCamera implements Driver {
  private health_: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private running = false;
  private generation = 0;
  private session: Session | null = null;
  private media: CameraMedia | null = null;
  private snapshotUri: string | null = null;
  private ptzProfile: string | null = null;
  private retry: Timer | null = null;
  private retryMs = firstRetryMs;
  private poll: Timer | null = null;
  private polling = false;
  private readonly pauses: Pauses;
  private readonly ptzQueue = new CommandQueue((cmd) => this.ptz(cmd));
  /** Reasons already handed to ctx.reject: a camera repeats its oddity every pull, once is enough. */

  constructor(
    private readonly config: OnvifConfig,
    private readonly ctx: DriverContext,
  ) {
    this.pauses = new Pauses(ctx.clock);
  }

  private get timeoutMs(): number {
    return this.config.timeout_ms ?? defaults.timeout_ms;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.retryMs = firstRetryMs;
    this.update({ state: 'starting', lastError: null });
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    this.retry?.cancel();
    this.retry = null;
    this.poll?.cancel();
    this.poll = null;
    this.pauses.wakeAll();
    const session = this.session;
    this.session = null;
    if (session) {
      // Best effort: a camera keeps a forgotten subscription until it times out, and some allow only a few.
      if (session.subscribed) await session.client.unsubscribe().catch(() => undefined);
      session.client.close();
    }
    if (this.health_.state !== 'stopped') this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.health_ };
  }

  async command(cmd: DeviceCommand): Promise<CommandResult> {
    try {
      switch (cmd.type) {
        case 'describe':
          return this.media ? { ok: true, data: this.media } : { ok: false, detail: `camera not connected yet${this.health_.lastError ? `: ${this.health_.lastError}` : ''}` };
        case 'snapshot':
          return await this.snapshot();
        case 'ptz.move':
        case 'ptz.stop':
        case 'ptz.presets':
        case 'ptz.goto':
          return await this.ptzQueue.run(cmd);
        default:
          return { ok: false, detail: `unknown command "${cmd.type}"` };
      }
    } catch (err) {
      return { ok: false, detail: `internal error: ${(err as Error).message}` };
    }
  }

  /** One connection attempt: describe the camera, then follow it by PullPoint or by polling. Never throws. */
  private async connect(): Promise<void> {
    this.poll?.cancel();
    this.poll = null;
    this.session?.client.close();
    const generation = ++this.generation;
    const client = new OnvifClient({
      host: this.config.host,
      port: this.config.port ?? defaults.port,
      username: this.config.username,
      password: this.config.password,
      timeoutMs: this.timeoutMs,
    });
    const session: Session = { client, generation, subscribed: false };
    this.session = session;
    try {
      await client.systemDateAndTime();
      const caps = await client.capabilities();
      const info = await client.deviceInformation();
      const profiles = this.choose(await client.profiles());
      const streams: CameraStream[] = [];
      for (const p of profiles) {
        const uri = await client.streamUri(p.token);
        streams.push({ token: p.token, name: p.name, uri: withCredentials(uri, this.config.username, this.config.password), ...p.video });
      }
      const main = profiles[0] as MediaProfile;
      const snapshotUri = await this.optional(client.snapshotUri(main.token));
      const ptzProfile = caps.ptzXAddr ? (profiles.find((p) => p.ptz)?.token ?? null) : null;
      let leftMs: number | undefined;
      if (caps.eventsXAddr && caps.pullPoint) {
        const subscribed = await this.optional(client.subscribe().then((left) => ({ left })));
        session.subscribed = subscribed !== null;
        leftMs = subscribed?.left;
      }
      if (!this.current(generation)) return;
      this.snapshotUri = snapshotUri;
      this.ptzProfile = ptzProfile;
      this.media = { info, streams, snapshot: snapshotUri !== null, ptz: ptzProfile !== null, events: session.subscribed ? 'pullpoint' : 'none' };
      this.retryMs = firstRetryMs;
      this.ctx.log.info({ streams: streams.length, snapshot: this.media.snapshot, ptz: this.media.ptz, events: this.media.events, model: info.model }, 'camera described');
      this.update({ state: 'online', lastSeen: this.ctx.clock.now(), lastError: null });
      if (session.subscribed) void this.pullLoop(session, leftMs);
      else this.startPolling(session);
    } catch (err) {
      if (this.current(generation)) this.failed(err);
    }
  }

  /** A feature the camera may lack: a SOAP fault or an unreadable answer means "not offered"; anything else is the connection's problem. */
  private async optional<T>(request: Promise<T>): Promise<T | null> {
    try {
      return await request;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      if (err.kind === 'garbage') this.reject(err);
      this.ctx.log.info({ why: err.message }, 'camera feature not offered');
      return null;
    }
  }

  /** The profiles to describe: main, sub, then the camera's other video profiles, in its order. */
  private choose(profiles: MediaProfile[]): MediaProfile[] {
    const video = profiles.filter((p) => p.video);
    const known = (): string => profiles.map((p) => p.token).join(', ') || 'none';
    const pick = (token: string, role: string): MediaProfile => {
      const found = profiles.find((p) => p.token === token);
      if (!found) throw new ConfigProblem(`profiles.${role}: the camera has no media profile "${token}" (it has: ${known()})`);
      return found;
    };
    const main = this.config.profiles?.main ? pick(this.config.profiles.main, 'main') : video[0];
    if (!main) throw new ConfigProblem(`the camera has no media profile with video (profiles: ${known()})`);
    const sub = this.config.profiles?.sub ? pick(this.config.profiles.sub, 'sub') : video.find((p) => p !== main);
    return [main, ...(sub ? [sub] : []), ...video.filter((p) => p !== main && p !== sub)];
  }

  private current(generation: number): boolean {
    return this.running && this.generation === generation;
  }

  /** Follows the camera's PullPoint: each answer proves it alive; a failure is handled as any other. */
  private async pullLoop(session: Session, leftMs: number | undefined): Promise<void> {
    const { client, generation } = session;
    let left = leftMs;
    let canRenew = true;
    /** A subscription made again is not trusted until a pull on it worked: twice in a row is a broken pull point. */
    let resubscribed = false;
    while (this.current(generation)) {
      try {
        // Renewed before it could lapse during the next wait; without times from the camera, every time.
        if (canRenew && (left === undefined || left < renewBelowMs)) left = await this.renew(client, () => (canRenew = false));
        const started = this.ctx.clock.now();
        const result = await client.pull(messageLimit);
        if (!this.current(generation)) return;
        resubscribed = false;
        this.seen();
        for (const n of result.notifications) this.emit(n);
        for (const reason of result.problems) this.reject(new OnvifError('garbage', reason, result.raw));
        if (result.leftMs !== undefined) left = result.leftMs;
        const elapsed = this.ctx.clock.now() - started;
        if (result.notifications.length === 0 && elapsed < minPullIntervalMs) await this.pauses.wait(minPullIntervalMs - elapsed);
      } catch (err) {
        if (!this.current(generation)) return;
        if (!isRefusal(err)) {
          this.failed(err);
          return;
        }
        if (err.kind === 'garbage') this.reject(err);
        if (resubscribed) {
          this.eventsBroken(session, err);
          return;
        }
        // The subscription lapsed or the camera lost it (a fault), or it answered nonsense once: a new subscription, same session.
        this.ctx.log.info({ why: err.message }, 'pull point lost, subscribing again');
        try {
          left = await client.subscribe();
          resubscribed = true;
        } catch (again) {
          if (!this.current(generation)) return;
          if (isRefusal(again)) this.eventsBroken(session, again);
          else this.failed(again);
          return;
        }
      }
    }
  }

  /** The camera streams but its pull point does not work: carry on without events, polled for liveness. */
  private eventsBroken(session: Session, err: OnvifError): void {
    this.ctx.log.warn({ why: err.message }, 'camera events do not work; falling back to polling');
    session.subscribed = false;
    if (this.media) this.media = { ...this.media, events: 'none' };
    this.startPolling(session);
  }

  private startPolling(session: Session): void {
    this.poll?.cancel();
    this.poll = this.ctx.clock.setInterval(() => void this.pollOnce(session), (this.config.poll_s ?? defaults.poll_s) * 1000);
  }

  /** Renew; a camera that refuses it (some do not implement Renew) is resubscribed when its subscription lapses instead. */
  private async renew(client: OnvifClient, unsupported: () => void): Promise<number | undefined> {
    try {
      return await client.renew();
    } catch (err) {
      if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
      this.ctx.log.info({ why: err.message }, 'camera does not renew subscriptions; subscribing again when one lapses');
      unsupported();
      return undefined;
    }
  }

  private async pollOnce(session: Session): Promise<void> {
    if (this.polling || !this.current(session.generation)) return;
    this.polling = true;
    try {
      await session.client.systemDateAndTime();
      if (this.current(session.generation)) this.seen();
    } catch (err) {
      if (this.current(session.generation)) this.failed(err);
    } finally {
      this.polling = false;
    }
  }

  /**
   * Wrong credentials and configurations the camera cannot meet fail at once (the registry restarts
   * failed drivers with its own backoff; asking again with a wrong password only fills the camera's
   * lockout counter). Anything else is transient: offline, and reconnect with backoff.
   */
  private failed(err: unknown): void {
    this.poll?.cancel();
    this.poll = null;
    this.pauses.wakeAll();
    const session = this.session;
    this.session = null;
    this.generation++;
    session?.client.close();
    if (err instanceof ConfigProblem) {
      this.update({ state: 'failed', lastError: err.message });
      return;
    }
    if (!(err instanceof OnvifError)) {
      this.ctx.log.error({ err }, 'camera driver error');
      this.update({ state: 'failed', lastError: `internal error: ${(err as Error).message}` });
      return;
    }
    switch (err.kind) {
      case 'auth':
        this.update({ state: 'failed', lastError: `wrong credentials: the camera refused user "${this.config.username}" (${err.message})` });
        return;
      case 'fault':
        this.update({ state: 'failed', lastError: `the camera refused a required request: ${err.message}` });
        return;
      case 'garbage':
        this.reject(err);
        this.update({ state: 'offline', lastError: `not an ONVIF answer: ${err.message}` });
        break;
      case 'unreachable':
        this.update({ state: 'offline', lastError: err.message });
        break;
    }
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, maxRetryMs);
    this.retry?.cancel();
    this.retry = this.ctx.clock.setTimeout(() => {
      this.retry = null;
      if (this.running) void this.connect();
    }, delay);
  }

  private seen(): void {
    const now = this.ctx.clock.now();
    this.health_.lastSeen = now;
    this.ctx.report({ lastSeen: now });
  }

  private emit(n: CameraNotification): void {
    const now = this.ctx.clock.now();
    this.ctx.emit({
      type: 'camera.event',
      deviceId: this.ctx.deviceId,
      at: n.at !== undefined && Math.abs(n.at - now) <= maxClockSkewMs ? n.at : now,
      topic: n.topic,
      ...(n.source ? { source: n.source } : {}),
      data: n.data,
    });
  }

  /** Every one is counted; the gateway's rejection log writes each reason once, with its dump. */
  private reject(err: OnvifError): void {
    this.ctx.reject(err.message, err.raw ?? '');
  }

  private async snapshot(): Promise<CommandResult> {
    if (!this.media) return { ok: false, detail: `camera not connected yet${this.health_.lastError ? `: ${this.health_.lastError}` : ''}` };
    if (!this.snapshotUri) return { ok: false, detail: 'the camera offers no snapshot URI: grab a frame from the stream instead' };
    if (this.health_.state !== 'online') return { ok: false, detail: `camera ${this.health_.state}: ${this.health_.lastError ?? ''}`.trim() };
    try {
      const { body } = await fetchImage(this.snapshotUri, { username: this.config.username, password: this.config.password, timeoutMs: this.timeoutMs });
      return { ok: true, data: body };
    } catch (err) {
      return { ok: false, detail: `snapshot failed: ${(err as Error).message}` };
    }
  }

  private async ptz(cmd: DeviceCommand): Promise<CommandResult> {
    if (!this.media) return { ok: false, detail: `camera not connected yet${this.health_.lastError ? `: ${this.health_.lastError}` : ''}` };
    const profile = this.ptzProfile;
    if (!profile) return { ok: false, detail: 'this camera has no PTZ (no PTZ service, or no media profile with a PTZ configuration)' };
    const client = this.session?.client;
    if (!client || this.health_.state !== 'online') return { ok: false, detail: `camera ${this.health_.state}: ${this.health_.lastError ?? ''}`.trim() };
    const params = cmd.params ?? {};
    try {
      switch (cmd.type) {
        case 'ptz.move': {
          const speed = (key: string): number | string => {
            const v = params[key] ?? 0;
            return typeof v === 'number' && Number.isFinite(v) && v >= -1 && v <= 1 ? v : `${key} must be a number from -1 to 1, got ${JSON.stringify(v)}`;
          };
          const [pan, tilt, zoom] = [speed('pan'), speed('tilt'), speed('zoom')];
          const bad = [pan, tilt, zoom].find((v) => typeof v === 'string');
          if (bad !== undefined) return { ok: false, detail: String(bad) };
          const timeout = params.timeout_ms;
          if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 100 || timeout > 60_000)) {
            return { ok: false, detail: `timeout_ms must be whole milliseconds from 100 to 60000, got ${JSON.stringify(timeout)}` };
          }
          await client.continuousMove(profile, pan as number, tilt as number, zoom as number, timeout);
          return { ok: true };
        }
        case 'ptz.stop':
          await client.stopMove(profile);
          return { ok: true };
        case 'ptz.presets':
          return { ok: true, data: await client.presets(profile) };
        case 'ptz.goto': {
          const preset = params.preset;
          if ((typeof preset !== 'string' || preset.length === 0) && typeof preset !== 'number') return { ok: false, detail: 'ptz.goto needs {preset: <preset token>}' };
          await client.gotoPreset(profile, String(preset));
          return { ok: true };
        }
        default:
          return { ok: false, detail: `unknown command "${cmd.type}"` };
      }
    } catch (err) {
      if (err instanceof OnvifError && err.kind === 'auth') this.failed(err);
      return { ok: false, detail: `${cmd.type} failed: ${(err as Error).message}` };
    }
  }

  /** Keep the health and hand the change to the registry, which logs each change of state once. */
  private update(change: Partial<DeviceHealth>): void {
    this.health_ = { ...this.health_, ...change };
    this.ctx.report(change);
  }
}

export const onvifDriver: DriverDefinition<OnvifConfig> = {
  type: 'onvif',
  kinds: ['camera'],
  configSchema: OnvifConfigSchema,
  capabilities: ['commands', 'events'],
  create: (config, ctx) => new OnvifCamera(config, ctx),
};
