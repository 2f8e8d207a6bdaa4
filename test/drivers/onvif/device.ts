// A test peer that speaks ONVIF as a Profile S camera does: device, media, PTZ and event services over SOAP 1.2.
//
// Followed from the ONVIF specifications, not from our driver: the Core specification (SOAP 1.2
// envelopes, WS-Security UsernameToken PasswordDigest = Base64(SHA-1(nonce + created + password)),
// GetSystemDateAndTime answered without credentials, the env:Sender / ter:NotAuthorized fault),
// devicemgmt.wsdl (tds:), media.wsdl (trt:), ptz.wsdl (tptz:), event.wsdl (tev:) with
// WS-BaseNotification (wsnt:) for PullPoint subscriptions, and onvif.xsd (tt:) for the types.
// Snapshots are served over HTTP with Digest authentication (RFC 7616, MD5, qop=auth), as cameras do.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseXml, type XmlElement } from '../../../drivers/xml.js';

export const ns = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  ter: 'http://www.onvif.org/ver10/error',
  tns1: 'http://www.onvif.org/ver10/topics',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
} as const;

/** Which service each operation belongs to: a request in another namespace is answered ActionNotSupported. */
const operations: Record<string, { service: 'device' | 'media' | 'ptz' | 'events' | 'subscription'; ns: string }> = {
  GetSystemDateAndTime: { service: 'device', ns: ns.tds },
  GetCapabilities: { service: 'device', ns: ns.tds },
  GetServices: { service: 'device', ns: ns.tds },
  GetDeviceInformation: { service: 'device', ns: ns.tds },
  GetProfiles: { service: 'media', ns: ns.trt },
  GetVideoSources: { service: 'media', ns: ns.trt },
  GetStreamUri: { service: 'media', ns: ns.trt },
  GetSnapshotUri: { service: 'media', ns: ns.trt },
  GetNodes: { service: 'ptz', ns: ns.tptz },
  GetConfigurations: { service: 'ptz', ns: ns.tptz },
  ContinuousMove: { service: 'ptz', ns: ns.tptz },
  Stop: { service: 'ptz', ns: ns.tptz },
  GetPresets: { service: 'ptz', ns: ns.tptz },
  GotoPreset: { service: 'ptz', ns: ns.tptz },
  GetEventProperties: { service: 'events', ns: ns.tev },
  CreatePullPointSubscription: { service: 'events', ns: ns.tev },
  PullMessages: { service: 'subscription', ns: ns.tev },
  Renew: { service: 'subscription', ns: ns.wsnt },
  Unsubscribe: { service: 'subscription', ns: ns.wsnt },
};

export interface DeviceOptions {
  username: string;
  password: string;
  /** Port of the RTSP server whose /main and /sub mounts the two profiles stream from. */
  rtspPort: number;
  jpeg: Buffer;
  /** With the event service and PullPoint support (default true). */
  events?: boolean;
  /** Seconds a subscription lives after creation or renewal (default 60, whatever the client asks). */
  terminationS?: number;
  /** Longest a PullMessages is held without messages, in ms (default: the request's Timeout). */
  maxHoldMs?: number;
  /** Renew is implemented (default true); without, it is answered ActionNotSupported, as some cameras do. */
  renew?: boolean;
  /** Subscription times in China time with an offset (2026-01-01T08:00:00+08:00), which xs:dateTime allows, rather than UTC. */
  offsetTimes?: boolean;
}

export interface PtzCall {
  op: 'ContinuousMove' | 'Stop' | 'GotoPreset';
  profile: string;
  pan?: number;
  tilt?: number;
  zoom?: number;
  timeout?: string;
  preset?: string;
}

export interface LoggedRequest {
  action: string;
  path: string;
  /** null: sent without a UsernameToken. */
  authenticated: boolean | null;
}

export interface EventSpec {
  topic: string;
  source?: Record<string, string>;
  data: Record<string, string>;
  operation?: 'Initialized' | 'Changed' | 'Deleted';
}

