// What the video screens share: the camera list kept current by the live socket, spans in the site's zone, error text.
import type { ApiError } from '../api.ts';
import type { CameraView } from '../contracts.ts';
import { errorText } from '../gate/action.ts';
import { useLive } from '../gate/context.ts';
import { localDate } from '../gate/rules.ts';
import type { Lang, MsgKey, Translate } from '../i18n.ts';
import { useQuery, type Query } from '../patrol/context.ts';
import { hm } from '../patrol/status.ts';
import type { VideoApi } from './videoApi.ts';

export function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.map((x) => (x.id === item.id ? item : x)) : [...list, item];
}

/** The cameras, loaded now and every minute, each one replaced as soon as the socket says it changed. */
export function useCameras(api: VideoApi): Query<CameraView[]> {
  const q = useQuery('cameras', () => api.cameras(), 60_000);
  useLive((msg) => {
    if (msg.type === 'video.camera') q.set((list) => upsert(list ?? [], msg.camera));
  });
  return q;
}

export const cameraName = (cameras: readonly CameraView[] | null, id: string) => cameras?.find((c) => c.id === id)?.name ?? id;

/** "HH:mm–HH:mm" on the day, with the date in front when the span is not today (or crosses midnight). */
export function spanText(start: number, end: number, lang: Lang, tz: string | undefined, now = Date.now()): string {
  const day = localDate(start, tz);
  const range = `${hm(start, lang, tz)}–${hm(end, lang, tz)}`;
  if (day === localDate(now, tz) && localDate(end - 1, tz) === day) return range;
  return localDate(end - 1, tz) === day ? `${day} ${range}` : `${day} ${hm(start, lang, tz)} – ${localDate(end - 1, tz)} ${hm(end, lang, tz)}`;
}

/** Bytes as GB (or TB from 1000 GB), one decimal: what a supervisor reads on a disk label. */
export function sizeText(bytes: number): string {
  const gb = bytes / 1e9;
  return gb >= 1000 ? `${(gb / 1000).toFixed(1)} TB` : `${gb.toFixed(gb < 10 ? 2 : 1)} GB`;
}

// The recorder writes a gap's cause in English words (some with a detail after a colon): the known ones in the reader's language.
const gapCauses: [RegExp, MsgKey][] = [
  [/^camera offline/i, 'gapReason.offline'],
  [/^recorder restarted/i, 'gapReason.restart'],
  [/^recorder not running/i, 'gapReason.gateway-down'],
  [/^no footage/i, 'gapReason.no-footage'],
  [/^disk full/i, 'gapReason.disk-full'],
];

export function gapReasonText(t: Translate, reason: string): string {
  const hit = gapCauses.find(([re]) => re.test(reason));
  return hit ? t(hit[1]) : reason;
}

/** Why a video list or action failed, in the reader's language. */
export function videoErrorText(err: ApiError, t: Translate): string {
  if (err.status === 403 && !err.problem) return t('videoForbidden');
  if (err.status === 404 && err.code === '') return t('videoUnavailable');
  return errorText(err, t);
}
