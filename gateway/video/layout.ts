// Where footage lives on disk: segment paths by camera and UTC time, the staging area, and paths that cannot escape.
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, GuardpostError } from '../core/errors.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** recordings/<camera>/<YYYY-MM-DD>/<HH>/<MM.SS>.mp4, in UTC (DESIGN.md), relative to the recordings directory. */
export function segmentPath(camera: string, startMs: number): string {
  const d = new Date(startMs);
  return join(camera, `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`, pad(d.getUTCHours()), `${pad(d.getUTCMinutes())}.${pad(d.getUTCSeconds())}.mp4`);
}

/** ffmpeg writes each segment here first (same filesystem, so the move into place is a rename). */
export function stagingDir(recordingsDir: string, camera: string): string {
  return join(recordingsDir, '.incoming', camera);
}

/** The strftime pattern ffmpeg names staged segments with (ffmpeg runs with TZ=UTC). */
export const stagingPattern = '%Y%m%dT%H%M%S.mp4';

/** The UTC start time a staged segment's name carries, or null when the name is not one of ours. */
export function stagedStart(name: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.mp4$/.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Resolve a path relative to a root and refuse anything that would land outside it (../, absolute
 * paths, NUL): every file the API touches goes through here.
 */
export function inside(root: string, relativePath: string): string {
  if (relativePath.includes('\0') || isAbsolute(relativePath)) throw outside();
  const base = resolve(root);
  const full = resolve(base, relativePath);
  const rel = relative(base, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) throw outside();
  return full;
}

function outside(): GuardpostError {
  return new GuardpostError(ErrorCode.BadRequest, 'that path is not inside the recordings directory');
}