/** A SOAP 1.2 fault to answer; Sender faults go with HTTP 400, Receiver faults with 500 (SOAP 1.2 part 2, 7.5.2). */
class SoapFault extends Error {
  constructor(
    readonly code: 'env:Sender' | 'env:Receiver',
    readonly subcode: string,
    readonly reason: string,
  ) {
    super(reason);
  }

  get status(): number {
    return this.code === 'env:Sender' ? 400 : 500;
  }
}

const invalidArg = (reason: string): SoapFault => new SoapFault('env:Sender', 'ter:InvalidArgVal', reason);

interface Subscription {
  id: number;
  expires: number;
  queue: string[];
  waiter: (() => void) | null;
}

const profiles = [
  { token: 'profile_main', name: 'mainStream', mount: '/main', encoder: 'vec_main', width: 640, height: 360, fps: 10, kbps: 1024 },
  { token: 'profile_sub', name: 'subStream', mount: '/sub', encoder: 'vec_sub', width: 320, height: 180, fps: 10, kbps: 256 },
];

const presets = [
  { token: '1', name: 'Gate' },
  { token: '2', name: 'Car park' },
];

const xmlEscape = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** xs:duration as ONVIF uses it (PT60S, PT1M, PT2M30S); null when it is not one. */
function durationMs(text: string | undefined): number | null {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec((text ?? '').trim());
  if (!m || (!m[1] && !m[2] && !m[3])) return null;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

export class OnvifTestDevice {
  readonly requests: LoggedRequest[] = [];
  readonly ptz: PtzCall[] = [];
  readonly renewals: number[] = [];
  readonly unsubscribed: number[] = [];
  /** Replies instead of the real one: once, or to every request for the action when sticky. */
  readonly override = new Map<string, { status: number; type: string; body: string; sticky?: boolean }>();
  snapshotRequests = 0;
  /** Snapshot requests that carried valid Digest credentials. */
  snapshotAuthorized = 0;
  port = 0;
  private server: Server | null = null;
  private readonly subscriptions = new Map<number, Subscription>();
  private nextSubscription = 1;
  private readonly nonces = new Set<string>();

  constructor(readonly opts: DeviceOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get events(): boolean {
    return this.opts.events ?? true;
  }

  /** Listens on `port` (0: any; the same port again after a stop, like a camera coming back). */
  async start(port = this.port): Promise<number> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops answering and drops every connection, held pulls included; subscriptions are forgotten, as by a reboot. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const sub of this.subscriptions.values()) sub.waiter?.();
    this.subscriptions.clear();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queues a notification for every live subscription; a held PullMessages answers at once. */
  pushEvent(e: EventSpec): void {
    const items = (kind: string, values: Record<string, string> | undefined): string =>
      values ? `<tt:${kind}>${Object.entries(values).map(([n, v]) => `<tt:SimpleItem Name="${xmlEscape(n)}" Value="${xmlEscape(v)}"/>`).join('')}</tt:${kind}>` : '';
    this.pushRaw(
      `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${xmlEscape(e.topic)}</wsnt:Topic>` +
        `<wsnt:Message><tt:Message UtcTime="${new Date().toISOString()}" PropertyOperation="${e.operation ?? 'Changed'}">${items('Source', e.source)}${items('Data', e.data)}</tt:Message></wsnt:Message></wsnt:NotificationMessage>`,
    );
  }

  /** Queues a NotificationMessage as given (for malformed ones). */
  pushRaw(notificationXml: string): void {
    for (const sub of this.subscriptions.values()) {
      sub.queue.push(notificationXml);
      sub.waiter?.();
    }
  }

  /** Drops every subscription (what a camera's event service restart does); a held pull answers now, the next one faults. */
  forgetSubscriptions(): void {
    const subs = [...this.subscriptions.values()];
    this.subscriptions.clear();
    for (const sub of subs) sub.waiter?.();
  }

  subscriptionCount(): number {
    return this.subscriptions.size;
  }

  count(action: string): number {
    return this.requests.filter((r) => r.action === action).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method === 'GET' && path === '/onvif/snapshot.jpg') return this.snapshot(req, res);
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const parsed = parseXml(Buffer.concat(chunks).toString('utf8'));
    if (!parsed.ok || parsed.root.name !== 'Envelope') return this.fault(res, new SoapFault('env:Sender', 'ter:WellFormed', 'not a well-formed SOAP envelope'));
    const header = child(parsed.root, 'Header');
    const op = child(parsed.root, 'Body')?.children[0];
    if (!op) return this.fault(res, new SoapFault('env:Sender', 'ter:MissingAttr', 'empty body'));
    const known = operations[op.name];
    const authenticated = this.checkToken(header);
    this.requests.push({ action: op.name, path, authenticated });
    // The operation's namespace is checked when declared on it (as most clients write it); a prefixed
    // name would need the prefix resolved, which this small reader does not keep.
    if (!known || (op.attributes.xmlns !== undefined && op.attributes.xmlns !== known.ns) || !this.servedAt(known.service, path)) {
      return this.fault(res, new SoapFault('env:Receiver', 'ter:ActionNotSupported', `${op.name} is not supported at ${path}`));
    }
    // Core 5.12: GetSystemDateAndTime is answered to anyone, so a client can learn the clock for its digest.
    if (op.name !== 'GetSystemDateAndTime' && authenticated !== true) return this.fault(res, new SoapFault('env:Sender', 'ter:NotAuthorized', 'Sender not Authorized'));
    const override = this.override.get(op.name);
    if (override) {
      if (!override.sticky) this.override.delete(op.name);
      return void res.writeHead(override.status, { 'content-type': override.type }).end(override.body);
    }
    try {
      const body = await this.answer(op, path, res);
      if (body !== null) this.reply(res, body);
    } catch (err) {
      if (!(err instanceof SoapFault)) throw err;
      this.fault(res, err);
    }
  }

  private servedAt(service: string, path: string): boolean {
    if (service === 'subscription') return this.events && path.startsWith('/onvif/subscription/');
    if (service === 'events') return this.events && path === '/onvif/events_service';
    return path === `/onvif/${service}_service`;
  }

  /** True: a valid UsernameToken digest; false: a wrong one; null: none sent. */
  private checkToken(header: XmlElement | undefined): boolean | null {
    const token = child(child(header, 'Security'), 'UsernameToken');
    if (!token) return null;
    const username = child(token, 'Username')?.text.trim();
    const password = child(token, 'Password');
    const nonce = child(token, 'Nonce')?.text.trim();
    const created = child(token, 'Created')?.text.trim();
    if (!username || !password || !nonce || !created || !password.attributes.Type?.endsWith('#PasswordDigest')) return false;
    if (Number.isNaN(Date.parse(created))) return false;
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(this.opts.password, 'utf8')]))
      .digest();
    const given = Buffer.from(password.text.trim(), 'base64');
    return username === this.opts.username && given.length === expected.length && timingSafeEqual(given, expected);
  }

  private reply(res: ServerResponse, body: string, status = 200): void {
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="${ns.env}" xmlns:tds="${ns.tds}" xmlns:trt="${ns.trt}" xmlns:tptz="${ns.tptz}" ` +
      `xmlns:tev="${ns.tev}" xmlns:tt="${ns.tt}" xmlns:wsnt="${ns.wsnt}" xmlns:wsa="${ns.wsa}" xmlns:ter="${ns.ter}" xmlns:tns1="${ns.tns1}" xmlns:wstop="${ns.wstop}">` +
      `<env:Header/><env:Body>${body}</env:Body></env:Envelope>`;
    res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(xml);
  }

  private fault(res: ServerResponse, f: SoapFault): void {
    this.reply(
      res,
      `<env:Fault><env:Code><env:Value>${f.code}</env:Value><env:Subcode><env:Value>${f.subcode}</env:Value></env:Subcode></env:Code>` +
        `<env:Reason><env:Text xml:lang="en">${xmlEscape(f.reason)}</env:Text></env:Reason></env:Fault>`,
      f.status,
    );
  }

  private async answer(op: XmlElement, path: string, res: ServerResponse): Promise<string | null> {
    const base = this.url;
    const text = (name: string): string | undefined => child(op, name)?.text.trim();
    switch (op.name) {
      case 'GetSystemDateAndTime': {
        const d = new Date();
        return (
          `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
          `<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute>` +
          `<tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month>` +
          `<tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
        );
      }
      case 'GetCapabilities':
        return (
          `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
          `<tt:Device><tt:XAddr>${base}/onvif/device_service</tt:XAddr><tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye>` +
          `<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>` +
          `<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System></tt:Device>` +
          (this.events
            ? `<tt:Events><tt:XAddr>${base}/onvif/events_service</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
              `<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>`
            : '') +
          `<tt:Media><tt:XAddr>${base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>` +
          `<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
          `<tt:PTZ><tt:XAddr>${base}/onvif/ptz_service</tt:XAddr></tt:PTZ>` +
          `</tds:Capabilities></tds:GetCapabilitiesResponse>`
        );
      case 'GetServices': {
        const service = (namespace: string, path: string, major: number, minor: number): string =>
          `<tds:Service><tds:Namespace>${namespace}</tds:Namespace><tds:XAddr>${base}${path}</tds:XAddr><tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
        return (
          `<tds:GetServicesResponse>${service(ns.tds, '/onvif/device_service', 2, 60)}${service(ns.trt, '/onvif/media_service', 2, 60)}` +
          `${this.events ? service(ns.tev, '/onvif/events_service', 2, 60) : ''}${service(ns.tptz, '/onvif/ptz_service', 2, 60)}</tds:GetServicesResponse>`
        );
      }
      case 'GetDeviceInformation':
        return (
          `<tds:GetDeviceInformationResponse><tds:Manufacturer>Acme Vision</tds:Manufacturer><tds:Model>AV-2231-PTZ</tds:Model>` +
          `<tds:FirmwareVersion>V5.7.3 build 240115</tds:FirmwareVersion><tds:SerialNumber>AV2231-0001</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>`
        );
      case 'GetVideoSources':
        return `<trt:GetVideoSourcesResponse><trt:VideoSources token="vs"><tt:Framerate>10</tt:Framerate><tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
      case 'GetProfiles':
        return `<trt:GetProfilesResponse>${profiles.map((p) => this.profileXml(p)).join('')}</trt:GetProfilesResponse>`;
      case 'GetStreamUri': {
        const profile = profiles.find((p) => p.token === text('ProfileToken'));
        const setup = child(op, 'StreamSetup');
        if (!profile) throw invalidArg('no such profile');
        if (child(setup, 'Stream')?.text.trim() !== 'RTP-Unicast' || child(child(setup, 'Transport'), 'Protocol')?.text.trim() !== 'RTSP') {
          throw invalidArg('only RTP-Unicast over RTSP');
        }
        return this.mediaUri('GetStreamUriResponse', `rtsp://127.0.0.1:${this.opts.rtspPort}${profile.mount}`);
      }
      case 'GetSnapshotUri': {
        if (!profiles.some((p) => p.token === text('ProfileToken'))) throw invalidArg('no such profile');
        return this.mediaUri('GetSnapshotUriResponse', `${base}/onvif/snapshot.jpg`);
      }
      case 'GetNodes':
        return (
          `<tptz:GetNodesResponse><tptz:PTZNode token="ptznode" FixedHomePosition="false"><tt:Name>PTZ</tt:Name><tt:SupportedPTZSpaces>` +
          `<tt:ContinuousPanTiltVelocitySpace><tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange>` +
          `<tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:ContinuousPanTiltVelocitySpace><tt:ContinuousZoomVelocitySpace><tt:URI>http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace</tt:URI>` +
          `<tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:ContinuousZoomVelocitySpace></tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>255</tt:MaximumNumberOfPresets>` +
          `<tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>`
        );
      case 'GetConfigurations':
        return `<tptz:GetConfigurationsResponse>${this.ptzConfigurationXml('tptz:PTZConfiguration')}</tptz:GetConfigurationsResponse>`;
      case 'ContinuousMove': {
        const velocity = child(op, 'Velocity');
        const panTilt = child(velocity, 'PanTilt');
        const zoom = child(velocity, 'Zoom');
        const profile = text('ProfileToken') ?? '';
        if (!profiles.some((p) => p.token === profile)) throw invalidArg('no such profile');
        const call: PtzCall = { op: 'ContinuousMove', profile };
        if (panTilt) {
          call.pan = Number(panTilt.attributes.x);
          call.tilt = Number(panTilt.attributes.y);
        }
        if (zoom) call.zoom = Number(zoom.attributes.x);
        const timeout = text('Timeout');
        if (timeout !== undefined) call.timeout = timeout;
        this.ptz.push(call);
        return `<tptz:ContinuousMoveResponse/>`;
      }
      case 'Stop':
        this.ptz.push({ op: 'Stop', profile: text('ProfileToken') ?? '' });
        return `<tptz:StopResponse/>`;
      case 'GetPresets':
        return `<tptz:GetPresetsResponse>${presets.map((p) => `<tptz:Preset token="${p.token}"><tt:Name>${xmlEscape(p.name)}</tt:Name></tptz:Preset>`).join('')}</tptz:GetPresetsResponse>`;
      case 'GotoPreset': {
        const preset = text('PresetToken') ?? '';
        if (!presets.some((p) => p.token === preset)) throw invalidArg('ter:NoToken: no such preset');
        this.ptz.push({ op: 'GotoPreset', profile: text('ProfileToken') ?? '', preset });
        return `<tptz:GotoPresetResponse/>`;
      }
      case 'GetEventProperties':
        return (
          `<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>` +
          `<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet><tns1:RuleEngine><CellMotionDetector><Motion wstop:topic="true"><tt:MessageDescription IsProperty="true">` +
          `<tt:Source><tt:SimpleItemDescription Name="VideoSourceConfigurationToken" Type="tt:ReferenceToken"/><tt:SimpleItemDescription Name="Rule" Type="xs:string"/></tt:Source>` +
          `<tt:Data><tt:SimpleItemDescription Name="IsMotion" Type="xs:boolean"/></tt:Data></tt:MessageDescription></Motion></CellMotionDetector></tns1:RuleEngine></wstop:TopicSet>` +
          `<tev:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</tev:TopicExpressionDialect>` +
          `<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect></tev:GetEventPropertiesResponse>`
        );
      case 'CreatePullPointSubscription': {
        const sub: Subscription = { id: this.nextSubscription++, expires: 0, queue: [], waiter: null };
        this.grant(sub);
        this.subscriptions.set(sub.id, sub);
        return (
          `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${base}/onvif/subscription/${sub.id}</wsa:Address></tev:SubscriptionReference>` +
          `${this.times('wsnt', sub)}</tev:CreatePullPointSubscriptionResponse>`
        );
      }
      case 'PullMessages':
      case 'Renew':
      case 'Unsubscribe': {
        const sub = this.subscriptions.get(Number(path.split('/').pop()));
        if (!sub || sub.expires < Date.now()) {
          if (sub) this.subscriptions.delete(sub.id);
          throw invalidArg('wsrf-rw:ResourceUnknownFault: no such subscription');
        }
        if (op.name === 'Renew') {
          if (this.opts.renew === false) throw new SoapFault('env:Receiver', 'ter:ActionNotSupported', 'Renew is not supported');
          this.grant(sub);
          this.renewals.push(sub.id);
          return `<wsnt:RenewResponse>${this.times('wsnt', sub)}</wsnt:RenewResponse>`;
        }
        if (op.name === 'Unsubscribe') {
          this.subscriptions.delete(sub.id);
          this.unsubscribed.push(sub.id);
          sub.waiter?.();
          return `<wsnt:UnsubscribeResponse/>`;
        }
        const timeout = durationMs(text('Timeout'));
        const limit = Number(text('MessageLimit'));
        if (timeout === null || !Number.isInteger(limit) || limit < 1) throw invalidArg('Timeout and MessageLimit are required');
        if (sub.queue.length === 0) {
          const hold = Math.min(timeout, this.opts.maxHoldMs ?? timeout);
          const held = sub;
          await new Promise<void>((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              res.off('close', done);
              if (held.waiter === done) held.waiter = null;
              resolve();
            };
            const timer = setTimeout(done, hold);
            held.waiter = done;
            res.once('close', done);
          });
        }
        if (res.destroyed || !this.server) return null;
        const messages = sub.queue.splice(0, limit);
        return `<tev:PullMessagesResponse>${this.times('tev', sub)}${messages.join('')}</tev:PullMessagesResponse>`;
      }
      default:
        throw new SoapFault('env:Receiver', 'ter:ActionNotSupported', `${op.name} not supported`);
    }
  }

  private grant(sub: Subscription): void {
    sub.expires = Date.now() + (this.opts.terminationS ?? 60) * 1000;
  }

  private times(prefix: string, sub: Subscription): string {
    const format = (ms: number): string => (this.opts.offsetTimes ? `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}+08:00` : new Date(ms).toISOString());
    return `<${prefix}:CurrentTime>${format(Date.now())}</${prefix}:CurrentTime><${prefix}:TerminationTime>${format(sub.expires)}</${prefix}:TerminationTime>`;
  }

  private mediaUri(response: string, uri: string): string {
    return `<trt:${response}><trt:MediaUri><tt:Uri>${xmlEscape(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${response}>`;
  }

  private ptzConfigurationXml(element: string): string {
    return (
      `<${element} token="ptzconf"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount><tt:NodeToken>ptznode</tt:NodeToken>` +
      `<tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace>` +
      `<tt:DefaultContinuousZoomVelocitySpace>http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace</tt:DefaultContinuousZoomVelocitySpace>` +
      `<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout></${element}>`
    );
  }

  private profileXml(p: (typeof profiles)[number]): string {
    return (
      `<trt:Profiles token="${p.token}" fixed="true"><tt:Name>${p.name}</tt:Name>` +
      `<tt:VideoSourceConfiguration token="vsc"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>vs</tt:SourceToken><tt:Bounds x="0" y="0" width="640" height="360"/></tt:VideoSourceConfiguration>` +
      `<tt:VideoEncoderConfiguration token="${p.encoder}"><tt:Name>${p.encoder}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
      `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>` +
      `<tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.kbps}</tt:BitrateLimit></tt:RateControl>` +
      `<tt:H264><tt:GovLength>${p.fps}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
      `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>` +
      `<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>` +
      this.ptzConfigurationXml('tt:PTZConfiguration') +
      `</trt:Profiles>`
    );
  }

  /** RFC 7616 Digest (MD5, qop=auth) as the camera's web server asks for it. */
  private snapshot(req: IncomingMessage, res: ServerResponse): void {
    this.snapshotRequests++;
    const realm = 'AV-2231';
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Digest ')) {
      const params: Record<string, string> = {};
      for (const m of header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[m[1] as string] = (m[2] ?? m[3]) as string;
      const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
      const ha1 = md5(`${params.username}:${realm}:${this.opts.password}`);
      const ha2 = md5(`GET:${params.uri}`);
      const expected = md5(`${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:${params.qop}:${ha2}`);
      if (params.username === this.opts.username && params.realm === realm && params.qop === 'auth' && this.nonces.has(params.nonce ?? '') && params.uri === req.url && params.response === expected) {
        this.snapshotAuthorized++;
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': this.opts.jpeg.length }).end(this.opts.jpeg);
        return;
      }
    }
    const nonce = randomBytes(16).toString('hex');
    this.nonces.add(nonce);
    res.writeHead(401, { 'www-authenticate': `Digest realm="${realm}", qop="auth", nonce="${nonce}", opaque="${randomBytes(8).toString('hex')}", algorithm=MD5` }).end();
  }
}
