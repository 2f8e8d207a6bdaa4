// guardpost devices scan: the serial ports on this machine (with stable by-id paths), the OSDP readers on a bus, the ONVIF cameras on the LAN.
import { discoverOnvif, suggestedDevice, type DiscoveredCamera } from '../../drivers/onvif/discover.js';
import { scanOsdpBus } from '../../drivers/osdp/scan.js';
import { listSerialPorts } from '../../drivers/serial/ports.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';

export interface ScanArgs {
  port?: string;
  baud?: string;
  addresses?: string;
  /** Also probe the LAN for ONVIF cameras (WS-Discovery multicast): opt-in, it sends on every interface's LAN. */
  onvif?: boolean;
  /** How long to collect the cameras' answers, ms (default 3000). */
  onvifTimeoutMs?: number;
}

/** "0-126" or "1,2,5-7" into address numbers, each 0-126. */
export function parseAddresses(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?$/.exec(part);
    const from = Number(m?.[1]);
    const to = Number(m?.[2] ?? m?.[1]);
    if (!m || from > to || to > 126) throw new GuardpostError(ErrorCode.BadRequest, `--addresses: expected addresses 0-126 like "0-10,20", got "${spec}"`);
    for (let a = from; a <= to; a++) out.add(a);
  }
  return [...out].sort((a, b) => a - b);
}

/** The ONVIF part of the scan's output: one line per camera, then device blocks to paste into the site file. */
export function onvifSection(cameras: readonly DiscoveredCamera[]): string[] {
  if (cameras.length === 0) {
    return ['ONVIF cameras: none answered (WS-Discovery may be off in the camera, or it is on another subnet: add it by address)'];
  }
  const lines = ['ONVIF cameras:'];
  const sorted = [...cameras].sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
  for (const cam of sorted) {
    const what = [cam.scopes.name, cam.scopes.hardware, cam.scopes.location].filter(Boolean).join(', ');
    lines.push(`  ${cam.address}${what ? `  (${what})` : ''}  ${cam.urn}`);
  }
  lines.push('', 'suggested devices (fill in each camera\'s ONVIF user and password):', 'devices:');
  const used = new Set<string>();
  sorted.forEach((cam, i) => {
    // cam-<last octet> reads like the label on the camera's IP; cam-<n> when that is taken or not IPv4.
    const octet = /^https?:\/\/\d+\.\d+\.\d+\.(\d+)[:/]/.exec(cam.address)?.[1];
    let id = octet ? `cam-${octet}` : `cam-${i + 1}`;
    for (let n = 2; used.has(id); n++) id = `cam-${octet ?? i + 1}-${n}`;
    used.add(id);
    lines.push(suggestedDevice(cam, id));
  });
  return lines;
}

export async function runDevicesScan(args: ScanArgs): Promise<number> {
  const ports = await listSerialPorts();
  console.log(ports.length === 0 ? 'serial ports: none' : 'serial ports:');
  for (const p of ports) console.log(`  ${p.path}${p.byId ? `  ->  ${p.byId}` : ''}${p.manufacturer ? `  (${p.manufacturer})` : ''}`);
  if (args.onvif) {
    const problems = new Set<string>();
    try {
      const cameras = await discoverOnvif({ timeoutMs: args.onvifTimeoutMs ?? 3000, onIgnored: (reason) => void (reason.startsWith('probe not sent') && problems.add(reason)) });
      for (const problem of problems) console.log(`ONVIF discovery: ${problem} (is this machine on the cameras' LAN?)`);
      for (const line of onvifSection(cameras)) console.log(line);
    } catch (err) {
      console.log(`ONVIF discovery failed: ${(err as Error).message}`);
    }
  }
  if (!args.port) return 0;

  const baudRate = Number(args.baud ?? 9600);
  if (![9600, 19200, 38400, 57600, 115200].includes(baudRate)) throw new GuardpostError(ErrorCode.BadRequest, `--baud: expected 9600, 19200, 38400, 57600 or 115200, got "${args.baud}"`);
  const addresses = parseAddresses(args.addresses ?? '0-126');
  console.log(`OSDP readers on ${args.port} at ${baudRate} baud (addresses ${args.addresses ?? '0-126'}):`);
  const found = await scanOsdpBus({ path: args.port, baudRate, addresses });
  if (found.length === 0) console.log('  none answered (check wiring A/B, termination, baud rate and address)');
  for (const pd of found) {
    console.log(`  address ${pd.address}: vendor ${pd.vendor} model ${pd.model} version ${pd.version} serial ${pd.serial.toString(16)} firmware ${pd.firmware}`);
  }
  return 0;
}
