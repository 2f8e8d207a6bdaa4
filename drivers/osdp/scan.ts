// Finds the OSDP readers answering on a bus: osdp_ID to each address in turn, for `guardpost devices scan`.
import { SerialPort } from 'serialport';
import { decodeReply, encodeId, Reply } from './messages.js';
import { buildPacket, parsePacket, SOM } from './packet.js';

export interface FoundPd {
  address: number;
  vendor: string;
  model: number;
  version: number;
  serial: number;
  firmware: string;
}

export interface ScanOptions {
  path: string;
  baudRate: number;
  addresses: readonly number[];
  /** How long one address may take to answer; the spec allows a PD 200 ms. */
  replyTimeoutMs?: number;
}

/**
 * Asks each address for its ID, one at a time (RS-485 is half duplex), in plain text with sequence 0
 * as after a reset. A reader that keeps secure channel mandatory still answers osdp_ID in the clear.
 */
export async function scanOsdpBus(opts: ScanOptions): Promise<FoundPd[]> {
  const port = new SerialPort({ path: opts.path, baudRate: opts.baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let received = Buffer.alloc(0);
  port.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const found: FoundPd[] = [];
  try {
    for (const address of opts.addresses) {
      received = Buffer.alloc(0);
      const id = encodeId();
      port.write(buildPacket({ address, sequence: 0, code: id.code, data: id.data }));
      const reply = await waitForReply(() => received, address, opts.replyTimeoutMs ?? 200);
      if (reply) found.push({ address, ...reply });
    }
  } finally {
    await new Promise<void>((r) => port.close(() => r()));
  }
  return found;
}

async function waitForReply(bytes: () => Buffer, address: number, timeoutMs: number): Promise<Omit<FoundPd, 'address'> | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    const buf = bytes();
    const start = buf.indexOf(SOM);
    if (start < 0) continue;
    const parsed = parsePacket(buf.subarray(start), { address, reply: true, sequence: 0 });
    if (!parsed.ok) {
      if (parsed.error.kind === 'truncated') continue;
      return null;
    }
    if (parsed.packet.code !== Reply.PDID) return null;
    const decoded = decodeReply(parsed.packet.code, parsed.packet.data);
    if (decoded.type !== 'pdid') return null;
    const { vendor, model, version, serial, firmware } = decoded;
    return { vendor, model, version, serial, firmware };
  }
  return null;
}
