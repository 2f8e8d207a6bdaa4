// The fragmented-MP4 splitter on bytes captured from ffmpeg: any chunking, the codec string, and garbage.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../../gateway/core/paths.js';
import { Fmp4Error, Fmp4Splitter, playableByMse, readInit, startsWithSync, type Fmp4Part } from '../../../../gateway/video/live/fmp4.js';
import { prng } from '../../../helpers/prng.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'video');
const sub = readFileSync(join(fixtures, 'live-sub.mp4'));
const h265Init = readFileSync(join(fixtures, 'live-h265-init.mp4'));

/** The top-level boxes, walked independently of the splitter. */
function topBoxes(buf: Buffer): { type: string; start: number; size: number }[] {
  const out = [];
  for (let o = 0; o + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(o);
    out.push({ type: buf.toString('latin1', o + 4, o + 8), start: o, size });
    o += size;
  }
  return out;
}

function box(type: string, body: Buffer | number[] = []): Buffer {
  const b = Buffer.from(body);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + b.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, b]);
}

function feed(splitter: Fmp4Splitter, bytes: Buffer, sizes: () => number): Fmp4Part[] {
  const parts: Fmp4Part[] = [];
  for (let o = 0; o < bytes.length; ) {
    const n = Math.max(1, sizes());
    parts.push(...splitter.push(bytes.subarray(o, o + n)));
    o += n;
  }
  return parts;
}

const initOf = (buf: Buffer) => {
  const boxes = topBoxes(buf);
  const moov = boxes.find((b) => b.type === 'moov')!;
  return buf.subarray(0, moov.start + moov.size);
};

function ffprobe(file: string): Record<string, string> {
  const out = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_tag_string,profile,level,width,height', '-of', 'default=nw=1', file], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return Object.fromEntries(out.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

describe('Fmp4Splitter on a capture of the /sub stream', () => {
  const boxes = topBoxes(sub);
  const whole = new Fmp4Splitter().push(sub);

  it('yields the init segment once, then one fragment per moof+mdat, byte for byte', () => {
    expect(boxes.slice(0, 2).map((b) => b.type)).toEqual(['ftyp', 'moov']);
    const moofs = boxes.filter((b) => b.type === 'moof');
    expect(moofs.length).toBeGreaterThanOrEqual(2);
    expect(whole[0]!.kind).toBe('init');
    expect(whole[0]!.data.equals(initOf(sub))).toBe(true);
    const fragments = whole.slice(1);
    expect(fragments.every((p) => p.kind === 'fragment')).toBe(true);
    expect(fragments).toHaveLength(moofs.length);
    fragments.forEach((f, i) => {
      const moof = moofs[i]!;
      const mdat = boxes[boxes.indexOf(moof) + 1]!;
      expect(mdat.type).toBe('mdat');
      expect(f.data.equals(sub.subarray(moof.start, mdat.start + mdat.size))).toBe(true);
    });
  });

  it('gives the same parts whatever the chunking, down to single bytes', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rnd = prng(seed);
      const maxChunk = [1, 7, 300, 5000, 70_000][seed % 5]!;
      const parts = feed(new Fmp4Splitter(), sub, () => Math.floor(rnd() * maxChunk) + 1);
      expect(parts.map((p) => p.kind)).toEqual(whole.map((p) => p.kind));
      parts.forEach((p, i) => expect(p.data.equals(whole[i]!.data), `seed ${seed} part ${i}`).toBe(true));
    }
  });

  it('reads the codec, mime and size ffprobe reports', () => {
    const probe = ffprobe(join(fixtures, 'live-sub.mp4'));
    const init = whole[0]!;
    if (init.kind !== 'init') throw new Error('no init');
    // Constrained Baseline is profile_idc 66 (0x42) with constraint_set0+1 (0xC0); the level is the idc.
    expect(probe.profile).toBe('Constrained Baseline');
    const level = Number(probe.level).toString(16).toUpperCase().padStart(2, '0');
    expect(init.info.codec).toBe(`${probe.codec_tag_string}.42C0${level}`);
    expect(init.info.mime).toBe(`video/mp4; codecs="${init.info.codec}"`);
    expect([init.info.width, init.info.height]).toEqual([Number(probe.width), Number(probe.height)]);
    expect(playableByMse(init.info.codec)).toBe(true);
  });

  it('names HEVC by ISO/IEC 14496-15 annex E and calls it unplayable', () => {
    const probe = ffprobe(join(fixtures, 'live-h265-init.mp4'));
    const moov = topBoxes(h265Init).find((b) => b.type === 'moov')!;
    const info = readInit(h265Init.subarray(moov.start, moov.start + moov.size));
    // hvcC here: profile_idc 4 (Rext), compatibility flag 4 only (bit-reversed: 0x10), main tier, level 63, constraints 98 08.
    expect(probe.profile).toBe('Rext');
    expect(info.codec).toBe(`${probe.codec_tag_string}.4.10.L${probe.level}.98.8`);
    expect([info.width, info.height]).toEqual([Number(probe.width), Number(probe.height)]);
    expect(playableByMse(info.codec)).toBe(false);
    const parts = new Fmp4Splitter().push(h265Init);
    expect(parts).toHaveLength(1);
  });

  it('sees each fragment start on a key frame, and a doctored one not', () => {
    const init = whole[0]!;
    if (init.kind !== 'init') throw new Error('no init');
    for (const f of whole.slice(1)) expect(startsWithSync(f.data, init.info.defaultSampleFlags)).toBe(true);
    const doctored = Buffer.from(whole[1]!.data);
    const trun = doctored.indexOf('trun');
    const flags = doctored.readUInt32BE(trun + 4) & 0xffffff;
    // first_sample_flags present: set sample_is_non_sync_sample in it.
    expect(flags & 0x4).toBe(0x4);
    const at = trun + 4 + 8 + (flags & 0x1 ? 4 : 0);
    doctored.writeUInt32BE(doctored.readUInt32BE(at) | 0x10000, at);
    expect(startsWithSync(doctored, init.info.defaultSampleFlags)).toBe(false);
    expect(startsWithSync(Buffer.from('not a fragment at all'), 0)).toBe(false);
  });

  it('holds only the incomplete box of a cut stream', () => {
    const cut = boxes.find((b) => b.type === 'mdat')!;
    const splitter = new Fmp4Splitter();
    const parts = splitter.push(sub.subarray(0, cut.start + 100));
    expect(parts.map((p) => p.kind)).toEqual(['init']);
    // The pending moof plus the mdat's first 100 bytes.
    expect(splitter.pendingBytes).toBe(cut.start + 100 - parts[0]!.data.length);
  });

  it('groups styp/prft before a moof into its fragment and drops free/mfra', () => {
    const init = whole[0]!.data;
    const fragment = whole[1]!.data;
    const styp = box('styp', Buffer.from('msdh\0\0\0\0msdhmsix', 'latin1'));
    const prft = box('prft', new Array(16).fill(0));
    const parts = new Fmp4Splitter().push(Buffer.concat([init, box('free', [1, 2, 3]), styp, prft, fragment, box('mfra', [0, 0, 0, 0])]));
    expect(parts.map((p) => p.kind)).toEqual(['init', 'fragment']);
    expect(parts[1]!.data.equals(Buffer.concat([styp, prft, fragment]))).toBe(true);
  });
});

