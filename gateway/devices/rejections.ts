// Input nobody could understand: counted every time, logged once per source and reason with a pasteable dump.
import type { Logger } from 'pino';
import type { EventBus } from '../core/bus.js';
import { maskTail } from '../core/mask.js';

const dumpBytes = 512;

export class RejectionLog {
  private readonly seen = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /** `raw` is dumped (base64 and text) the first time, so it can be pasted into a test fixture. */
  report(source: string, reason: string, raw: Buffer | string | null, topic?: string, bytes?: number): void {
    const size = bytes ?? (raw === null ? 0 : Buffer.byteLength(raw));
    this.bus.emit('input.rejected', { source, reason, bytes: size, ...(topic ? { topic } : {}) });
    const key = `${source}\u0000${reason}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const buf = raw === null ? null : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    this.log.warn(
      {
        source,
        reason,
        topic,
        bytes: size,
        ...(buf ? dump(buf.subarray(0, dumpBytes)) : {}),
      },
      'rejected input (further ones from this source for this reason are only counted)',
    );
  }
}

/**
 * Text payloads are dumped as text with long digit runs masked (they may be card or ID numbers);
 * binary ones as hex, which is what a byte fixture needs.
 */
function dump(buf: Buffer): { text: string } | { hex: string } {
  const text = buf.toString('utf8');
  // eslint-disable-next-line no-control-regex -- control bytes are exactly what marks a payload as binary
  if (text.includes('\uFFFD') || /[\u0000-\u0008\u000E-\u001F]/.test(text)) return { hex: buf.toString('hex') };
  return { text: text.replace(/\d{6,}/g, (digits) => maskTail(digits)) };
}
