// A typed, promise-based face on the onvif package's Cam: its SOAP transport and WS-Security, our reading of the answers.
import { Agent } from 'node:http';
import onvif, { type Cam } from 'onvif';
import type { XmlElement } from '../xml.js';
import { readPullMessages, type PullMessagesResult } from './events.js';
import {
  describeFault,
  expectResponse,
  isAuthFault,
  readCapabilities,
  readDeviceInformation,
  readMediaUri,
  readPresets,
  readProfiles,
  readServices,
  readSubscriptionTime,
  soapBody,
  soapFault,
  type Capabilities,
  type DeviceInformation,
  type MediaProfile,
  type Preset,
  type SoapFault,
} from './soap.js';

/**
 * auth: the camera refused the credentials. unreachable: no answer, a network error or an HTTP 5xx
 * without a SOAP fault (a camera booting). fault: a SOAP fault (the camera cannot do that).
 * garbage: an answer that is not the ONVIF SOAP asked for.
 */
export type OnvifFailureKind = 'auth' | 'unreachable' | 'fault' | 'garbage';

export class OnvifError extends Error {
  constructor(
    readonly kind: OnvifFailureKind,
    message: string,
    /** The answer as received, for garbage: what ctx.reject keeps so it can become a fixture. */
    readonly raw?: string,
    readonly fault?: SoapFault,
  ) {
    super(message);
    this.name = 'OnvifError';
  }
}

export interface OnvifClientOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  timeoutMs: number;
}

type Callback = (err: Error | null, data?: unknown, xml?: string) => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * One camera session. Every call resolves with the SOAP Body read by us, or rejects with an
 * OnvifError; nothing throws past it. A new client per (re)connection: the package keeps per-camera
 * state (the clock offset for the digest, the service addresses, the subscription).
 */
export class OnvifClient {
  private readonly cam: Cam;
  /** Every request of this session goes through it, so close() can cut a PullMessages the camera is holding. */
  private readonly agent = new Agent({ keepAlive: false });
  /** The last answer's raw XML and HTTP status, valid only in the tick it arrived in (see the rawResponse listener). */
  private raw: { xml: string; status: number } | null = null;
  private closed = false;

  constructor(opts: OnvifClientOptions) {
    this.cam = new onvif.Cam({
      hostname: opts.host,
      port: opts.port,
      username: opts.username,
      password: opts.password,
      timeout: opts.timeoutMs,
      autoconnect: false,
      // Service addresses point at the configured host and port whatever the camera says: cameras
      // behind NAT or with a stale address in their settings advertise addresses nobody can reach.
      preserveAddress: true,
      agent: this.agent,
    });
    this.cam.on('rawResponse', (xml: string, status: number) => {
      this.raw = { xml, status };
      // The package parses the answer and calls back synchronously after this event; by the next
      // microtask the answer is stale, so a call that failed without one never sees another's.
      queueMicrotask(() => {
        this.raw = null;
      });
    });
  }

