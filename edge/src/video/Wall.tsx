// The live wall (监控墙): cameras in a 1/4/9/16 grid on their sub-streams, one camera full size with its
// PTZ pad, and snapshots instead of video while nobody touches the screen or the page is hidden.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { CameraView } from '../contracts.ts';
import { useLang, type MsgKey } from '../i18n.ts';
import { Empty, FieldError } from '../gate/widgets.tsx';
import { asApiError } from '../gate/action.ts';
import type { ApiError } from '../api.ts';
import { useQuery } from '../patrol/context.ts';
import { useCameras, videoErrorText } from './common.ts';
import { Tile } from './Tile.tsx';
import { videoApi, type VideoApi } from './videoApi.ts';
import '../gate/gate.css';
import '../patrol/patrol.css';
import './video.css';

/** After this long without a touch the wall shows snapshots: 16 decoders for nobody is wasted CPU. */
export const idleAfterMs = 5 * 60_000;

const grids = [1, 4, 9, 16] as const;
type Grid = (typeof grids)[number];
const gridKey = 'guardpost.wallGrid';

function initialGrid(): Grid {
  const saved = Number(localStorage.getItem(gridKey));
  return (grids as readonly number[]).includes(saved) ? (saved as Grid) : 4;
}

/** True while nobody touched the screen for `idleAfterMs`, or while the page is hidden. */
function useWallIdle(): boolean {
  const [idle, setIdle] = useState(false);
  const [hidden, setHidden] = useState(document.hidden);
  useEffect(() => {
    let timer: number | undefined;
    const arm = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setIdle(true), idleAfterMs);
    };
    const touched = () => {
      setIdle(false);
      arm();
    };
    const visibility = () => setHidden(document.hidden);
    arm();
    // Capture phase: a touch anywhere wakes the wall, even on a control that stops the event.
    document.addEventListener('pointerdown', touched, true);
    document.addEventListener('keydown', touched, true);
    document.addEventListener('visibilitychange', visibility);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener('pointerdown', touched, true);
      document.removeEventListener('keydown', touched, true);
      document.removeEventListener('visibilitychange', visibility);
    };
  }, []);
  return idle || hidden;
}

export function Wall({ token }: { token: string }) {
  const { t } = useLang();
  const api = useMemo(() => videoApi(token), [token]);
  const cams = useCameras(api);
  const [grid, setGrid] = useState<Grid>(initialGrid);
  const [page, setPage] = useState(0);
  const [zoomed, setZoomed] = useState<string | null>(null);
  const idle = useWallIdle();

  const cameras = cams.data ?? [];
  const pages = Math.max(1, Math.ceil(cameras.length / grid));
  const current = Math.min(page, pages - 1);
  const shown = cameras.slice(current * grid, current * grid + grid);
  const zoomCam = zoomed ? cameras.find((c) => c.id === zoomed) : undefined;

  const pick = (g: Grid) => {
    setGrid(g);
    setPage(0);
    localStorage.setItem(gridKey, String(g));
  };

  return (
    <div class="wall" data-testid="wall" data-grid={grid} data-idle={idle}>
      <div class="wall-head">
        <h1 class="section-title">{t('section.wall')}</h1>
        {!zoomCam && (
          <>
            <div class="wall-grids" role="radiogroup" aria-label={t('wallLayout')}>
              {grids.map((g) => (
                <button key={g} type="button" role="radio" aria-checked={g === grid} class={g === grid ? 'chip on grid-btn' : 'chip grid-btn'} data-testid={`wall-grid-${g}`} onClick={() => pick(g)}>
                  {g === grid && <span aria-hidden="true">✓</span>}
                  <GridIcon n={g} />
                  {t('wallGridN', { n: String(g) })}
                </button>
              ))}
            </div>
            {pages > 1 && (
              <div class="wall-pages">
                <button type="button" class="btn big" data-testid="wall-prev" disabled={current === 0} onClick={() => setPage(current - 1)}>
                  ◀
                </button>
                <span class="wall-page" data-testid="wall-page">
                  {t('wallPage', { n: String(current + 1), total: String(pages) })}
                </span>
                <button type="button" class="btn big" data-testid="wall-next" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
                  ▶
                </button>
              </div>
            )}
          </>
        )}
      </div>
      {idle && (
        <p class="notice wall-idle" role="status" data-testid="wall-idle">
          ❚❚ {t('wallIdle')}
        </p>
      )}
      {cams.error && <p class="error">{videoErrorText(cams.error, t)}</p>}
      {!cams.data && !cams.error && <p class="muted">{t('loading')}</p>}
      {cams.data && cameras.length === 0 && <Empty text={t('noCameras')} testid="wall-empty" />}
      {zoomCam ? (
        <div class="wall-zoom" data-testid="wall-zoom" data-camera={zoomCam.id}>
          <Tile key={`zoom-${zoomCam.id}`} camera={zoomCam} token={token} stream="main" still={idle} onTap={() => setZoomed(null)} testid="zoom-tile" />
          <aside class="zoom-side">
            <button type="button" class="btn huge primary" data-testid="wall-back" onClick={() => setZoomed(null)}>
              ◀ {t('wallBack')}
            </button>
            {zoomCam.ptz && <PtzPad key={zoomCam.id} api={api} camera={zoomCam} />}
          </aside>
        </div>
      ) : (
        <div class={`wall-grid grid-${grid}`} data-testid="wall-grid">
          {shown.map((c) => (
            <Tile key={c.id} camera={c} token={token} stream="sub" still={idle} onTap={() => setZoomed(c.id)} />
          ))}
        </div>
      )}
    </div>
  );
}

