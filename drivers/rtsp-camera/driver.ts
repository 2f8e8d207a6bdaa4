// Driver for cameras without ONVIF, configured by their RTSP URLs: liveness by DESCRIBE, snapshots by HTTP.
import Type, { type Static } from 'typebox';
import type { Timer } from '../../gateway/core/clock.js';
import { fetchImage } from '../camera/http.js';
import { withCredentials } from '../camera/url.js';
import type { CameraMedia, CameraStream, CommandResult, DeviceCommand, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { describeStream, type DescribeResult } from './client.js';
import { videoInfo, type VideoInfo } from './rtsp.js';

export const defaultPollS = 30;
export const defaultTimeoutMs = 5000;

export const RtspCameraConfigSchema = Type.Object(
  {
    main_url: Type.String({ pattern: '^rtsp://[^\\s]+$', description: 'the main stream, rtsp://host[:port]/path (credentials may be in it, or in username/password)' }),
    sub_url: Type.Optional(Type.String({ pattern: '^rtsp://[^\\s]+$', description: 'the sub-stream for live tiles, rtsp://host[:port]/path' })),
    snapshot_url: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'an http(s) URL answering one JPEG picture' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'the camera user name, put into the URLs' })),
    password: Type.Optional(Type.String({ maxLength: 128, description: 'the camera password (kept in this file in clear: the camera needs it as is)' })),
    poll_s: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600, default: defaultPollS, description: 'seconds between liveness checks (5-3600)' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 500, maximum: 60000, default: defaultTimeoutMs, description: 'how long to wait for the camera to answer, in ms (500-60000)' })),
  },
  { additionalProperties: false },
);

export type RtspCameraConfig = Static<typeof RtspCameraConfigSchema> & { kind?: DeviceKind };

/** A camera known only by its URLs. Constructors only assign; start/stop are idempotent. */
export class RtspCamera implements Driver {
  private health_: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private running = false;
  private poll: Timer | null = null;
  private probing: Promise<void> | null = null;
  private main: VideoInfo = {};
  private sub: VideoInfo = {};
  /** Reasons already handed to ctx.reject: a camera repeats its oddity every poll, once is enough. */

  constructor(
    private readonly config: RtspCameraConfig,
    private readonly ctx: DriverContext,
  ) {}

  private get timeoutMs(): number {
    return this.config.timeout_ms ?? defaultTimeoutMs;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.update({ state: 'starting', lastError: null });
    await this.probe();
    if (!this.running || this.health_.state === 'failed') return;
    this.poll = this.ctx.clock.setInterval(() => void this.probe(), (this.config.poll_s ?? defaultPollS) * 1000);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poll?.cancel();
    this.poll = null;
    // A probe in flight ends by itself within timeout_ms; its result is then ignored.
    await this.probing;
    if (this.health_.state !== 'stopped') this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.health_ };
  }

  async command(cmd: DeviceCommand): Promise<CommandResult> {
    try {
      switch (cmd.type) {
        case 'describe':
          return { ok: true, data: this.media() };
        case 'snapshot':
          return await this.snapshot();
        case 'ptz.move':
        case 'ptz.stop':
        case 'ptz.presets':
        case 'ptz.goto':
          return { ok: false, detail: 'this camera has no PTZ control: a camera configured by RTSP URL offers streams only (use the onvif driver for PTZ)' };
        default:
          return { ok: false, detail: `unknown command "${cmd.type}"` };
      }
    } catch (err) {
      return { ok: false, detail: `internal error: ${(err as Error).message}` };
    }
  }

  private media(): CameraMedia {
    const { username, password } = this.config;
    const stream = (token: 'main' | 'sub', url: string, info: VideoInfo): CameraStream => ({
      token,
      name: token,
      uri: withCredentials(url, username, password),
      ...info,
    });
    const streams = [stream('main', this.config.main_url, this.main)];
    if (this.config.sub_url) streams.push(stream('sub', this.config.sub_url, this.sub));
    return { info: {}, streams, snapshot: this.config.snapshot_url !== undefined, ptz: false, events: 'none' };
  }

  private async snapshot(): Promise<CommandResult> {
    if (!this.config.snapshot_url) return { ok: false, detail: 'no snapshot_url configured: grab a frame from the stream instead' };
    try {
      const { body } = await fetchImage(this.config.snapshot_url, {
        ...(this.config.username !== undefined ? { username: this.config.username, password: this.config.password ?? '' } : {}),
        timeoutMs: this.timeoutMs,
      });
      return { ok: true, data: body };
    } catch (err) {
      return { ok: false, detail: `snapshot failed: ${(err as Error).message}` };
    }
  }

  private probe(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.probing ??= this.describe().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  private credentials(): { username?: string; password?: string } {
    return this.config.username !== undefined ? { username: this.config.username, password: this.config.password ?? '' } : {};
  }

  private async describe(): Promise<void> {
    const result = await describeStream(this.config.main_url, { ...this.credentials(), timeoutMs: this.timeoutMs });
    if (!this.running) return;
    const wasOnline = this.health_.state === 'online';
    this.apply(result);
    if (result.kind === 'ok' && !wasOnline && this.config.sub_url) {
      // The sub-stream's codec and size, learnt once per return to online; its failures say nothing of liveness.
      const sub = await describeStream(this.config.sub_url, { ...this.credentials(), timeoutMs: this.timeoutMs });
      if (sub.kind === 'ok' && sub.sdp) this.sub = videoInfo(sub.sdp);
    }
  }

  private apply(result: DescribeResult): void {
    switch (result.kind) {
      case 'ok':
        if (result.sdp) this.main = videoInfo(result.sdp);
        else if (result.sdpError) this.ctx.reject(`SDP not understood: ${result.sdpError}`, result.raw);
        this.update({ state: 'online', lastSeen: this.ctx.clock.now(), lastError: null });
        return;
      case 'auth':
        // Fail fast: asking again with the same password only fills the camera's lockout counter.
        this.poll?.cancel();
        this.poll = null;
        this.update({ state: 'failed', lastError: `wrong credentials: ${result.detail}` });
        return;
      case 'garbage':
        this.ctx.reject(result.reason, result.raw);
        this.update({ state: 'offline', lastError: `not an RTSP answer: ${result.detail}` });
        return;
      case 'unreachable':
      case 'status':
        this.update({ state: 'offline', lastError: result.detail });
        return;
    }
  }


  /** Keep the health and hand the change to the registry, which logs each change of state once. */
  private update(change: Partial<DeviceHealth>): void {
    this.health_ = { ...this.health_, ...change };
    this.ctx.report(change);
  }
}

export const rtspCameraDriver: DriverDefinition<RtspCameraConfig> = {
  type: 'rtsp',
  kinds: ['camera'],
  configSchema: RtspCameraConfigSchema,
  capabilities: ['commands'],
  create: (config, ctx) => new RtspCamera(config, ctx),
};