  /** Runs one package call and reads its answer's Body with `read`. */
  private request<T>(operation: string, invoke: (cb: Callback) => void, read: (body: XmlElement, raw: string) => T): Promise<T> {
    if (this.closed) return Promise.reject(new OnvifError('unreachable', `${operation}: session closed`));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const done: Callback = (err) => {
        if (settled) return;
        settled = true;
        const raw = this.raw;
        try {
          resolve(read(this.body(operation, err, raw), raw?.xml ?? ''));
        } catch (e) {
          reject(e instanceof OnvifError ? e : new OnvifError('garbage', `${operation}: ${(e as Error).message}`, raw?.xml));
        }
      };
      try {
        invoke(done);
      } catch (err) {
        // The package throws synchronously on some states (no subscription yet): a failed call, not a crash.
        settled = true;
        reject(new OnvifError('garbage', `${operation}: ${(err as Error).message}`));
      }
    });
  }

  private body(operation: string, err: Error | null, raw: { xml: string; status: number } | null): XmlElement {
    if (raw) {
      const body = soapBody(raw.xml);
      if (body.ok) {
        const fault = soapFault(body.body);
        if (fault) throw new OnvifError(isAuthFault(fault) ? 'auth' : 'fault', `${operation}: ${describeFault(fault)}`, raw.xml, fault);
      }
      if (raw.status === 401) throw new OnvifError('auth', `${operation}: HTTP 401`, raw.xml);
      if (raw.status >= 500) throw new OnvifError('unreachable', `${operation}: HTTP ${raw.status}`, raw.xml);
      if (!body.ok) throw new OnvifError('garbage', `${operation}: ${body.reason}`, raw.xml);
      if (raw.status !== 200) throw new OnvifError('garbage', `${operation}: HTTP ${raw.status} without a SOAP fault`, raw.xml);
      // The package may still have failed on an answer we can read (its parse is stricter about
      // shapes): our reading decides, and a Body without the expected response fails there.
      return body.body;
    }
    if (!err) throw new OnvifError('garbage', `${operation}: no answer body`);
    // No answer to read: the package's own errors for HTTP authentication, else the network's (ECONNREFUSED, "Network timeout").
    if (/^Digest authentication failed/.test(err.message)) throw new OnvifError('auth', `${operation}: HTTP 401 after Digest authentication`);
    if (/^Digest authentication headers not found/.test(err.message)) throw new OnvifError('auth', `${operation}: HTTP 401 without a Digest challenge`);
    throw new OnvifError('unreachable', `${operation}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  }

  /** Unauthenticated (Core 5.12): a liveness check, and the camera's clock for the WS-Security digest. */
  systemDateAndTime(): Promise<void> {
    return this.request('GetSystemDateAndTime', (cb) => this.cam.getSystemDateAndTime(cb), expectResponse('GetSystemDateAndTimeResponse'));
  }

  /** GetCapabilities, else (a device that dropped it) GetServices; the package routes later calls by the addresses found. */
  async capabilities(): Promise<Capabilities> {
    try {
      return await this.request('GetCapabilities', (cb) => this.cam.getCapabilities(cb), readCapabilities);
    } catch (err) {
      if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
    }
    const services = await this.request('GetServices', (cb) => this.cam.getServices(true, cb), readServices);
    // Media2 (Profile T) answers in another shape; this driver reads Media (Profile S), which such cameras keep.
    this.cam.media2Support = false;
    return services;
  }

  deviceInformation(): Promise<DeviceInformation> {
    return this.request('GetDeviceInformation', (cb) => this.cam.getDeviceInformation(cb), readDeviceInformation);
  }

  profiles(): Promise<MediaProfile[]> {
    return this.request('GetProfiles', (cb) => this.cam.getProfiles(cb), readProfiles);
  }

  /** RTP unicast over RTSP, what the recorder asks ffmpeg for. */
  streamUri(profileToken: string): Promise<string> {
    return this.request('GetStreamUri', (cb) => this.cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken }, cb), (body) => readMediaUri(body, 'GetStreamUriResponse'));
  }

  snapshotUri(profileToken: string): Promise<string> {
    return this.request('GetSnapshotUri', (cb) => this.cam.getSnapshotUri({ profileToken }, cb), (body) => readMediaUri(body, 'GetSnapshotUriResponse'));
  }

  continuousMove(profileToken: string, pan: number, tilt: number, zoom: number, timeoutMs?: number): Promise<void> {
    return this.request('ContinuousMove', (cb) => this.cam.continuousMove({ profileToken, x: pan, y: tilt, zoom, ...(timeoutMs ? { timeout: timeoutMs } : {}) }, cb), expectResponse('ContinuousMoveResponse'));
  }

  stopMove(profileToken: string): Promise<void> {
    return this.request('Stop', (cb) => this.cam.stop({ profileToken, panTilt: true, zoom: true }, cb), expectResponse('StopResponse'));
  }

  presets(profileToken: string): Promise<Preset[]> {
    return this.request('GetPresets', (cb) => this.cam.getPresets({ profileToken }, cb), readPresets);
  }

  gotoPreset(profileToken: string, preset: string): Promise<void> {
    return this.request('GotoPreset', (cb) => this.cam.gotoPreset({ profileToken, preset }, cb), expectResponse('GotoPresetResponse'));
  }

  /** CreatePullPointSubscription; resolves with the time the subscription has, when the camera says. */
  async subscribe(): Promise<number | undefined> {
    const left = await this.request('CreatePullPointSubscription', (cb) => this.cam.createPullPointSubscription(cb), (body) =>
      readSubscriptionTime(body, 'CreatePullPointSubscriptionResponse'),
    );
    // The package sends subscription requests with the subscription's URL as the request options,
    // which bypasses the Cam's agent; put ours on it so close() cuts a held PullMessages too.
    const sub: unknown = (this.cam.events as Record<string, unknown>).subscription;
    if (isRecord(sub) && isRecord(sub.subscriptionReference) && isRecord(sub.subscriptionReference.address)) sub.subscriptionReference.address.agent = this.agent;
    return left;
  }

  /** PullMessages (the package asks for up to 1 minute's wait and allows 80 s for the answer). */
  pull(messageLimit: number): Promise<PullMessagesResult & { raw: string }> {
    return this.request('PullMessages', (cb) => this.cam.pullMessages({ messageLimit }, cb), (body, raw) => ({ ...readPullMessages(body), raw }));
  }

  renew(): Promise<number | undefined> {
    return this.request('Renew', (cb) => this.cam.renew({}, cb), (body) => readSubscriptionTime(body, 'RenewResponse'));
  }

  unsubscribe(): Promise<void> {
    return this.request('Unsubscribe', (cb) => this.cam.unsubscribe(cb, true), expectResponse('UnsubscribeResponse'));
  }

  /** Drops every connection of the session, held pulls included; later calls fail at once. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }
}
