// guardpost devices scan: the serial ports on this machine (with stable by-id paths) and the OSDP readers on a bus.
import { scanOsdpBus } from '../../drivers/osdp/scan.js';
import { listSerialPorts } from '../../drivers/serial/ports.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';

export interface ScanArgs {
  port?: string;
  baud?: string;
  addresses?: string;
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

export async function runDevicesScan(args: ScanArgs): Promise<number> {
  const ports = await listSerialPorts();
  console.log(ports.length === 0 ? 'serial ports: none' : 'serial ports:');
  for (const p of ports) console.log(`  ${p.path}${p.byId ? `  ->  ${p.byId}` : ''}${p.manufacturer ? `  (${p.manufacturer})` : ''}`);
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
