// Cuts a clip from recorded segments by time range (stream copy, no re-encode) into one playable MP4.
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scrubUrlCredentials } from '../core/mask.js';
import type { SegmentRow } from '../store/video.js';

export interface ClipRange {
  /** The footage the clip holds (within what was asked; cut on key frames, so the start may be a little earlier). */
  start: number;
  end: number;
  bytes: number;
  /** Missing footage inside the range. */
  gaps: { start: number; end: number }[];
}

/**
 * Concatenate the segments overlapping [start, end) into `out`, trimmed with the concat demuxer's
 * inpoint/outpoint. Throws when no footage covers the range.
 */
export async function cutClip(opts: { ffmpeg: string; recordingsDir: string; segments: readonly SegmentRow[]; start: number; end: number; out: string }): Promise<ClipRange> {
  const { segments, start, end } = opts;
  if (segments.length === 0) throw new Error('no footage in that range');
  const lines = ['ffconcat version 1.0'];
  const gaps: ClipRange['gaps'] = [];
  let cursor = start;
  for (const seg of segments) {
    // Under half a second between segments is a recorder restart's seam, not missing footage worth showing.
    if (seg.start_ms - cursor > 500) gaps.push({ start: cursor, end: Math.min(seg.start_ms, end) });
    const file = join(opts.recordingsDir, seg.path);
    lines.push(`file '${file.replace(/'/g, "'\\''")}'`);
    if (start > seg.start_ms) lines.push(`inpoint ${((start - seg.start_ms) / 1000).toFixed(3)}`);
    if (end < seg.end_ms) lines.push(`outpoint ${((end - seg.start_ms) / 1000).toFixed(3)}`);
    cursor = Math.max(cursor, seg.end_ms);
  }
  if (end - cursor > 500) gaps.push({ start: cursor, end });
  mkdirSync(dirname(opts.out), { recursive: true });
  const list = `${opts.out}.ffconcat`;
  writeFileSync(list, lines.join('\n') + '\n');
  try {
    await run(opts.ffmpeg, [
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
      '-f', 'concat', '-safe', '0', '-i', list,
      '-map', '0:v:0', '-c', 'copy',
      // faststart: the index first, so a browser can seek before the whole file has arrived.
      '-movflags', '+faststart',
      opts.out,
    ]);
  } finally {
    unlinkSync(list);
  }
  return {
    start: Math.max(start, segments[0]!.start_ms),
    end: Math.min(end, segments.at(-1)!.end_ms),
    bytes: statSync(opts.out).size,
    gaps,
  };
}

function run(ffmpeg: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (err) => reject(new Error(`ffmpeg could not start: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg could not cut the clip: ${scrubUrlCredentials(stderr.trim()) || `exit ${code}`}`))));
  });
}
