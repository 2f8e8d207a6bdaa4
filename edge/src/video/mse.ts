// A live camera in a <video> through Media Source Extensions: the fMP4 websocket, an append queue, a short
// buffer kept near the live edge, and reconnecting with backoff after the stream ends.
import type { LiveBye, LiveHello } from '../contracts.ts';

/** connecting: no picture yet; playing: frames are coming; retrying: ended, trying again soon; unsupported/refused: given up. */
export type LiveState = 'connecting' | 'playing' | 'retrying' | 'unsupported' | 'refused';

export interface LiveStatus {
  state: LiveState;
  /** Why it ended: the server's bye reason or the close code. */
  reason?: string;
}

// A live view is for watching now: what is more than this far behind the play head is dropped.
const keepBehindS = 10;
// Further behind the newest frame than this (a stalled tab, a slow decode): jump to the live edge.
const maxLagS = 2;
// A socket that sends nothing for this long is dead even if TCP has not noticed.
const silenceMs = 15_000;
// Fragments waiting for the SourceBuffer beyond this are a backlog nobody will watch.
const maxQueued = 20;

interface Session {
  close(): void;
}

/**
 * Plays the websocket at `url()` (asked again for every attempt, so a new token or stream is picked up)
 * in `video` until the returned function is called. Close codes 4403/4404 (not allowed, no such camera)
 * stop for good, and 4401 (session over) too, since the app's own socket logs out; an unplayable mime or
 * 4415 reports `unsupported` so the tile can take another path. Anything else (1000 stream ended, 4409
 * no stream yet) retries.
 */
export function playLive(video: HTMLVideoElement, url: () => string, onStatus: (s: LiveStatus) => void): () => void {
  let stopped = false;
  let attempt = 0;
  let timer: number | undefined;
  let session: Session | null = null;

  const retry = (reason: string) => {
    session?.close();
    session = null;
    if (stopped) return;
    onStatus({ state: 'retrying', reason });
    // 1 s doubling to 15 s, with jitter so a wall of tiles does not reconnect in lockstep.
    const delay = Math.min(15_000, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt++;
    timer = window.setTimeout(start, delay);
  };

  const giveUp = (state: 'unsupported' | 'refused', reason: string) => {
    session?.close();
    session = null;
    onStatus({ state, reason });
  };

  const start = () => {
    if (stopped) return;
    onStatus({ state: 'connecting' });
    session = open(video, url(), {
      data: () => (attempt = 0),
      playing: () => onStatus({ state: 'playing' }),
      ended: retry,
      unsupported: (mime) => giveUp('unsupported', mime),
      refused: (code) => giveUp('refused', code),
    });
  };

  start();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    session?.close();
    session = null;
  };
}

interface SessionEvents {
  data(): void;
  playing(): void;
  ended(reason: string): void;
  unsupported(mime: string): void;
  refused(code: string): void;
}

function open(video: HTMLVideoElement, url: string, on: SessionEvents): Session {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let closed = false;
  let source: MediaSource | null = null;
  let objectUrl = '';
  let buffer: SourceBuffer | null = null;
  const queue: ArrayBuffer[] = [];
  // The first binary message is the init segment: it must never be dropped with the backlog.
  let initAppended = false;
  let watchdog = window.setTimeout(() => end('silent'), silenceMs);

  const onPlaying = () => on.playing();
  video.addEventListener('playing', onPlaying);

  const teardown = () => {
    if (closed) return;
    closed = true;
    window.clearTimeout(watchdog);
    video.removeEventListener('playing', onPlaying);
    ws.onmessage = null;
    ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000);
    video.removeAttribute('src');
    video.load();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
  const end = (reason: string) => {
    if (closed) return;
    teardown();
    on.ended(reason);
  };

  const pump = () => {
    if (closed || !buffer || !source || source.readyState !== 'open' || buffer.updating) return;
    const ranges = buffer.buffered;
    if (ranges.length > 0) {
      const first = ranges.start(0);
      const last = ranges.end(ranges.length - 1);
      if (last - video.currentTime > maxLagS) video.currentTime = Math.max(first, last - 0.3);
      // Trim in whole steps (not every append) so remove() does not run on every fragment.
      if (video.currentTime - first > keepBehindS + 5) {
        buffer.remove(first, video.currentTime - keepBehindS);
        return; // updateend pumps again
      }
    }
    const next = queue.shift();
    if (!next) return;
    try {
      buffer.appendBuffer(next);
      initAppended = true;
    } catch (err) {
      if (err instanceof DOMException && err.name === 'QuotaExceededError' && ranges.length > 0) {
        // Full: put it back and drop everything before the play head first.
        queue.unshift(next);
        buffer.remove(ranges.start(0), Math.max(ranges.start(0) + 0.1, video.currentTime - 1));
        return;
      }
      end('append-failed');
      return;
    }
    if (video.paused) video.play().catch(() => undefined);
  };

  const setup = (hello: LiveHello) => {
    if (typeof MediaSource === 'undefined' || !MediaSource.isTypeSupported(hello.mime)) {
      teardown();
      on.unsupported(hello.mime);
      return;
    }
    const ms = new MediaSource();
    source = ms;
    objectUrl = URL.createObjectURL(ms);
    video.src = objectUrl;
    ms.addEventListener(
      'sourceopen',
      () => {
        if (closed) return;
        try {
          buffer = ms.addSourceBuffer(hello.mime);
        } catch {
          teardown();
          on.unsupported(hello.mime);
          return;
        }
        // Sequence mode: fragments play back to back whatever their timestamps (a restarted remux starts at 0 again).
        buffer.mode = 'sequence';
        buffer.addEventListener('updateend', pump);
        buffer.addEventListener('error', () => end('decode-error'));
        pump();
      },
      { once: true },
    );
  };

  ws.onmessage = (e: MessageEvent) => {
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(() => end('silent'), silenceMs);
    if (typeof e.data === 'string') {
      let msg: LiveHello | LiveBye;
      try {
        msg = JSON.parse(e.data) as LiveHello | LiveBye;
      } catch {
        return;
      }
      if (msg.type === 'hello') setup(msg);
      else if (msg.type === 'bye') end(msg.reason);
      return;
    }
    on.data();
    queue.push(e.data as ArrayBuffer);
    // A backlog (a busy page, a hidden tab) is dropped whole: every fragment starts on a key frame.
    if (initAppended && queue.length > maxQueued) queue.splice(0, queue.length - 2);
    pump();
  };
  ws.onclose = (e: CloseEvent) => {
    if (closed) return;
    if (e.code === 4401 || e.code === 4403 || e.code === 4404) {
      teardown();
      on.refused(String(e.code));
      return;
    }
    // The gateway found a codec MSE cannot play (H.265): the MPEG-1 path is the way.
    if (e.code === 4415) {
      teardown();
      on.unsupported(e.reason || 'codec');
      return;
    }
    end(e.reason || String(e.code));
  };

  return { close: teardown };
}
