// Splits a fragmented MP4 byte stream (ffmpeg's stdout) into its init segment and media fragments, and reads the codec for MSE.

/** What the page needs before it creates its SourceBuffer. */
export interface InitInfo {
  /** RFC 6381 codec, e.g. avc1.42C01E or hev1.1.6.L93.B0; the bare sample entry type when unknown. */
  codec: string;
  /** The MSE mime type, e.g. video/mp4; codecs="avc1.42C01E". */
  mime: string;
  /** Display size from tkhd, or the coded size from the sample entry; null when neither says. */
  width: number | null;
  height: number | null;
  /** trex default_sample_flags: what a fragment's samples are when it says nothing itself. */
  defaultSampleFlags: number;
}

export type Fmp4Part = { kind: 'init'; data: Buffer; info: InitInfo } | { kind: 'fragment'; data: Buffer };

/** The stream is not fragmented MP4 as ffmpeg writes it (or is corrupt): the splitter cannot go on. */
export class Fmp4Error extends Error {
  override name = 'Fmp4Error';
}

// A 4K camera's 4-second GOP at 16 Mbit/s is about 8 MB in one mdat; anything far beyond is garbage.
const defaultMaxBoxBytes = 32 * 1024 * 1024;

// Boxes that may stand before a moof and belong to its fragment (CMAF segment type, producer time, index, events).
const fragmentPrefix = new Set(['styp', 'prft', 'sidx', 'emsg']);
// Boxes a live player never needs: padding, and the random-access index ffmpeg writes on exit.
const ignored = new Set(['free', 'skip', 'mfra', 'uuid', 'meta']);

/**
 * Incremental: push() any chunk as it comes (boxes split across chunks or several in one) and get the
 * complete parts it finished. Holds at most one box in memory; throws Fmp4Error on anything that is not
 * a box stream (after which it stays failed: the stream has lost its framing and cannot resync).
 */
export class Fmp4Splitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private next: { size: number; type: string } | null = null;
  private init: Buffer[] | null = [];
  private pending: Buffer[] = [];
  private sawMoof = false;
  private failed: Fmp4Error | null = null;
  private readonly maxBoxBytes: number;

  constructor(opts: { maxBoxBytes?: number } = {}) {
    this.maxBoxBytes = opts.maxBoxBytes ?? defaultMaxBoxBytes;
  }

  push(chunk: Buffer): Fmp4Part[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const parts: Fmp4Part[] = [];
    try {
      for (;;) {
        // The header is read once per box, not once per chunk: a big mdat arrives in many chunks.
        if (!this.next) {
          const header = this.peek(16);
          if (header.length < 8) break;
          const { size, type } = boxHeader(header, this.maxBoxBytes);
          if (size === undefined) break;
          this.next = { size, type };
        }
        if (this.buffered < this.next.size) break;
        const { size, type } = this.next;
        this.next = null;
        this.box(type, this.take(size), parts);
      }
    } catch (err) {
      this.failed = err instanceof Fmp4Error ? err : new Fmp4Error(String(err));
      this.chunks = [];
      this.buffered = 0;
      this.pending = [];
      this.next = null;
      throw this.failed;
    }
    return parts;
  }

  /** Bytes held waiting for the rest of a box. */
  get pendingBytes(): number {
    return this.buffered + this.pending.reduce((n, b) => n + b.length, 0);
  }

  private box(type: string, data: Buffer, parts: Fmp4Part[]): void {
    if (this.init) {
      if (type === 'ftyp' && this.init.length === 0) this.init.push(data);
      else if (type === 'moov' && this.init.length === 1) {
        this.init.push(data);
        parts.push({ kind: 'init', data: Buffer.concat(this.init), info: readInit(data) });
        this.init = null;
      } else if (!ignored.has(type)) throw new Fmp4Error(`expected ftyp then moov at the start, got ${type}`);
      return;
    }
    if (type === 'moof') {
      if (this.sawMoof) throw new Fmp4Error('moof without its mdat');
      this.sawMoof = true;
      this.pending.push(data);
    } else if (type === 'mdat') {
      if (!this.sawMoof) throw new Fmp4Error('mdat without a moof');
      this.pending.push(data);
      parts.push({ kind: 'fragment', data: Buffer.concat(this.pending) });
      this.pending = [];
      this.sawMoof = false;
    } else if (fragmentPrefix.has(type) && !this.sawMoof) {
      this.pending.push(data);
      // A stream of prefixes without fragments would otherwise grow without bound.
      if (this.pendingBytes > this.maxBoxBytes) throw new Fmp4Error('boxes pile up without a fragment');
    } else if (type === 'ftyp' || type === 'moov') {
      throw new Fmp4Error(`a second ${type}: the stream restarted inside one connection`);
    } else if (!ignored.has(type)) {
      throw new Fmp4Error(`unexpected ${type} between fragments`);
    }
  }

  /** Up to n bytes from the front without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length >= n || this.chunks.length === 1) return first.subarray(0, n);
    return Buffer.concat(this.chunks, Math.min(n, this.buffered)).subarray(0, n);
  }

  private take(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        out.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        out.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    this.buffered -= n;
    // Copy: a subarray would pin ffmpeg's whole 64 KB read buffer for as long as a viewer holds the part.
    return Buffer.concat(out, n);
  }
}

/** size undefined: the 64-bit size is not all here yet. */
function boxHeader(h: Buffer, max: number): { size: number | undefined; type: string } {
  const size32 = h.readUInt32BE(0);
  const type = h.toString('latin1', 4, 8);
  if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Fmp4Error(`not an MP4 box: type bytes ${h.subarray(4, 8).toString('hex')}`);
  let size: number;
  if (size32 === 1) {
    if (h.length < 16) return { size: undefined, type };
    const big = h.readBigUInt64BE(8);
    if (big > BigInt(max)) throw new Fmp4Error(`${type} box of ${big} bytes exceeds the ${max}-byte limit`);
    size = Number(big);
    if (size < 16) throw new Fmp4Error(`${type} box claims ${size} bytes, less than its header`);
  } else if (size32 === 0) {
    throw new Fmp4Error(`${type} box runs to the end of the file, which a live stream has not`);
  } else {
    size = size32;
    if (size < 8) throw new Fmp4Error(`${type} box claims ${size} bytes, less than its header`);
  }
  if (size > max) throw new Fmp4Error(`${type} box of ${size} bytes exceeds the ${max}-byte limit`);
  return { size, type };
}

