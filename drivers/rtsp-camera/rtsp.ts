// RTSP 1.0 (RFC 2326) requests and responses as bytes, and the SDP (RFC 4566) a DESCRIBE answers: pure; the parsers never throw.

export interface RtspResponse {
  version: string;
  status: number;
  reason: string;
  /** In the order received, names lower-cased; a header may repeat (WWW-Authenticate does). */
  headers: [string, string][];
  body: Buffer;
}

export type RtspParse = { kind: 'incomplete' } | { kind: 'response'; response: RtspResponse; rest: Buffer } | { kind: 'error'; reason: string };

/** Header block and body limits: a camera's answer to OPTIONS or DESCRIBE is a few hundred bytes to a few KB. */
export const maxHeaderBytes = 16 * 1024;
export const maxBodyBytes = 64 * 1024;

const headerEnd = Buffer.from('\r\n\r\n');

/** One response from the front of `buf`; 'incomplete' until all of it has arrived. */
export function parseRtspResponse(buf: Buffer): RtspParse {
  const prefix = buf.subarray(0, 5).toString('latin1');
  if (!'RTSP/'.startsWith(prefix)) return { kind: 'error', reason: `not an RTSP response (starts "${printable(buf.subarray(0, 16))}")` };
  const end = buf.indexOf(headerEnd);
  if (end < 0) return buf.length > maxHeaderBytes ? { kind: 'error', reason: `header block over ${maxHeaderBytes} bytes` } : { kind: 'incomplete' };
  if (end > maxHeaderBytes) return { kind: 'error', reason: `header block over ${maxHeaderBytes} bytes` };
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = /^RTSP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!statusLine) return { kind: 'error', reason: `bad status line "${printable(Buffer.from(lines[0] ?? '', 'latin1'))}"` };
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // Obsolete line folding: a continuation of the previous header.
      const last = headers[headers.length - 1] as [string, string];
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', reason: `bad header line "${printable(Buffer.from(line, 'latin1'))}"` };
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const lengthText = headers.find(([name]) => name === 'content-length')?.[1];
  const length = lengthText === undefined ? 0 : Number(lengthText);
  if (!Number.isInteger(length) || length < 0 || !/^\d+$/.test(lengthText ?? '0')) return { kind: 'error', reason: `bad Content-Length "${lengthText}"` };
  if (length > maxBodyBytes) return { kind: 'error', reason: `body of ${length} bytes is over ${maxBodyBytes}` };
  const bodyStart = end + headerEnd.length;
  if (buf.length < bodyStart + length) return { kind: 'incomplete' };
  return {
    kind: 'response',
    response: { version: statusLine[1] as string, status: Number(statusLine[2]), reason: statusLine[3] ?? '', headers, body: Buffer.from(buf.subarray(bodyStart, bodyStart + length)) },
    rest: Buffer.from(buf.subarray(bodyStart + length)),
  };
}

/** The first value of a header (name in any case). */
export function headerOf(res: RtspResponse, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return res.headers.find(([n]) => n === wanted)?.[1];
}

export function headersOf(res: RtspResponse, name: string): string[] {
  const wanted = name.toLowerCase();
  return res.headers.filter(([n]) => n === wanted).map(([, v]) => v);
}

