// ONVIF SOAP answers read into plain values: faults, capabilities, device information, profiles, URIs, presets. Pure.
//
// Read from the raw XML with the project's strict little reader rather than from the onvif
// package's parse, which turns every number-looking text into a number (a preset token "1.10"
// becomes 1.1) and every Z-ending text into a Date.
import type { CameraStream } from '../contract.js';
import { child, parseXml, textAt, type XmlElement } from '../xml.js';

export type BodyResult = { ok: true; body: XmlElement } | { ok: false; reason: string };

/** The Body of a SOAP envelope (1.1 or 1.2: names are compared without their namespace). */
export function soapBody(xml: string): BodyResult {
  const parsed = parseXml(xml);
  if (!parsed.ok) return { ok: false, reason: `not XML: ${parsed.reason}` };
  if (parsed.root.name !== 'Envelope') return { ok: false, reason: `not a SOAP envelope (root <${parsed.root.name}>)` };
  const body = child(parsed.root, 'Body');
  if (!body) return { ok: false, reason: 'SOAP envelope without a Body' };
  return { ok: true, body };
}

export interface SoapFault {
  /** env:Sender, env:Receiver ... as written (prefix kept: it is what the camera's manual shows). */
  code: string;
  /** Subcodes from outermost to innermost, e.g. ["ter:NotAuthorized"]. */
  subcodes: string[];
  reason: string;
}

/** The fault in a Body, SOAP 1.2 (Code/Subcode/Reason) or SOAP 1.1 (faultcode/faultstring); null when there is none. */
export function soapFault(body: XmlElement): SoapFault | null {
  const fault = child(body, 'Fault');
  if (!fault) return null;
  const code = child(fault, 'Code');
  if (!code) return { code: textAt(fault, 'faultcode') ?? '', subcodes: [], reason: textAt(fault, 'faultstring') ?? '' };
  const subcodes: string[] = [];
  for (let sub = child(code, 'Subcode'); sub && subcodes.length < 8; sub = child(sub, 'Subcode')) subcodes.push(textAt(sub, 'Value') ?? '');
  const reasons = child(fault, 'Reason')?.children.filter((c) => c.name === 'Text') ?? [];
  const reason = (reasons.find((t) => t.attributes.lang === 'en') ?? reasons[0])?.text.trim() ?? '';
  return { code: textAt(code, 'Value') ?? '', subcodes, reason };
}

const localPart = (qname: string): string => qname.slice(qname.lastIndexOf(':') + 1);

/** A fault that says the credentials are wrong: ONVIF's ter:NotAuthorized, WS-Security's wsse:FailedAuthentication. */
export function isAuthFault(fault: SoapFault): boolean {
  return [fault.code, ...fault.subcodes].some((c) => ['NotAuthorized', 'FailedAuthentication'].includes(localPart(c)));
}

export function describeFault(fault: SoapFault): string {
  const codes = [fault.code, ...fault.subcodes].filter(Boolean).join('/');
  return fault.reason ? `${codes}: ${fault.reason}` : codes || 'SOAP fault';
}

/** Thrown by the readers below when an answer lacks what the operation promises. */
export class UnexpectedAnswer extends Error {}

function response(body: XmlElement, name: string): XmlElement {
  const el = child(body, name);
  if (!el) throw new UnexpectedAnswer(`answer without ${name} (got ${body.children.map((c) => `<${c.name}>`).join(', ') || 'an empty Body'})`);
  return el;
}

/** For operations whose answer carries nothing we need: the Body must still hold their response element. */
export function expectResponse(name: string): (body: XmlElement) => void {
  return (body) => void response(body, name);
}

const isTrue = (text: string | undefined): boolean => text === 'true' || text === '1';

export interface Capabilities {
  mediaXAddr?: string;
  ptzXAddr?: string;
  eventsXAddr?: string;
  /** Events advertise WS-PullPoint (absent means not said; GetCapabilities devices of Profile S support it). */
  pullPoint: boolean;
}

/** tds:GetCapabilitiesResponse. */
export function readCapabilities(body: XmlElement): Capabilities {
  const caps = child(response(body, 'GetCapabilitiesResponse'), 'Capabilities');
  if (!caps) throw new UnexpectedAnswer('GetCapabilitiesResponse without Capabilities');
  const events = child(caps, 'Events');
  const xaddr = (el: XmlElement | undefined): string | undefined => textAt(el, 'XAddr') || undefined;
  const pull = textAt(events, 'WSPullPointSupport');
  return {
    ...(xaddr(child(caps, 'Media')) ? { mediaXAddr: xaddr(child(caps, 'Media')) } : {}),
    ...(xaddr(child(caps, 'PTZ')) ? { ptzXAddr: xaddr(child(caps, 'PTZ')) } : {}),
    ...(xaddr(events) ? { eventsXAddr: xaddr(events) } : {}),
    pullPoint: xaddr(events) !== undefined && (pull === undefined || isTrue(pull)),
  };
}

const serviceNs = {
  media: 'http://www.onvif.org/ver10/media/wsdl',
  ptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  events: 'http://www.onvif.org/ver10/events/wsdl',
} as const;

