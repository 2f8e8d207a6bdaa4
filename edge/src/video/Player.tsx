// Playing approved footage: the clip (an MP4 the gateway cuts on request) in a <video>, big seek buttons and
// a bar of the clip, under a moving watermark of the viewer and the time so any photo of the screen names them.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import type { GrantView, PlaybackView } from '../contracts.ts';
import { dateTime, timeOfDay } from '../format.ts';
import { asApiError } from '../gate/action.ts';
import { useNow } from '../gate/context.ts';
import { Chips, FieldError, FullScreen } from '../gate/widgets.tsx';
import { useLang } from '../i18n.ts';
import { hm } from '../patrol/status.ts';
import { spanText, videoErrorText } from './common.ts';
import { DayBar } from './DayBar.tsx';
import { withToken, type VideoApi } from './videoApi.ts';

/** The gateway cuts at most an hour per clip: a longer grant is played an hour at a time. */
const clipMaxMs = 60 * 60_000;

export function pieces(start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let at = start; at < end; at += clipMaxMs) out.push({ start: at, end: Math.min(end, at + clipMaxMs) });
  return out;
}

export function Player({ api, token, grant, camera, cameraName, tz, onClose }: { api: VideoApi; token: string; grant: GrantView; camera: string; cameraName: string; tz: string | undefined; onClose(): void }) {
  const { t, lang } = useLang();
  const parts = useMemo(() => pieces(grant.start, grant.end), [grant.start, grant.end]);
  const [piece, setPiece] = useState(0);
  const [clip, setClip] = useState<PlaybackView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [position, setPosition] = useState<number | null>(null);
  const [paused, setPaused] = useState(true);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const part = parts[piece];
    if (!part) return;
    let current = true;
    setClip(null);
    setError(null);
    api.playback({ grant: grant.id, camera, start: part.start, end: part.end }).then(
      (c) => current && setClip(c),
      (err: unknown) => current && setError(asApiError(err)),
    );
    return () => {
      current = false;
    };
  }, [api, grant.id, camera, parts, piece]);

  const seekTo = (at: number) => {
    const v = video.current;
    if (!v || !clip) return;
    v.currentTime = Math.max(0, (at - clip.start) / 1000);
  };
  const step = (s: number) => {
    const v = video.current;
    if (v) v.currentTime = Math.max(0, v.currentTime + s);
  };
  const toggle = () => {
    const v = video.current;
    if (!v) return;
    if (v.paused) void v.play().catch(() => undefined);
    else v.pause();
  };

  return (
    <FullScreen title={`${t('playTitle')}：${cameraName} · ${spanText(grant.start, grant.end, lang, tz)}`} onClose={onClose} testid="player" closeLabel={t('close')}>
      {parts.length > 1 && (
        <Chips
          options={parts.map((p, i) => ({ value: String(i), label: `${hm(p.start, lang, tz)}–${hm(p.end, lang, tz)}` }))}
          value={String(piece)}
          onChange={(v) => setPiece(Number(v))}
          testid="player-piece"
        />
      )}
      {error && <FieldError text={videoErrorText(error, t)} testid="player-error" />}
      {!clip && !error && <p class="muted">{t('playLoading')}</p>}
      {clip && (
        <div class="player" data-testid="player-clip" data-clip-id={clip.clipId}>
          <div class="player-stage">
            <video
              ref={video}
              class="player-video"
              data-testid="playback-video"
              src={withToken(clip.url, token)}
              controls
              autoplay
              muted
              playsInline
              // No full screen, picture-in-picture or download from the player: each would show the footage without the watermark.
              controlsList="nofullscreen nodownload noremoteplayback"
              disablePictureInPicture
              onTimeUpdate={(e) => setPosition(clip.start + e.currentTarget.currentTime * 1000)}
              onPlay={() => setPaused(false)}
              onPause={() => setPaused(true)}
              onContextMenu={(e) => e.preventDefault()}
            />
            <Watermark viewer={clip.watermark.viewer} viewerId={clip.watermark.viewerId} tz={tz} />
          </div>
          <div class="player-info">
            <span class="player-time" data-testid="player-time">
              {t('footageTime')} {position === null ? '—' : dateTime(position, lang, tz)}
            </span>
            {clip.gaps.length > 0 && <span class="tag tag-warn">⚠ {t('clipHasGaps', { n: String(clip.gaps.length) })}</span>}
          </div>
          <DayBar from={clip.start} to={clip.end} recorded={[{ start: clip.start, end: clip.end }]} gaps={clip.gaps} marker={position} tz={tz} label={t('clipBar')} testid="clip-bar" onPick={seekTo} />
          <div class="player-buttons">
            <button type="button" class="btn big" data-testid="player-back10" onClick={() => step(-10)}>
              ◀◀ {t('back10')}
            </button>
            <button type="button" class="btn big primary" data-testid="player-toggle" onClick={toggle}>
              {paused ? `▶ ${t('play')}` : `❚❚ ${t('pause')}`}
            </button>
            <button type="button" class="btn big" data-testid="player-fwd10" onClick={() => step(10)}>
              {t('fwd10')} ▶▶
            </button>
          </div>
        </div>
      )}
    </FullScreen>
  );
}

/**
 * The viewer's name and the current time, repeated over the picture and drifting slowly, semi-transparent:
 * whatever part of the screen a photo or screenshot shows, it shows who was watching and when.
 */
export function Watermark({ viewer, viewerId, tz }: { viewer: string; viewerId: string; tz: string | undefined }) {
  const { lang } = useLang();
  const now = useNow(1000);
  const text = `${viewer} · ${viewerId} · ${dateTime(now, lang, tz)}`;
  return (
    <div class="watermark" data-testid="watermark" data-viewer={viewer} aria-hidden="true">
      <div class="wm-layer">
        {Array.from({ length: 24 }, (_, i) => (
          <span key={i} class="wm-text">
            {text}
          </span>
        ))}
      </div>
      <span class="wm-clock">{timeOfDay(now, lang, tz)}</span>
    </div>
  );
}