/** A request without a body; `url` must carry no credentials (they go in Authorization). */
export function buildRtspRequest(method: string, url: string, cseq: number, headers: Record<string, string> = {}): Buffer {
  const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${cseq}`];
  for (const [name, value] of Object.entries(headers)) {
    // A CR or LF in a value would let it smuggle another header or request.
    if (/[\r\n]/.test(value) || /[\r\n:]/.test(name)) throw new Error(`RTSP header ${name} carries a line break`);
    lines.push(`${name}: ${value}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

function printable(buf: Buffer): string {
  return buf.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

export interface SdpRtpMap {
  encoding: string;
  clockRate: number;
  channels?: number;
}

export interface SdpMedia {
  type: string;
  port: number;
  protocol: string;
  formats: string[];
  rtpmap: Record<string, SdpRtpMap>;
  fmtp: Record<string, string>;
  control?: string;
  framerate?: number;
}

export interface Sdp {
  sessionName?: string;
  media: SdpMedia[];
}

export type SdpParse = { ok: true; sdp: Sdp } | { ok: false; reason: string };

/** Parses what a DESCRIBE answers. Lines it does not know are ignored, as RFC 4566 asks. */
export function parseSdp(text: string): SdpParse {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (!/^v=0\s*$/.test(lines[0] ?? '')) return { ok: false, reason: 'SDP does not start with v=0' };
  const sdp: Sdp = { media: [] };
  let media: SdpMedia | null = null;
  for (const line of lines) {
    if (line.length < 2 || line[1] !== '=') return { ok: false, reason: `bad SDP line "${line.slice(0, 40)}"` };
    const type = line[0];
    const value = line.slice(2).trim();
    if (type === 's' && !media) sdp.sessionName = value;
    else if (type === 'm') {
      const m = /^(\S+) (\d+)(?:\/\d+)? (\S+)(?: (.*))?$/.exec(value);
      if (!m) return { ok: false, reason: `bad media line "m=${value.slice(0, 40)}"` };
      media = { type: m[1] as string, port: Number(m[2]), protocol: m[3] as string, formats: (m[4] ?? '').split(' ').filter(Boolean), rtpmap: {}, fmtp: {} };
      sdp.media.push(media);
    } else if (type === 'a' && media) {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const arg = colon < 0 ? '' : value.slice(colon + 1);
      if (name === 'rtpmap') {
        const r = /^(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(arg);
        if (r) media.rtpmap[r[1] as string] = { encoding: r[2] as string, clockRate: Number(r[3]), ...(r[4] ? { channels: Number(r[4]) } : {}) };
      } else if (name === 'fmtp') {
        const f = /^(\d+) (.*)$/.exec(arg);
        if (f) media.fmtp[f[1] as string] = (f[2] as string).trim();
      } else if (name === 'control') media.control = arg;
      else if (name === 'framerate') {
        const fps = Number(arg);
        if (Number.isFinite(fps) && fps > 0) media.framerate = fps;
      }
    }
  }
  return { ok: true, sdp };
}

/** RTP encoding names (RFC 6184, 7798, 2435, 6416) and the static JPEG payload type 26 as codec names. */
const codecNames: Record<string, string> = { H264: 'h264', H265: 'h265', HEVC: 'h265', JPEG: 'mjpeg', 'MP4V-ES': 'mpeg4' };

export interface VideoInfo {
  codec?: string;
  fps?: number;
  width?: number;
  height?: number;
}

/** The first video medium's codec (lower case: h264, h265, mjpeg, mpeg4, else the RTP name lower-cased), frame rate and, for H.264, picture size. */
export function videoInfo(sdp: Sdp): VideoInfo {
  const video = sdp.media.find((m) => m.type === 'video');
  if (!video) return {};
  const format = video.formats[0];
  const map = format === undefined ? undefined : video.rtpmap[format];
  const name = map?.encoding.toUpperCase() ?? (format === '26' ? 'JPEG' : undefined);
  const codec = name === undefined ? undefined : (codecNames[name] ?? name.toLowerCase());
  // H.264 announces its SPS in sprop-parameter-sets (RFC 6184): the picture size for free.
  const sprop = codec === 'h264' && format !== undefined ? /(?:^|;)\s*sprop-parameter-sets=([^,;]+)/.exec(video.fmtp[format] ?? '')?.[1] : undefined;
  const size = sprop ? h264SpsSize(Buffer.from(sprop, 'base64')) : null;
  return { ...(codec ? { codec } : {}), ...(video.framerate ? { fps: video.framerate } : {}), ...(size ?? {}) };
}

/** Reads an H.264 SPS bit by bit (ITU-T H.264 7.3.2.1.1), emulation-prevention bytes already removed. */
class BitReader {
  private bit = 0;

  constructor(private readonly bytes: Buffer) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new RangeError('SPS ends early');
      v = v * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError('bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

const highProfiles = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** The picture size an H.264 SPS NAL unit (as in sprop-parameter-sets) declares, cropping applied; null if it does not parse. */
export function h264SpsSize(nal: Buffer): { width: number; height: number } | null {
  if (nal.length < 4 || ((nal[0] as number) & 0x1f) !== 7) return null;
  // Drop the emulation-prevention byte of every 00 00 03 sequence.
  const rbsp: number[] = [];
  for (let i = 1; i < nal.length; i++) {
    if (i >= 3 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0 && rbsp.length >= 2 && rbsp[rbsp.length - 1] === 0 && rbsp[rbsp.length - 2] === 0) continue;
    rbsp.push(nal[i] as number);
  }
  try {
    const r = new BitReader(Buffer.from(rbsp));
    const profile = r.u(8);
    r.u(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chroma = 1;
    if (highProfiles.has(profile)) {
      chroma = r.ue();
      if (chroma === 3) r.u(1);
      r.ue();
      r.ue();
      r.u(1);
      if (r.u(1) === 1) {
        for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
          if (r.u(1) === 0) continue;
          const size = i < 6 ? 16 : 64;
          let last = 8;
          let next = 8;
          for (let j = 0; j < size && next !== 0; j++) {
            next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.u(1);
      r.se();
      r.se();
      const cycle = r.ue();
      for (let i = 0; i < cycle; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.u(1);
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.u(1);
    if (frameMbsOnly === 0) r.u(1);
    r.u(1);
    let crop = [0, 0, 0, 0];
    if (r.u(1) === 1) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
    const subWidth = chroma === 1 || chroma === 2 ? 2 : 1;
    const subHeight = chroma === 1 ? 2 : 1;
    const cropX = chroma === 0 ? 1 : subWidth;
    const cropY = (chroma === 0 ? 1 : subHeight) * (2 - frameMbsOnly);
    const [left, right, top, bottom] = crop as [number, number, number, number];
    const width = widthMbs * 16 - (left + right) * cropX;
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - (top + bottom) * cropY;
    return width > 0 && height > 0 ? { width, height } : null;
  } catch {
    return null;
  }
}