describe('Fmp4Splitter on garbage', () => {
  const init = initOf(sub);

  const fails = (bytes: Buffer, message: RegExp, opts?: { maxBoxBytes?: number }) => {
    const splitter = new Fmp4Splitter(opts);
    expect(() => splitter.push(bytes)).toThrow(message);
    // Failed for good: the framing is lost, so later bytes cannot be trusted either.
    expect(() => splitter.push(init)).toThrow(Fmp4Error);
    expect(splitter.pendingBytes).toBe(0);
  };

  it('refuses an absurd box size at once instead of waiting for it', () => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(0xfffffff0, 0);
    head.write('mdat', 4, 'latin1');
    fails(Buffer.concat([init, head]), /mdat box of 4294967280 bytes exceeds/);
    const large = Buffer.alloc(16);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(1n << 40n, 8);
    fails(Buffer.concat([init, large]), /exceeds the/);
    fails(sub, /exceeds the 1000-byte limit/, { maxBoxBytes: 1000 });
  });

  it('refuses sizes smaller than a header, and boxes running to the end of the stream', () => {
    const tiny = Buffer.alloc(8);
    tiny.writeUInt32BE(4, 0);
    tiny.write('moof', 4, 'latin1');
    fails(Buffer.concat([init, tiny]), /claims 4 bytes/);
    const toEnd = Buffer.from(tiny);
    toEnd.writeUInt32BE(0, 0);
    fails(Buffer.concat([init, toEnd]), /end of the file/);
  });

  it('refuses boxes out of order', () => {
    const fragment = new Fmp4Splitter().push(sub)[1]!.data;
    const moof = fragment.subarray(0, fragment.readUInt32BE(0));
    const mdat = fragment.subarray(moof.length);
    fails(fragment, /expected ftyp then moov/);
    fails(Buffer.concat([init, moof, moof]), /moof without its mdat/);
    fails(Buffer.concat([init, mdat]), /mdat without a moof/);
    fails(Buffer.concat([init, init]), /second ftyp/);
    fails(Buffer.concat([init, box('abcd', [1])]), /unexpected abcd/);
  });

  it('refuses a moov whose inner sizes lie', () => {
    const bad = Buffer.from(init);
    const trak = bad.indexOf('trak') - 4;
    bad.writeUInt32BE(0x7fffffff, trak);
    fails(bad, /does not fit its parent/);
    const noVideo = Buffer.from(init);
    const hdlr = noVideo.indexOf('vide');
    noVideo.write('soun', hdlr, 'latin1');
    fails(noVideo, /no video track/);
  });

  it('fails on random bytes, bounded, for every seed', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const junk = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)));
      const splitter = new Fmp4Splitter();
      expect(() => feed(splitter, junk, () => Math.floor(rnd() * 64) + 1), `seed ${seed}`).toThrow(Fmp4Error);
    }
  });

  it('fails on random bytes after a good init, never holding more than the limit', () => {
    const limit = 1 << 20;
    for (let seed = 1; seed <= 50; seed++) {
      const rnd = prng(seed);
      const splitter = new Fmp4Splitter({ maxBoxBytes: limit });
      splitter.push(init);
      let failure: unknown;
      // A junk header may pass for a box under the limit: the splitter waits for that box, then judges the next.
      for (let pushed = 0; pushed < 8 * limit && !failure; pushed += 4096) {
        try {
          splitter.push(Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256))));
        } catch (err) {
          failure = err;
        }
        expect(splitter.pendingBytes, `seed ${seed}`).toBeLessThanOrEqual(limit);
      }
      expect(failure, `seed ${seed}`).toBeInstanceOf(Fmp4Error);
    }
  });
});
