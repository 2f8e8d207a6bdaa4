// Reads a media file's duration, codec and size with ffprobe (found beside the configured ffmpeg).
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';

export interface MediaInfo {
  durationMs: number;
  codec: string | null;
  width: number | null;
  height: number | null;
}

/** ffprobe beside the configured ffmpeg: /usr/bin/ffmpeg -> /usr/bin/ffprobe, ffmpeg -> ffprobe on PATH. */
export function ffprobeFor(ffmpeg: string): string {
  const name = basename(ffmpeg).replace(/ffmpeg/, 'ffprobe');
  return ffmpeg.includes('/') ? join(dirname(ffmpeg), name) : name;
}

/** Null when the file is not readable media. Synchronous: used at start-up recovery and by tools, not per request. */
export function probeMedia(ffmpeg: string, file: string): MediaInfo | null {
  const out = spawnSync(ffprobeFor(ffmpeg), ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,width,height', '-of', 'json', file], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (out.status !== 0) return null;
  try {
    const parsed = JSON.parse(out.stdout) as { format?: { duration?: string }; streams?: { codec_name?: string; width?: number; height?: number }[] };
    const duration = Number(parsed.format?.duration);
    const video = parsed.streams?.find((s) => s.width !== undefined) ?? parsed.streams?.[0];
    if (!Number.isFinite(duration)) return null;
    return { durationMs: Math.round(duration * 1000), codec: video?.codec_name ?? null, width: video?.width ?? null, height: video?.height ?? null };
  } catch {
    return null;
  }
}
