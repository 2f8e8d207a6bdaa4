// WS-Discovery of ONVIF cameras: one multicast Probe for dn:NetworkVideoTransmitter, the ProbeMatches that answer it.
//
// As ONVIF Core 7.3 specifies it: WS-Discovery (2005/04) over SOAP 1.2, multicast to
// 239.255.255.250:3702, matches sent back unicast to the probe's source and tied to it by
// wsa:RelatesTo. Written with dgram rather than the onvif package's Discovery, which is a
// process-wide singleton and keeps no tally of the replies it could not read.
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { child, parseXml, textAt, type XmlElement } from '../xml.js';

export const discoveryAddress = '239.255.255.250';
export const discoveryPort = 3702;

export interface DiscoveredCamera {
  /** The device service address to configure (the first http XAddr, IPv4 preferred). */
  address: string;
  xaddrs: string[];
  /** The endpoint reference, urn:uuid:..., stable across address changes. */
  urn: string;
  scopes: CameraScopes;
  /** Where the match came from. */
  from: string;
}

export interface CameraScopes {
  /** From the onvif://www.onvif.org/name|hardware|location/ scopes, percent-decoded. */
  name?: string;
  hardware?: string;
  location?: string;
  /** Every scope as sent. */
  all: string[];
}

export interface DiscoverOptions {
  timeoutMs?: number;
  /** The local address whose interface the probe leaves by (default: the routing table's choice). */
  interfaceAddress?: string;
  /** Replies that were not a ProbeMatches for this probe; never a reason to stop. */
  onIgnored?(reason: string, from: string): void;
}

export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    `<a:MessageID>${messageId}</a:MessageID>` +
    '<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>' +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter(Boolean);

/** onvif://www.onvif.org/<kind>/<value...> scopes into name, hardware and location. */
function readScopes(scopes: string[]): CameraScopes {
  const out: Record<string, string[]> = {};
  for (const scope of scopes) {
    const m = /^onvif:\/\/www\.onvif\.org\/(name|hardware|location)\/(.+)$/i.exec(scope);
    if (m) (out[(m[1] as string).toLowerCase()] ??= []).push(decode(m[2] as string));
  }
  return {
    ...(out.name ? { name: out.name.join(' ') } : {}),
    ...(out.hardware ? { hardware: out.hardware.join(' ') } : {}),
    ...(out.location ? { location: out.location.join(', ') } : {}),
    all: scopes,
  };
}

/** The cameras in one reply to probe `messageId`, or why it is not one. Never throws. */
export function readProbeMatches(xml: string, messageId: string, from: string): DiscoveredCamera[] | string {
  const parsed = parseXml(xml);
  if (!parsed.ok) return `not XML: ${parsed.reason.replace(/ at offset \d+$/, '')}`;
  if (parsed.root.name !== 'Envelope') return 'not a SOAP envelope';
  const relatesTo = textAt(child(parsed.root, 'Header'), 'RelatesTo');
  if (relatesTo !== messageId) return 'not an answer to our probe';
  const matches = child(child(parsed.root, 'Body'), 'ProbeMatches');
  if (!matches) return 'not a ProbeMatches';
  const out: DiscoveredCamera[] = [];
  for (const match of matches.children.filter((c: XmlElement) => c.name === 'ProbeMatch')) {
    const xaddrs = words(textAt(match, 'XAddrs')).filter((x) => /^https?:\/\//i.test(x));
    const urn = textAt(match, 'EndpointReference', 'Address') ?? '';
    if (xaddrs.length === 0) continue;
    // IPv4 first: a camera that also lists an IPv6 or link-local address is configured by its IPv4 one.
    const address = xaddrs.find((x) => /^https?:\/\/\d+\.\d+\.\d+\.\d+[:/]/i.test(x)) ?? (xaddrs[0] as string);
    out.push({ address, xaddrs, urn, scopes: readScopes(words(textAt(match, 'Scopes'))), from });
  }
  return out.length > 0 ? out : 'a ProbeMatches without a usable XAddr';
}

/**
 * Probes the LAN and collects the answers for `timeoutMs` (default 3 s). The probe goes out twice
 * (WS-Discovery's repeat for UDP) under one MessageID; cameras are merged by endpoint reference.
 */
export function discoverOnvif(opts: DiscoverOptions = {}): Promise<DiscoveredCamera[]> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const messageId = `uuid:${randomUUID()}`;
  const probe = Buffer.from(probeMessage(messageId), 'utf8');
  const found = new Map<string, DiscoveredCamera>();
  const socket = createSocket({ type: 'udp4', reuseAddr: false });
  return new Promise<DiscoveredCamera[]>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let finished = false;
    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      socket.close();
      if (err) reject(err);
      else resolve([...found.values()]);
    };
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg, rinfo) => {
      const from = `${rinfo.address}:${rinfo.port}`;
      const read = readProbeMatches(msg.toString('utf8'), messageId, from);
      if (typeof read === 'string') {
        opts.onIgnored?.(read, from);
        return;
      }
      for (const cam of read) {
        const key = cam.urn || cam.address;
        if (!found.has(key)) found.set(key, cam);
      }
    });
    socket.bind(0, () => {
      try {
        if (opts.interfaceAddress) socket.setMulticastInterface(opts.interfaceAddress);
        // One hop: cameras are on the gate house's LAN, the probe has no business beyond its router.
        socket.setMulticastTTL(1);
      } catch (err) {
        finish(err as Error);
        return;
      }
      const send = (): void => socket.send(probe, discoveryPort, discoveryAddress, (err) => (err ? opts.onIgnored?.(`probe not sent: ${err.message}`, 'local') : undefined));
      send();
      timers.push(setTimeout(send, Math.min(250, timeoutMs / 4)));
      timers.push(setTimeout(() => finish(), timeoutMs));
    });
  });
}

/** A config block for a found camera, to paste under devices: (credentials left to fill in). */
export function suggestedDevice(cam: DiscoveredCamera, id: string): string {
  const url = new URL(cam.address);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const lines = [`  ${id}:`, '    type: onvif', '    kind: camera'];
  if (cam.scopes.name) lines.push(`    name: ${JSON.stringify(cam.scopes.name)}`);
  lines.push(`    host: ${url.hostname}`);
  if (port !== 80) lines.push(`    port: ${port}${url.protocol === 'https:' ? '                  # the camera offers only HTTPS, which this driver does not speak' : ''}`);
  lines.push('    username: admin            # an ONVIF user of the camera', '    password: "..."');
  return lines.join('\n');
}