/** The layout drawn as squares, so the choice reads without words. */
function GridIcon({ n }: { n: Grid }) {
  const side = Math.sqrt(n);
  return (
    <span class="grid-icon" aria-hidden="true" style={{ '--side': String(side) }}>
      {Array.from({ length: n }, (_, i) => (
        <span key={i} />
      ))}
    </span>
  );
}

type Dir = { pan: number; tilt: number; zoom: number };
const speed = 0.5;
const pad: { key: string; label: string; name: MsgKey; dir: Dir }[] = [
  { key: 'up', label: '▲', name: 'ptz.up', dir: { pan: 0, tilt: speed, zoom: 0 } },
  { key: 'left', label: '◀', name: 'ptz.left', dir: { pan: -speed, tilt: 0, zoom: 0 } },
  { key: 'right', label: '▶', name: 'ptz.right', dir: { pan: speed, tilt: 0, zoom: 0 } },
  { key: 'down', label: '▼', name: 'ptz.down', dir: { pan: 0, tilt: -speed, zoom: 0 } },
  { key: 'zoom-in', label: '＋', name: 'ptz.zoom-in', dir: { pan: 0, tilt: 0, zoom: speed } },
  { key: 'zoom-out', label: '－', name: 'ptz.zoom-out', dir: { pan: 0, tilt: 0, zoom: -speed } },
];

/** Press and hold to move, let go to stop; presets one tap each. Requests go out in order, so a stop never overtakes its move. */
function PtzPad({ api, camera }: { api: VideoApi; camera: CameraView }) {
  const { t } = useLang();
  const presets = useQuery(`presets|${camera.id}`, () => api.presets(camera.id), 300_000);
  const [error, setError] = useState<ApiError | null>(null);
  const [held, setHeld] = useState<string | null>(null);
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const holding = useRef(false);

  const send = (body: Parameters<VideoApi['ptz']>[1]) => {
    chain.current = chain.current.then(() => api.ptz(camera.id, body).then(() => setError(null), (err: unknown) => setError(asApiError(err))));
  };
  const stop = () => {
    if (!holding.current) return;
    holding.current = false;
    setHeld(null);
    send({ action: 'stop' });
  };
  // Leaving the screen while a finger is still down must not leave the camera turning.
  useEffect(
    () => () => {
      if (holding.current) void api.ptz(camera.id, { action: 'stop' }).catch(() => undefined);
    },
    [api, camera.id],
  );

  return (
    <section class="panel ptz" data-testid="ptz">
      <h2 class="panel-title">{t('ptzTitle')}</h2>
      <p class="muted panel-hint">{t('ptzHint')}</p>
      <div class="ptz-pad">
        {pad.map((b) => (
          <button
            key={b.key}
            type="button"
            class={`ptz-btn ptz-${b.key}${held === b.key ? ' held' : ''}`}
            aria-label={t(b.name)}
            data-testid={`ptz-${b.key}`}
            onPointerDown={(e) => {
              // Captured, the release arrives here even when the finger slid off the key.
              try {
                e.currentTarget.setPointerCapture(e.pointerId);
              } catch {
                // A pointer the browser does not track (a synthetic event): release still ends on pointerup.
              }
              holding.current = true;
              setHeld(b.key);
              send({ action: 'move', ...b.dir });
            }}
            onPointerUp={stop}
            onPointerCancel={stop}
            onLostPointerCapture={stop}
            onContextMenu={(e) => e.preventDefault()}
          >
            {b.label}
            {/* + and − alone do not say "zoom" to everybody. */}
            {b.key.startsWith('zoom') && <span class="ptz-word">{t(b.name)}</span>}
          </button>
        ))}
      </div>
      {error && <FieldError text={videoErrorText(error, t)} testid="ptz-error" />}
      <h3 class="sub-title">{t('ptzPresets')}</h3>
      {presets.error && <p class="muted">{videoErrorText(presets.error, t)}</p>}
      {presets.data?.length === 0 && <Empty text={t('ptzNoPresets')} />}
      <div class="chips ptz-presets">
        {presets.data?.map((p) => (
          <button key={p.token} type="button" class="chip" data-testid={`ptz-preset-${p.token}`} onClick={() => send({ action: 'goto', preset: p.token })}>
            ★ {p.name || p.token}
          </button>
        ))}
      </div>
    </section>
  );
}