/** tds:GetServicesResponse, for devices that answer GetCapabilities no more. */
export function readServices(body: XmlElement): Capabilities {
  const services = response(body, 'GetServicesResponse').children.filter((c) => c.name === 'Service');
  const find = (namespace: string): string | undefined => services.map((s) => (textAt(s, 'Namespace') === namespace ? textAt(s, 'XAddr') : undefined)).find(Boolean);
  const events = find(serviceNs.events);
  return {
    ...(find(serviceNs.media) ? { mediaXAddr: find(serviceNs.media) } : {}),
    ...(find(serviceNs.ptz) ? { ptzXAddr: find(serviceNs.ptz) } : {}),
    ...(events ? { eventsXAddr: events } : {}),
    pullPoint: events !== undefined,
  };
}

export interface DeviceInformation {
  manufacturer?: string;
  model?: string;
  firmware?: string;
  serial?: string;
}

/** tds:GetDeviceInformationResponse. */
export function readDeviceInformation(body: XmlElement): DeviceInformation {
  const info = response(body, 'GetDeviceInformationResponse');
  const out: DeviceInformation = {};
  const set = (key: keyof DeviceInformation, name: string): void => {
    const value = textAt(info, name);
    if (value) out[key] = value;
  };
  set('manufacturer', 'Manufacturer');
  set('model', 'Model');
  set('firmware', 'FirmwareVersion');
  set('serial', 'SerialNumber');
  return out;
}

export interface MediaProfile {
  token: string;
  name: string;
  /** The video encoder configuration: absent in audio- or metadata-only profiles. */
  video?: Omit<CameraStream, 'token' | 'name' | 'uri'>;
  /** The profile carries a PTZ configuration: PTZ commands may name it. */
  ptz: boolean;
}

/** ONVIF encoder names (tt:VideoEncoding, Media2's names too) as codec names shared with the RTSP driver. */
const codecs: Record<string, string> = { H264: 'h264', H265: 'h265', HEVC: 'h265', JPEG: 'mjpeg', MPEG4: 'mpeg4' };

function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** trt:GetProfilesResponse, in the camera's order. */
export function readProfiles(body: XmlElement): MediaProfile[] {
  const out: MediaProfile[] = [];
  for (const p of response(body, 'GetProfilesResponse').children) {
    if (p.name !== 'Profiles' || !p.attributes.token) continue;
    const encoder = child(p, 'VideoEncoderConfiguration');
    const profile: MediaProfile = { token: p.attributes.token, name: textAt(p, 'Name') || p.attributes.token, ptz: child(p, 'PTZConfiguration') !== undefined };
    if (encoder) {
      const encoding = textAt(encoder, 'Encoding') ?? '';
      const width = positive(textAt(encoder, 'Resolution', 'Width'));
      const height = positive(textAt(encoder, 'Resolution', 'Height'));
      const fps = positive(textAt(encoder, 'RateControl', 'FrameRateLimit'));
      const kbps = positive(textAt(encoder, 'RateControl', 'BitrateLimit'));
      profile.video = {
        ...(encoding ? { codec: codecs[encoding.toUpperCase()] ?? encoding.toLowerCase() } : {}),
        ...(width ? { width } : {}),
        ...(height ? { height } : {}),
        ...(fps ? { fps } : {}),
        ...(kbps ? { bitrateKbps: kbps } : {}),
      };
    }
    out.push(profile);
  }
  return out;
}

/** trt:GetStreamUriResponse / trt:GetSnapshotUriResponse: the MediaUri's Uri. */
export function readMediaUri(body: XmlElement, responseName: 'GetStreamUriResponse' | 'GetSnapshotUriResponse'): string {
  const uri = textAt(response(body, responseName), 'MediaUri', 'Uri');
  if (!uri) throw new UnexpectedAnswer(`${responseName} without MediaUri/Uri`);
  return uri;
}

export interface Preset {
  token: string;
  name: string;
}

/** tptz:GetPresetsResponse. */
export function readPresets(body: XmlElement): Preset[] {
  return response(body, 'GetPresetsResponse')
    .children.filter((c) => c.name === 'Preset' && c.attributes.token)
    .map((c) => ({ token: c.attributes.token as string, name: textAt(c, 'Name') || (c.attributes.token as string) }));
}

/** xs:dateTime to epoch ms; undefined when it is not one. */
export function dateTime(text: string | undefined): number | undefined {
  if (!text || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** How long a subscription has left, by the camera's own clock: TerminationTime - CurrentTime. */
export function subscriptionLeftMs(response: XmlElement): number | undefined {
  const current = dateTime(textAt(response, 'CurrentTime'));
  const termination = dateTime(textAt(response, 'TerminationTime'));
  return current !== undefined && termination !== undefined ? termination - current : undefined;
}

/** tev:CreatePullPointSubscriptionResponse or wsnt:RenewResponse: the time left. */
export function readSubscriptionTime(body: XmlElement, responseName: 'CreatePullPointSubscriptionResponse' | 'RenewResponse'): number | undefined {
  return subscriptionLeftMs(response(body, responseName));
}
