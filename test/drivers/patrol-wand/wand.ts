// Test helper: a guardpost v1 patrol wand, written from drivers/patrol-wand/README.md (not from the host code), on one end of a pty pair.
import { SerialPort } from 'serialport';

/** How a record line goes wrong on the way to the cradle. */
export type Damage = 'checksum' | 'truncate' | 'drop' | 'noise';

export interface WandOptions {
  id?: string;
  firmware?: string;
  /** True UTC time; the wand's clock is this plus the zone's offset plus its error. */
  now: () => number;
  /** The zone the wand's clock shows, as a fixed UTC offset (China: +8 h, no daylight saving). */
  zoneOffsetMs?: number;
  /** How far the wand's clock is ahead of the truth, ms; negative when it is slow. */
  clockErrorMs?: number;
  /** Records it can hold; when full it overwrites the oldest (the README allows either). */
  capacity?: number;
  baudRate?: number;
}

interface Stored {
  seq: number;
  tag: string;
  time: string;
}

const hour = 3_600_000;

/** XOR of the body's bytes, two upper-case hex digits (README, "Checksum"). */
function xor(body: string): string {
  let x = 0;
  for (const ch of body) x ^= ch.charCodeAt(0);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

const line = (body: string): string => `$${body}*${xor(body)}\r\n`;

/** A local reading as YYYYMMDDhhmmss, from ms on a zone-less local time line. */
function show(localMs: number): string {
  const d = new Date(Math.floor(localMs / 1000) * 1000);
  return d.toISOString().replace(/[-T:]/g, '').slice(0, 14);
}

/** YYYYMMDDhhmmss back to zone-less local ms, or null when it is not a real date (README, "Fields"). */
function readTime(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 2000 || y > 2099 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return new Date(ms).getUTCDate() === d ? ms : null;
}

const seqText = /^(0|[1-9]\d{0,9})$/;

export class SimulatedWand {
  readonly id: string;
  readonly firmware: string;
  /** Whether it sits in the cradle; out of it, it hears nothing and says nothing. */
  docked = true;
  /** Bodies of the commands it acted on, in order (e.g. "READ,1,200"). */
  readonly heard: string[] = [];
  /** Lines that reached the pins while it was out of the cradle, or that it discarded. */
  ignored = 0;
  clockErrorMs: number;
  /** What $INFO says for the clock instead of its reading, as an RTC that lost power says 00000000000000; $TIME repairs it. */
  brokenClock: string | null = null;
  /** Commands it answers with $ERR,<code> instead (README, "Error answers"), e.g. { READ: 'MEM' }. */
  refuse: Partial<Record<'INFO' | 'READ' | 'TIME' | 'CLEAR', string>> = {};
  private records: Stored[] = [];
  private lastSeq = 0;
  private readonly damages = new Map<number, { how: Damage; always: boolean }>();
  private port: SerialPort | null = null;
  private rx = '';
  private readonly zoneOffsetMs: number;
  private readonly capacity: number;

  constructor(
    private readonly path: string,
    private readonly opts: WandOptions,
  ) {
    this.id = opts.id ?? 'W0042';
    this.firmware = opts.firmware ?? '2.1.0';
    this.zoneOffsetMs = opts.zoneOffsetMs ?? 8 * hour;
    this.clockErrorMs = opts.clockErrorMs ?? 0;
    this.capacity = opts.capacity ?? 60_000;
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.opts.baudRate ?? 115200, autoOpen: false });
    port.on('error', () => {}); // the pty goes away with socat when a test pulls the cradle
    port.on('data', (chunk: Buffer) => this.receive(chunk));
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  /** The wand's clock reading now. */
  clock(): string {
    return show(this.opts.now() + this.zoneOffsetMs + this.clockErrorMs);
  }

  get first(): number {
    return this.records[0]?.seq ?? this.lastSeq + 1;
  }

  get last(): number {
    return this.lastSeq;
  }

  get count(): number {
    return this.records.length;
  }

  /** A touch at true time `at`: stamped with what the wand's clock showed then. */
  touch(tag: string, at: number): number {
    return this.store(tag, show(at + this.zoneOffsetMs + this.clockErrorMs));
  }

  /** A record with any time text at all, as a wand with a broken clock chip would store it. */
  storeRaw(tag: string, time: string): number {
    return this.store(tag, time);
  }

  /** `n` touches, `stepMs` apart, the last at `lastAt`; tags CP0001, CP0002, ... cycling through 200 points. */
  fill(n: number, lastAt: number, stepMs = 1000): void {
    for (let i = 0; i < n; i++) this.touch(`CP${String((i % 200) + 1).padStart(4, '0')}`, lastAt - (n - 1 - i) * stepMs);
  }

  /** Damage the line of record `seq` the next time it is sent, or every time. */
  damage(seq: number, how: Damage, always = false): void {
    this.damages.set(seq, { how, always });
  }

  /** Sends raw bytes unasked, as contacts bouncing in the cradle do. */
  async noise(bytes: Buffer): Promise<void> {
    await this.send(bytes.toString('latin1'));
  }

  private store(tag: string, time: string): number {
    const seq = ++this.lastSeq;
    this.records.push({ seq, tag, time });
    if (this.records.length > this.capacity) this.records.shift();
    return seq;
  }

  private receive(chunk: Buffer): void {
    for (const ch of chunk.toString('latin1')) {
      if (ch === '$') this.rx = '$';
      else if (ch === '\n') {
        const text = this.rx.endsWith('\r') ? this.rx.slice(0, -1) : this.rx;
        this.rx = '';
        void this.command(text);
      } else if (this.rx.length > 0) {
        this.rx += ch;
        if (this.rx.length > 82) this.rx = '';
      }
    }
  }

  private async command(text: string): Promise<void> {
    if (!this.docked) {
      this.ignored++;
      return;
    }
    const m = /^\$([^*$]*)\*([0-9A-Fa-f]{2})$/.exec(text);
    if (!m || text.length > 80) {
      this.ignored++;
      return;
    }
    const [, body = '', sum = ''] = m;
    if (xor(body) !== sum.toUpperCase()) return this.send(line('ERR,CHK'));
    this.heard.push(body);
    const [name, ...args] = body.split(',');
    const refusal = this.refuse[name as keyof typeof this.refuse];
    if (refusal) return this.send(line(`ERR,${refusal}`));
    switch (name) {
      case 'INFO':
        if (args.length !== 0) return this.send(line('ERR,ARG'));
        return this.send(line(`INFO,${this.id},${this.firmware},${this.brokenClock ?? this.clock()},${this.first},${this.last}`));
      case 'READ':
        return this.read(args);
      case 'TIME': {
        const local = args.length === 1 ? readTime(args[0] ?? '') : null;
        if (local === null) return this.send(line('ERR,ARG'));
        this.clockErrorMs = local - (this.opts.now() + this.zoneOffsetMs);
        this.brokenClock = null;
        return this.send(line('OK'));
      }
      case 'CLEAR': {
        const upTo = args.length === 1 && seqText.test(args[0] ?? '') ? Number(args[0]) : NaN;
        if (!(upTo >= 1) || upTo > this.lastSeq) return this.send(line('ERR,ARG'));
        this.records = this.records.filter((r) => r.seq > upTo);
        return this.send(line('OK'));
      }
      default:
        return this.send(line('ERR,CMD'));
    }
  }

  private async read(args: string[]): Promise<void> {
    if (args.length < 1 || args.length > 2 || !args.every((a) => seqText.test(a))) return this.send(line('ERR,ARG'));
    const from = Number(args[0]);
    const max = args[1] === undefined ? Infinity : Number(args[1]);
    if (from < 1 || from > 4_294_967_295 || max < 1 || max > 65_535) return this.send(line('ERR,ARG'));
    const out: string[] = [];
    let count = 0;
    for (const r of this.records) {
      if (r.seq < from) continue;
      if (count >= max) break;
      count++;
      out.push(this.recordLine(r));
    }
    out.push(line(`END,${count}`));
    await this.send(out.join(''));
  }

  private recordLine(r: Stored): string {
    const text = line(`REC,${r.seq},${r.tag},${r.time}`);
    const damage = this.damages.get(r.seq);
    if (!damage) return text;
    if (!damage.always) this.damages.delete(r.seq);
    switch (damage.how) {
      case 'checksum':
        // One digit of the time changed on the wire: the checksum no longer matches.
        return text.replace(/(\d)(\*)/, (_m, d: string, star: string) => `${(Number(d) + 1) % 10}${star}`);
      case 'truncate':
        return `${text.slice(0, 20)}\r\n`;
      case 'drop':
        return '';
      case 'noise':
        return `\u00ff\u0000${text.slice(3)}`;
    }
  }

  private async send(text: string): Promise<void> {
    const port = this.port;
    if (!port || !this.docked || text.length === 0) return;
    const bytes = Buffer.from(text, 'latin1');
    await new Promise<void>((resolve) => port.write(bytes, () => port.drain(() => resolve())));
  }
}
