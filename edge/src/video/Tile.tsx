// One camera on the wall: its live picture (MSE, the MPEG-1 fallback, or a snapshot refreshed every few
// seconds), its name and the recorder's state in words, symbol and colour.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CameraView, RecorderState } from '../contracts.ts';
import { translateOpen, useLang } from '../i18n.ts';
import { playLive, type LiveStatus } from './mse.ts';
import { wsUrl } from './videoApi.ts';

/** A camera that only gives stills, and every tile of an idle wall, refreshes its snapshot this often. */
export const snapshotEveryMs = 5000;

const recorderTone: Record<RecorderState, 'ok' | 'warn' | 'bad' | 'idle'> = {
  recording: 'ok',
  starting: 'warn',
  stalled: 'bad',
  'stopped-disk': 'bad',
  'no-stream': 'bad',
  disabled: 'idle',
};
const recorderSymbol: Record<RecorderState, string> = { recording: '●', starting: '…', stalled: '⚠', 'stopped-disk': '✕', 'no-stream': '✕', disabled: '–' };

export function RecorderBadge({ camera }: { camera: CameraView }) {
  const { t } = useLang();
  const s = camera.recorder.state;
  const offline = camera.deviceState === 'offline' || camera.deviceState === 'failed';
  return (
    <span class="rec-badges">
      <span class={`rec-badge tone-${recorderTone[s] ?? 'idle'}`} data-testid="recorder-state" data-state={s}>
        <span aria-hidden="true">{recorderSymbol[s] ?? '?'} </span>
        {translateOpen(t, 'recorder', s)}
      </span>
      {offline && <span class="rec-badge tone-bad">✕ {translateOpen(t, 'state', camera.deviceState)}</span>}
    </span>
  );
}

type Mode = 'mse' | 'mpeg1' | 'snapshot';

export interface TileProps {
  camera: CameraView;
  token: string;
  stream: 'sub' | 'main';
  /** The wall is idle or hidden: a still refreshed every few seconds instead of live video. */
  still: boolean;
  onTap(): void;
  testid?: string;
}

export function Tile({ camera, token, stream, still, onTap, testid = 'wall-tile' }: TileProps) {
  const { t } = useLang();
  const [status, setStatus] = useState<LiveStatus>({ state: 'connecting' });
  // What this browser cannot play is tried another way: a main stream (often H.265 beside an H.264
  // sub-stream) as the sub-stream, then the MPEG-1 path, then snapshots like a camera that only gives stills.
  const [fallback, setFallback] = useState<'sub' | 'mpeg1' | 'snapshot' | null>(null);
  const mode: Mode = still || fallback === 'snapshot' || camera.live === 'snapshot' ? 'snapshot' : fallback === 'mpeg1' ? 'mpeg1' : camera.live;
  const playStream = fallback === 'sub' ? 'sub' : stream;

  const onStatus = (s: LiveStatus) => {
    // The MPEG-1 decoder reports every frame: only a change of state re-renders.
    setStatus((prev) => (prev.state === s.state && prev.reason === s.reason ? prev : s));
    if (s.state !== 'unsupported') return;
    if (mode === 'mse' && playStream === 'main') setFallback('sub');
    else if (mode === 'mse') setFallback('mpeg1');
    else setFallback('snapshot');
  };

  return (
    <div class="tile" data-testid={testid} data-camera={camera.id} data-mode={mode} data-live-state={mode === 'snapshot' ? 'still' : status.state}>
      <button type="button" class="tile-media" aria-label={camera.name} data-testid={`${testid}-media`} onClick={onTap}>
        {mode === 'mse' ? (
          <MseView camera={camera.id} token={token} stream={playStream} onStatus={onStatus} />
        ) : mode === 'mpeg1' ? (
          <Mpeg1View camera={camera.id} token={token} onStatus={onStatus} />
        ) : (
          <StillView camera={camera.id} token={token} everyMs={snapshotEveryMs} />
        )}
        {mode !== 'snapshot' && status.state !== 'playing' && (
          <span class={`tile-state live-${status.state}`} data-testid="tile-state">
            {translateOpen(t, 'live', status.state)}
          </span>
        )}
      </button>
      <div class="tile-bar">
        <span class="tile-name">{camera.name}</span>
        {mode === 'snapshot' && <span class="rec-badge tone-idle">{t('live.still')}</span>}
        <RecorderBadge camera={camera} />
      </div>
    </div>
  );
}

function MseView({ camera, token, stream, onStatus }: { camera: string; token: string; stream: 'sub' | 'main'; onStatus(s: LiveStatus): void }) {
  const ref = useRef<HTMLVideoElement>(null);
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    return playLive(video, () => wsUrl(`/api/video/cameras/${encodeURIComponent(camera)}/live`, token, { stream }), (s) => statusRef.current(s));
  }, [camera, token, stream]);
  return <video ref={ref} class="tile-video" data-testid="tile-video" muted autoplay playsInline disablePictureInPicture />;
}

function Mpeg1View({ camera, token, onStatus }: { camera: string; token: string; onStatus(s: LiveStatus): void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    let cancelled = false;
    let player: { destroy(): void } | null = null;
    statusRef.current({ state: 'connecting' });
    // Loaded only when a camera needs it, so the main bundle does not carry the decoder.
    import('@cycjimmy/jsmpeg-player').then(
      ({ default: JSMpeg }) => {
        if (cancelled) return;
        player = new JSMpeg.Player(wsUrl(`/api/video/cameras/${encodeURIComponent(camera)}/live-mpeg1`, token), {
          canvas,
          audio: false,
          autoplay: true,
          // The wall decides itself when to stop (idle, hidden); the player must not pause behind its back.
          pauseWhenHidden: false,
          reconnectInterval: 5,
          onVideoDecode: () => statusRef.current({ state: 'playing' }),
        });
      },
      () => statusRef.current({ state: 'unsupported', reason: 'jsmpeg' }),
    );
    return () => {
      cancelled = true;
      player?.destroy();
    };
  }, [camera, token]);
  return <canvas ref={ref} class="tile-video" data-testid="tile-canvas" />;
}

/**
 * A snapshot refreshed every `everyMs` (the next asked for only when the last one is in, so a slow camera is
 * not flooded); the previous picture stays until the next one has loaded. Fetched with the token in the
 * header and shown from a blob: a changing query string would not be accepted by the gateway.
 */
export function StillView({ camera, token, everyMs }: { camera: string; token: string; everyMs: number }) {
  const { t } = useLang();
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let stopped = false;
    let current: string | null = null;
    let timer: number | undefined;
    const load = async () => {
      try {
        const res = await fetch(`/api/video/cameras/${encodeURIComponent(camera)}/snapshot`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
        if (!res.ok) throw new Error(`snapshot ${res.status}`);
        const url = URL.createObjectURL(await res.blob());
        if (stopped) {
          URL.revokeObjectURL(url);
          return;
        }
        // The <img> keeps the decoded picture: the old blob can go as soon as the new one is set.
        if (current) URL.revokeObjectURL(current);
        current = url;
        setSrc(url);
        setFailed(false);
      } catch {
        if (!stopped) setFailed(true);
      }
      if (!stopped) timer = window.setTimeout(() => void load(), everyMs);
    };
    void load();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      if (current) URL.revokeObjectURL(current);
    };
  }, [camera, token, everyMs]);
  return (
    <>
      {src && <img class="tile-video" data-testid="tile-still" src={src} alt="" />}
      {(failed || !src) && <span class="tile-state live-retrying">{failed ? t('live.noPicture') : t('live.connecting')}</span>}
    </>
  );
}
