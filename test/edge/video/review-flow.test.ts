// Video end to end in real Chromium against the real gateway, real ffmpeg and a real RTSP source: live
// tiles whose pictures move (MSE, and MPEG-1 for an H.265 camera), an operator's review request approved by a supervisor and played under the
// watermark, camera pictures on the guard's vehicle card and incident, and a span sealed from the timeline and exported.
import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, loggedInPage, screenshots } from '../browser.js';
import { startVideoSite, type VideoSite } from './site.js';

const shot = screenshots('video-flow-');

interface Timeline {
  recorded: { start: number; end: number }[];
}

interface Pixels {
  videoWidth?: number;
  videoHeight?: number;
  width: number;
  height: number;
}
interface Canvas2d {
  drawImage(source: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
}

/** A digest of what the <video> or <canvas> shows now (drawn to a canvas in the page), and whether it is more than one flat colour. */
async function frame(media: Locator): Promise<{ digest: string; varied: boolean }> {
  return media.evaluate((el: Pixels) => {
    // This file is checked without the DOM library; the function runs in the page, which has it.
    const doc = (globalThis as unknown as { document: { createElement(tag: 'canvas'): Pixels & { getContext(kind: '2d'): Canvas2d | null } } }).document;
    const w = el.videoWidth ?? el.width;
    const h = el.videoHeight ?? el.height;
    const c = doc.createElement('canvas');
    c.width = Math.max(1, w);
    c.height = Math.max(1, h);
    const g = c.getContext('2d');
    if (!g || !w || !h) return { digest: 'empty', varied: false };
    g.drawImage(el, 0, 0);
    const data = g.getImageData(0, 0, w, h).data;
    let hash = 2166136261;
    let min = 255;
    let max = 0;
    for (let i = 0; i < data.length; i += 4) {
      const v = data[i] ?? 0;
      hash = Math.imul(hash ^ v, 16777619) >>> 0;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return { digest: hash.toString(16), varied: max - min > 32 };
  });
}

/** Taps the bar where `at` lies (the bar says which stretch of time it spans). */
async function tapAt(page: Page, bar: Locator, at: number): Promise<void> {
  const from = Number(await bar.getAttribute('data-from'));
  const to = Number(await bar.getAttribute('data-to'));
  const box = await bar.boundingBox();
  if (!box) throw new Error('the bar is not on screen');
  await page.touchscreen.tap(box.x + ((at - from) / (to - from)) * box.width, box.y + box.height / 2);
}

/**
 * Chooses 15 minutes around the first footage: a tap on the day's bar near it (~90 s a pixel), a tap on
 * the closer two-hour bar on it (~7 s a pixel), then five minutes earlier, so the span holds all of it.
 */
async function chooseSpan(page: Page, camera: string, at: number): Promise<void> {
  const day = page.getByTestId(`pb-bar-${camera}`);
  await page.getByTestId('pb-length-15').tap();
  await tapAt(page, day, at);
  const zoom = page.getByTestId(`pb-zoom-${camera}`);
  await zoom.waitFor();
  await tapAt(page, zoom, at);
  await expect.poll(() => page.getByTestId('pb-span').innerText()).toMatch(/^\d\d:\d\d–\d\d:\d\d$/);
  // Where the tap landed there is footage, in words.
  expect(await page.getByTestId('pb-at').innerText()).toContain('有录像');
  await page.getByTestId('pb-earlier').tap();
  // On the bar the chosen span covers the footage.
  const sel = await day.getByTestId(`pb-bar-${camera}-sel`).boundingBox();
  const rec = await day.getByTestId(`pb-bar-${camera}-rec`).first().boundingBox();
  if (!sel || !rec) throw new Error('no span or footage on the bar');
  expect(sel.x).toBeLessThanOrEqual(rec.x);
  expect(sel.x + sel.width).toBeGreaterThanOrEqual(rec.x + rec.width);
}

describe('edge UI: video end to end', () => {
  let site: VideoSite;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let page: Page | undefined;
  let opToken = '';
  let supToken = '';
  let recordedFrom = 0;

  const newPage = async (person: string, pin: string) => {
    if (!browser) throw new Error('no browser');
    const p = await loggedInPage(browser, site.gw.httpUrl, person, pin);
    contexts.push(p.context());
    page = p;
    return p;
  };

  beforeAll(async () => {
    site = await startVideoSite({ h265: true });
    opToken = await site.token('op-zhao', '3333');
    supToken = await site.token('sup-chen', '4444');
    // Footage to review: the recorder's first segments of cam-north (2 s each), 20 s of them.
    recordedFrom = await waitFor(
      'twenty seconds of cam-north recorded',
      async () => {
        const now = Date.now();
        const tl = await site.api<Timeline>(`/api/video/cameras/cam-north/timeline?from=${now - 3600_000}&to=${now + 60_000}`, opToken);
        const first = tl.body?.recorded?.[0];
        return first && first.end - first.start >= 20_000 ? first.start : null;
      },
      45_000,
    );
    browser = await launchChromium();
  }, 90_000);

  afterEach(({ task }) => keepFailureEvidence(task, page, site?.gw, shot));

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeAll(browser, undefined);
    await site?.stop();
  });

  it('plays each camera live in its tile, and the picture moves', { timeout: 60_000 }, async () => {
    const p = await newPage('op-zhao', '3333');
    await p.getByTestId('nav-wall').tap();
    const tile = p.locator('[data-testid="wall-tile"][data-camera="cam-north"]');
    await expect.poll(() => tile.getAttribute('data-live-state'), { timeout: 30_000 }).toBe('playing');
    const media = tile.locator('video, canvas');
    const first = await frame(media);
    expect(first.varied).toBe(true);
    // The test pattern's ball moves: a later frame differs.
    await expect.poll(async () => (await frame(media)).digest, { timeout: 10_000, interval: 500 }).not.toBe(first.digest);
    await expect.poll(() => p.locator('[data-testid="wall-tile"][data-live-state="playing"]').count(), { timeout: 30_000 }).toBe(3);

    // The H.265 camera plays through the MPEG-1 fallback (JSMpeg on a canvas), and moves too.
    const h265 = p.locator('[data-testid="wall-tile"][data-camera="cam-h265"]');
    expect(await h265.getAttribute('data-mode')).toBe('mpeg1');
    // JSMpeg draws with WebGL, whose canvas reads back empty: compare what the screen shows instead.
    const canvas = h265.getByTestId('tile-canvas');
    const still = (await canvas.screenshot()).toString('base64');
    await expect.poll(async () => (await canvas.screenshot()).toString('base64'), { timeout: 10_000, interval: 500 }).not.toBe(still);
    await shot(p, 'wall-live');

    // Full size plays the main stream, and it moves too.
    await tile.getByTestId('wall-tile-media').tap();
    const zoom = p.getByTestId('zoom-tile');
    await expect.poll(() => zoom.getAttribute('data-live-state'), { timeout: 30_000 }).toBe('playing');
    const big = await frame(zoom.locator('video, canvas'));
    await expect.poll(async () => (await frame(zoom.locator('video, canvas'))).digest, { timeout: 10_000, interval: 500 }).not.toBe(big.digest);
    await shot(p, 'wall-zoom');
    await p.getByTestId('wall-back').tap();
  });

  it('lets an operator ask for a span, a supervisor approve it, and the operator play it under the watermark', { timeout: 120_000 }, async () => {
    const op = page;
    if (!op) throw new Error('no page');
    await op.getByTestId('nav-playback').tap();
    await op.getByTestId('playback').waitFor();
    const pick = op.getByTestId('pb-camera-cam-north');
    await pick.waitFor({ timeout: 10_000 });
    if ((await pick.getAttribute('aria-checked')) !== 'true') await pick.tap();
    const bar = op.getByTestId('pb-bar-cam-north');
    await bar.locator('[data-testid="pb-bar-cam-north-rec"]').first().waitFor({ timeout: 15_000 });
    await chooseSpan(op, 'cam-north', recordedFrom + 10_000);
    expect(await op.getByTestId('pb-submit').isDisabled()).toBe(true);
    expect(await op.getByTestId('pb-why').innerText()).toContain('请选择调阅原因');
    await op.getByTestId('pb-reason-reviewReason.incident').tap();
    await op.getByTestId('pb-note').fill('B1 车库车辆被刮');
    await expectTouchSized(op);
    await shot(op, 'request');
    await op.getByTestId('pb-submit').tap();
    await op.getByTestId('pb-sent').waitFor({ timeout: 10_000 });
    const row = op.getByTestId('grant').first();
    expect(await row.getAttribute('data-status')).toBe('pending');
    const grantId = (await row.getAttribute('data-grant-id')) ?? '';
    // Outside an approved grant there is no play button, and the gateway refuses anyway.
    expect(await row.getByTestId('grant-play').count()).toBe(0);
    const refused = await site.api<{ error: { code: string } }>('/api/video/playback', opToken, {
      method: 'POST',
      body: JSON.stringify({ grant: grantId, camera: 'cam-north', start: recordedFrom, end: recordedFrom + 6000 }),
    });
    expect(refused.status).toBe(403);

    const sup = await newPage('sup-chen', '4444');
    await sup.getByTestId('nav-approvals').tap();
    const card = sup.locator(`[data-testid="pending-grant"][data-grant-id="${grantId}"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.getByTestId('grant-reason').innerText()).toBe('事件调查：B1 车库车辆被刮');
    await card.getByTestId('grant-approve').tap();
    await card.waitFor({ state: 'detached', timeout: 10_000 });

    // The operator's row turns approved by itself (the video.grant message) and offers the footage.
    page = op;
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('approved');
    expect(await row.getByTestId('grant-status').innerText()).toMatch(/已批准，\d\d:\d\d 前有效/);
    await row.locator('[data-testid="grant-play"][data-camera="cam-north"]').tap();
    await op.getByTestId('player-clip').waitFor({ timeout: 30_000 });
    const video = op.getByTestId('playback-video');
    await expect.poll(() => video.evaluate((v) => v.readyState >= 2 && v.duration > 0), { timeout: 20_000 }).toBe(true);
    expect(await video.getAttribute('controlslist')).toContain('nofullscreen');

    // The watermark lies over the picture: the viewer's name and the time, repeated.
    const mark = op.getByTestId('watermark');
    expect(await mark.getAttribute('data-viewer')).toBe('赵敏');
    expect(await mark.innerText()).toContain('赵敏');
    const vb = await video.boundingBox();
    const mb = await mark.boundingBox();
    if (!vb || !mb) throw new Error('no boxes');
    expect(mb.x).toBeLessThanOrEqual(vb.x + 1);
    expect(mb.y).toBeLessThanOrEqual(vb.y + 1);
    expect(mb.x + mb.width).toBeGreaterThanOrEqual(vb.x + vb.width - 1);
    expect(mb.y + mb.height).toBeGreaterThanOrEqual(vb.y + vb.height - 1);
    expect(await mark.locator('.wm-text').first().evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(el).color)).toMatch(/rgba\(255, 255, 255, 0\.\d+\)/);

    // It plays by itself: the footage time moves on; the big button pauses, and a tap on the clip's bar seeks.
    await expect.poll(() => video.evaluate((v) => v.currentTime), { timeout: 15_000 }).toBeGreaterThan(0.5);
    await expect.poll(() => op.getByTestId('player-toggle').innerText()).toContain('暂停');
    expect(await op.getByTestId('player-time').innerText()).toMatch(/\d\d:\d\d:\d\d/);
    const played = await frame(video);
    expect(played.varied).toBe(true);
    await shot(op, 'playback-watermark');
    const clipBar = op.getByTestId('clip-bar');
    const duration = await video.evaluate((v) => v.duration);
    await op.getByTestId('player-toggle').tap();
    await expect.poll(() => video.evaluate((v) => v.paused)).toBe(true);
    await expect.poll(() => op.getByTestId('player-toggle').innerText()).toContain('播放');
    await tapAt(op, clipBar, Number(await clipBar.getAttribute('data-from')) + (duration * 1000 * 3) / 4);
    await expect.poll(() => video.evaluate((v) => v.currentTime)).toBeGreaterThan(duration / 2);
    await op.getByTestId('player-close').tap();
  });

  it("shows the camera's picture on the guard's vehicle card and incident", { timeout: 90_000 }, async () => {
    const guard = await newPage('guard-li', '1111');
    await guard.getByTestId('gate-tab-vehicles').tap();
    // The demo's plate camera reports unknown cars at the north entry; cam-north looks at that entry.
    const pic = guard.getByTestId('decision-camera-snapshot').first();
    await pic.waitFor({ timeout: 45_000 });
    await expect.poll(() => pic.evaluate((img) => img.complete && img.naturalWidth > 0), { timeout: 15_000 }).toBe(true);
    expect(await pic.getAttribute('data-camera')).toBe('cam-north');
    await shot(guard, 'decision-snapshot');

    // An incident at the garage gets the garage camera's picture beside it.
    await guard.getByTestId('incident-start').tap();
    await guard.getByTestId('incident-cp-garage').tap();
    await guard.getByTestId('incident-type-water-leak').tap();
    await guard.getByTestId('incident-submit').tap();
    await guard.getByTestId('incident-done').waitFor({ timeout: 10_000 });
    const incidentPic = guard.getByTestId('incident-row').first().getByTestId('incident-camera-snapshot');
    await incidentPic.waitFor({ timeout: 20_000 });
    expect(await incidentPic.getAttribute('data-camera')).toBe('cam-garage');
    await expect.poll(() => incidentPic.evaluate((img) => img.complete && img.naturalWidth > 0), { timeout: 15_000 }).toBe(true);
    await incidentPic.scrollIntoViewIfNeeded();
    await shot(guard, 'incident-snapshot');
    await guard.getByTestId('incident-close').tap();
  });

  it('lets a supervisor seal a span chosen on the timeline, export it with checksums and release it', { timeout: 90_000 }, async () => {
    const sup = await newPage('sup-chen', '4444');
    await sup.getByTestId('nav-playback').tap();
    const pick = sup.getByTestId('pb-camera-cam-north');
    await pick.waitFor({ timeout: 10_000 });
    if ((await pick.getAttribute('aria-checked')) !== 'true') await pick.tap();
    const bar = sup.getByTestId('pb-bar-cam-north');
    await bar.locator('[data-testid="pb-bar-cam-north-rec"]').first().waitFor({ timeout: 15_000 });
    await chooseSpan(sup, 'cam-north', recordedFrom + 10_000);
    await sup.getByTestId('pb-seal').tap();
    await sup.getByTestId('seal-form').waitFor();
    // Prefilled from the timeline: the camera and the span.
    expect(await sup.getByTestId('seal-camera-cam-north').getAttribute('aria-checked')).toBe('true');
    expect(await sup.getByTestId('seal-from-value').innerText()).toBe((await sup.getByTestId('pb-span').innerText()).slice(0, 5));
    await sup.getByTestId('seal-title-input').fill('车库车辆刮擦');
    await sup.getByTestId('seal-reason').fill('住户报案，保留证据备查');
    await sup.getByTestId('seal-expiry-30d').tap();
    await expectTouchSized(sup);
    await sup.getByTestId('seal-submit').tap();
    await sup.getByTestId('seal-done').waitFor({ timeout: 10_000 });
    await sup.getByTestId('seal-form-close').tap();

    await sup.getByTestId('nav-seals').tap();
    const row = sup.locator('[data-testid="seal"][data-status="active"]').filter({ hasText: '车库车辆刮擦' });
    await row.waitFor({ timeout: 10_000 });
    await row.getByTestId('seal-export').tap();
    await sup.getByTestId('export-run').tap();
    const files = sup.getByTestId('export-file');
    await files.first().waitFor({ timeout: 60_000 });
    expect(await sup.locator('[data-testid="export-file"][data-name="manifest.json"]').count()).toBe(1);
    await shot(sup, 'export');
    // Each download is the file whose SHA-256 the list shows.
    for (const f of await files.all()) {
      const sha = ((await f.getByTestId('export-sha').innerText()).match(/[0-9a-f]{64}/) ?? [''])[0];
      const href = (await f.getByTestId('export-download').getAttribute('href')) ?? '';
      expect(href).toContain('token=');
      const res = await fetch(`${site.gw.httpUrl}${href}`);
      expect(res.status).toBe(200);
      expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).toBe(sha);
    }
    await sup.getByTestId('seal-export-sheet-close').tap();

    await row.getByTestId('seal-release').tap();
    expect(await sup.getByTestId('release-submit').isDisabled()).toBe(true);
    await sup.getByTestId('release-reason').fill('案件已处理完毕');
    await sup.getByTestId('release-submit').tap();
    await sup.locator('[data-testid="seal"][data-status="released"]').filter({ hasText: '车库车辆刮擦' }).waitFor({ timeout: 10_000 });
    const seals = await site.api<{ title: string; status: string }[]>('/api/video/seals', supToken);
    expect(seals.body.find((s) => s.title === '车库车辆刮擦')?.status).toBe('released');
  });
});