interface Box {
  type: string;
  /** The payload after the (8- or 16-byte) header. */
  body: Buffer;
}

/** The boxes inside a byte range; bounds-checked, so a corrupt length throws instead of reading past. */
function children(buf: Buffer): Box[] {
  const out: Box[] = [];
  let o = 0;
  while (o + 8 <= buf.length) {
    let size = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    let head = 8;
    if (size === 1) {
      if (o + 16 > buf.length) throw new Fmp4Error(`${type} box truncated`);
      size = Number(buf.readBigUInt64BE(o + 8));
      head = 16;
    } else if (size === 0) size = buf.length - o;
    if (size < head || o + size > buf.length) throw new Fmp4Error(`${type} box of ${size} bytes does not fit its parent`);
    out.push({ type, body: buf.subarray(o + head, o + size) });
    o += size;
  }
  return out;
}

const child = (boxes: Box[], type: string): Box | undefined => boxes.find((b) => b.type === type);

function need(box: Box | undefined, path: string): Box {
  if (!box) throw new Fmp4Error(`moov has no ${path}`);
  return box;
}

function requireLength(buf: Buffer, n: number, what: string): void {
  if (buf.length < n) throw new Fmp4Error(`${what} is ${buf.length} bytes, too short`);
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** The codec and size of the first video track of a moov box (header included). */
export function readInit(moov: Buffer): InitInfo {
  const top = children(children(moov)[0]?.body ?? Buffer.alloc(0));
  const video = top
    .filter((b) => b.type === 'trak')
    .map((t) => children(t.body))
    .find((t) => {
      const hdlr = child(children(child(t, 'mdia')?.body ?? Buffer.alloc(0)), 'hdlr');
      return hdlr !== undefined && hdlr.body.length >= 12 && hdlr.body.toString('latin1', 8, 12) === 'vide';
    });
  if (!video) throw new Fmp4Error('moov has no video track');
  const mdia = children(need(child(video, 'mdia'), 'mdia').body);
  const stbl = children(need(child(children(need(child(mdia, 'minf'), 'minf').body), 'stbl'), 'stbl').body);
  const stsd = need(child(stbl, 'stsd'), 'stsd');
  requireLength(stsd.body, 8, 'stsd');
  const entry = children(stsd.body.subarray(8))[0];
  if (!entry) throw new Fmp4Error('stsd has no sample entry');
  // VisualSampleEntry: 8 bytes SampleEntry, 16 reserved, width and height, then 50 more before its boxes.
  requireLength(entry.body, 78, `${entry.type} sample entry`);
  let width: number | null = entry.body.readUInt16BE(24) || null;
  let height: number | null = entry.body.readUInt16BE(26) || null;
  const tkhd = child(video, 'tkhd');
  if (tkhd && tkhd.body.length >= 84) {
    // Version 1 has 64-bit times and duration: everything after them sits 12 bytes further.
    const at = tkhd.body[0] === 1 ? 88 : 76;
    if (tkhd.body.length >= at + 8) {
      width = (tkhd.body.readUInt32BE(at) >>> 16) || width;
      height = (tkhd.body.readUInt32BE(at + 4) >>> 16) || height;
    }
  }
  const config = children(entry.body.subarray(78));
  const codec = codecString(entry.type, config);
  const trex = child(children(child(top, 'mvex')?.body ?? Buffer.alloc(0)), 'trex');
  const defaultSampleFlags = trex && trex.body.length >= 24 ? trex.body.readUInt32BE(20) : 0;
  return { codec, mime: `video/mp4; codecs="${codec}"`, width, height, defaultSampleFlags };
}

function codecString(entry: string, config: Box[]): string {
  if (entry === 'avc1' || entry === 'avc3') {
    const avcC = child(config, 'avcC');
    if (!avcC) throw new Fmp4Error(`${entry} without avcC`);
    requireLength(avcC.body, 4, 'avcC');
    return `${entry}.${hex2(avcC.body[1]!)}${hex2(avcC.body[2]!)}${hex2(avcC.body[3]!)}`;
  }
  if (entry === 'hev1' || entry === 'hvc1') {
    const hvcC = child(config, 'hvcC');
    if (!hvcC) throw new Fmp4Error(`${entry} without hvcC`);
    requireLength(hvcC.body, 13, 'hvcC');
    // ISO/IEC 14496-15 annex E: profile space letter + idc, compatibility flags bit-reversed, tier + level, constraint bytes.
    const b = hvcC.body;
    const space = ['', 'A', 'B', 'C'][b[1]! >> 6]!;
    const tier = (b[1]! & 0x20) !== 0 ? 'H' : 'L';
    const profile = b[1]! & 0x1f;
    const compat = b.readUInt32BE(2);
    let reversed = 0;
    for (let i = 0; i < 32; i++) if (compat & (1 << i)) reversed |= 1 << (31 - i);
    const constraints = [...b.subarray(6, 12)];
    while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
    return [`${entry}.${space}${profile}`, (reversed >>> 0).toString(16).toUpperCase(), `${tier}${b[12]}`, ...constraints.map((c) => c.toString(16).toUpperCase())].join('.');
  }
  return entry;
}

/** MSE in the browsers the control room runs plays H.264 everywhere; HEVC and MJPEG only on some machines. */
export function playableByMse(codec: string): boolean {
  return /^avc[13]\./.test(codec);
}

// ISO/IEC 14496-12 sample flags: bit 16 is sample_is_non_sync_sample.
const nonSync = 0x00010000;

/**
 * Whether the fragment's first sample is a sync sample (a key frame a decoder can start on): the
 * trun's first_sample_flags, else its first sample's own flags, else tfhd's default, else trex's.
 * False for anything that does not parse as moof+mdat.
 */
export function startsWithSync(fragment: Buffer, trexDefaultFlags: number): boolean {
  try {
    const moof = children(fragment).find((b) => b.type === 'moof');
    const traf = moof && child(children(moof.body), 'traf');
    if (!traf) return false;
    const parts = children(traf.body);
    const tfhd = child(parts, 'tfhd');
    const trun = child(parts, 'trun');
    if (!tfhd || !trun || tfhd.body.length < 8 || trun.body.length < 8) return false;
    let flags = trexDefaultFlags;
    const tf = tfhd.body.readUInt32BE(0) & 0xffffff;
    // tfhd optional fields in order: base offset (8), description index, duration, size, flags (4 each).
    let o = 8 + (tf & 0x1 ? 8 : 0) + (tf & 0x2 ? 4 : 0) + (tf & 0x8 ? 4 : 0) + (tf & 0x10 ? 4 : 0);
    if (tf & 0x20) {
      if (tfhd.body.length < o + 4) return false;
      flags = tfhd.body.readUInt32BE(o);
    }
    const tr = trun.body.readUInt32BE(0) & 0xffffff;
    if (trun.body.readUInt32BE(4) === 0) return false;
    o = 8 + (tr & 0x1 ? 4 : 0);
    if (tr & 0x4) {
      if (trun.body.length < o + 4) return false;
      flags = trun.body.readUInt32BE(o);
    } else if (tr & 0x400) {
      o += (tr & 0x100 ? 4 : 0) + (tr & 0x200 ? 4 : 0);
      if (trun.body.length < o + 4) return false;
      flags = trun.body.readUInt32BE(o);
    }
    return (flags & nonSync) === 0;
  } catch {
    return false;
  }
}
