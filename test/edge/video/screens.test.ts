// The video screens in real Chromium (touch) against the real gateway with two RTSP cameras: the wall with a
// tile per camera and its grid switched by touch, snapshots while the page is hidden, the supervisor's
// approvals updating live, storage, and no video screen for the roles without the right.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, loggedInPage, screenshots } from '../browser.js';
import { startVideoSite, type VideoSite } from './site.js';

const shot = screenshots('video-');

interface Camera {
  id: string;
  name: string;
}
interface Grant {
  id: string;
  status: string;
}

describe('edge UI: video screens', () => {
  let site: VideoSite;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let page: Page | undefined;
  let opToken = '';
  let cameras: Camera[] = [];

  const newPage = async (person: string, pin: string) => {
    if (!browser) throw new Error('no browser');
    const p = await loggedInPage(browser, site.gw.httpUrl, person, pin);
    contexts.push(p.context());
    page = p;
    return p;
  };
  const navIds = async (p: Page) => {
    const ids: string[] = [];
    for (const b of await p.locator('nav button[data-testid^="nav-"]').all()) ids.push(((await b.getAttribute('data-testid')) ?? '').slice(4));
    return ids;
  };

  beforeAll(async () => {
    site = await startVideoSite();
    opToken = await site.token('op-zhao', '3333');
    const res = await site.api<Camera[]>('/api/video/cameras', opToken);
    expect(res.status).toBe(200);
    cameras = res.body;
    expect(cameras.map((c) => c.id).sort()).toEqual(['cam-garage', 'cam-north']);
    browser = await launchChromium();
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, site?.gw, shot));

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeAll(browser, undefined);
    await site?.stop();
  });

  it('shows an operator the wall with a tile per camera and switches the grid by touch', async () => {
    const p = await newPage('op-zhao', '3333');
    expect(await navIds(p)).toEqual(['control', 'wall', 'playback', 'devices']);
    await p.getByTestId('nav-wall').tap();
    await p.getByTestId('wall').waitFor();
    await expect.poll(() => p.getByTestId('wall-tile').count(), { timeout: 10_000 }).toBe(cameras.length);
    for (const c of cameras) expect(await p.locator(`[data-testid="wall-tile"][data-camera="${c.id}"]`).innerText()).toContain(c.name);
    // Each tile says what its recorder is doing, in words.
    await expect.poll(() => p.getByTestId('recorder-state').count()).toBe(cameras.length);
    expect(await p.getByTestId('recorder-state').first().innerText()).toMatch(/录像|无视频流|启动中/);
    expect(await p.getByTestId('wall').getAttribute('data-grid')).toBe('4');
    await expectTouchSized(p);
    await shot(p, 'wall-4');

    // One camera a page: two pages, turned with big buttons.
    await p.getByTestId('wall-grid-1').tap();
    await expect.poll(() => p.getByTestId('wall-tile').count()).toBe(1);
    expect(await p.getByTestId('wall-page').innerText()).toBe('第 1 / 2 页');
    const first = await p.getByTestId('wall-tile').getAttribute('data-camera');
    await p.getByTestId('wall-next').tap();
    await expect.poll(() => p.getByTestId('wall-tile').getAttribute('data-camera')).not.toBe(first);
    expect(await p.getByTestId('wall-page').innerText()).toBe('第 2 / 2 页');
    const box = await p.getByTestId('wall-tile').boundingBox();
    expect(box?.width).toBeGreaterThan(800);
    await shot(p, 'wall-1');

    await p.getByTestId('wall-grid-16').tap();
    await expect.poll(() => p.getByTestId('wall-tile').count()).toBe(cameras.length);
    expect(await p.getByTestId('wall-page').count()).toBe(0);

    // A tap makes a tile full size; the big back button returns to the grid.
    await p.locator('[data-testid="wall-tile"][data-camera="cam-north"] [data-testid="wall-tile-media"]').tap();
    await p.getByTestId('wall-zoom').waitFor();
    expect(await p.getByTestId('wall-zoom').getAttribute('data-camera')).toBe('cam-north');
    expect(await p.getByTestId('wall-tile').count()).toBe(0);
    // An RTSP camera has no PTZ: no pad to press in vain.
    expect(await p.getByTestId('ptz').count()).toBe(0);
    await expectTouchSized(p);
    await p.getByTestId('wall-back').tap();
    await expect.poll(() => p.getByTestId('wall-tile').count()).toBe(cameras.length);

    // The choice survives a reload.
    await p.reload();
    await p.getByTestId('nav-wall').tap();
    await expect.poll(() => p.getByTestId('wall').getAttribute('data-grid')).toBe('16');
  });

  it('shows snapshots instead of video while the page is hidden, and live video again when it is back', async () => {
    const p = page;
    if (!p) throw new Error('no page');
    await p.getByTestId('wall-grid-4').tap();
    await expect.poll(() => p.locator('[data-testid="wall-tile"][data-mode="mse"], [data-testid="wall-tile"][data-mode="mpeg1"]').count()).toBe(cameras.length);
    // As a minimised window or another tab would: the page's own properties and event, set in the page.
    const hide = (hidden: boolean) =>
      p.evaluate(`(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
    await hide(true);
    await expect.poll(() => p.locator('[data-testid="wall-tile"][data-mode="snapshot"]').count()).toBe(cameras.length);
    expect(await p.getByTestId('tile-video').count()).toBe(0);
    expect(await p.getByTestId('wall-idle').isVisible()).toBe(true);
    // The still is a real picture from the camera.
    await expect
      .poll(() => p.getByTestId('tile-still').first().evaluate((img) => img.complete && img.naturalWidth > 0), { timeout: 20_000 })
      .toBe(true);
    await shot(p, 'wall-idle');
    await hide(false);
    await expect.poll(() => p.locator('[data-testid="wall-tile"][data-mode="snapshot"]').count()).toBe(0);
    expect(await p.getByTestId('wall-idle').count()).toBe(0);
  });

  it('lists review requests for a supervisor, live, and approves one with a duration', async () => {
    const now = Date.now();
    const ask = (reason: string) =>
      site.api<Grant>('/api/video/grants', opToken, { method: 'POST', body: JSON.stringify({ cameras: ['cam-north'], start: now - 10 * 60_000, end: now - 5 * 60_000, reason, minutes: 60 }) });
    const one = await ask('住户投诉：车辆被刮');
    expect(one.status).toBe(201);
    expect(one.body.status).toBe('pending');

    const p = await newPage('sup-chen', '4444');
    expect(await navIds(p)).toEqual(['review', 'gate', 'wall', 'playback', 'approvals', 'seals', 'storage', 'sync', 'devices']);
    await expectTouchSized(p);
    await p.getByTestId('nav-approvals').tap();
    const card = p.locator(`[data-testid="pending-grant"][data-grant-id="${one.body.id}"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.getByTestId('grant-who').innerText()).toContain('赵敏');
    expect(await card.getByTestId('grant-cameras').innerText()).toContain('北门摄像机');
    expect(await card.getByTestId('grant-reason').innerText()).toBe('住户投诉：车辆被刮');

    // A new request appears without a reload (the video.grant message).
    const two = await ask('失物查找：钱包');
    expect(two.status).toBe(201);
    await p.locator(`[data-testid="pending-grant"][data-grant-id="${two.body.id}"]`).waitFor({ timeout: 10_000 });
    // The navigation counts what waits, wherever the supervisor is.
    await expect.poll(() => p.getByTestId('nav-badge-approvals').innerText()).toBe('2');
    await expectTouchSized(p);
    await shot(p, 'approvals');

    // Approved for 30 minutes of the 60 asked: it moves to the reviews in progress.
    await card.getByTestId('approve-minutes-30').tap();
    await card.getByTestId('grant-approve').tap();
    await card.waitFor({ state: 'detached', timeout: 10_000 });
    const active = p.locator(`[data-testid="active-grant"][data-grant-id="${one.body.id}"]`);
    await active.waitFor();
    expect(await active.getByTestId('grant-status').getAttribute('data-status')).toBe('approved');
    const mine = await site.api<(Grant & { validUntil: number; minutes: number })[]>('/api/video/grants?mine=true', opToken);
    const approved = mine.body.find((g) => g.id === one.body.id);
    expect(approved?.status).toBe('approved');
    expect((approved?.validUntil ?? 0) - Date.now()).toBeLessThanOrEqual(30 * 60_000);

    // Denied with one tap on a reason, stored in Chinese.
    const second = p.locator(`[data-testid="pending-grant"][data-grant-id="${two.body.id}"]`);
    await second.getByTestId('grant-deny').tap();
    await p.getByTestId('deny-reasons').waitFor();
    await p.getByTestId('deny-reasons-reason-0').tap();
    await second.waitFor({ state: 'detached', timeout: 10_000 });
    const after = await site.api<(Grant & { note: string | null })[]>('/api/video/grants?mine=true', opToken);
    expect(after.body.find((g) => g.id === two.body.id)).toMatchObject({ status: 'denied', note: '理由不充分' });
    expect(await p.getByTestId('pending-empty').isVisible()).toBe(true);
    await expect.poll(() => p.getByTestId('nav-badge-approvals').count()).toBe(0);
  });

  it('shows a supervisor the storage plan and the seals list', async () => {
    const p = page;
    if (!p) throw new Error('no page');
    await p.getByTestId('nav-storage').tap();
    await p.getByTestId('storage-disk').waitFor({ timeout: 10_000 });
    expect(await p.getByTestId('retention-days').innerText()).toBe('60 天');
    for (const c of cameras) expect(await p.getByTestId(`storage-cam-${c.id}`).innerText()).toContain(c.name);
    expect(await p.getByTestId('disk-line').innerText()).toMatch(/已用 .+，共 .+，剩余 .+/);
    await shot(p, 'storage');

    await p.getByTestId('nav-seals').tap();
    await p.getByTestId('seal-list').waitFor();
    await p.getByTestId('seal-new').tap();
    await p.getByTestId('seal-form').waitFor();
    expect(await p.getByTestId('seal-submit').isDisabled()).toBe(true);
    expect(await p.getByTestId('seal-why').innerText()).toContain('请至少选择一台摄像机');
    await expectTouchSized(p);
    await p.getByTestId('seal-form-close').tap();
  });

  it('gives the guard and the admin only what their role allows, and the gateway refuses the rest', async () => {
    const guard = await newPage('guard-li', '1111');
    expect(await navIds(guard)).toEqual(['gate', 'devices']);
    const guardToken = await site.token('guard-li', '1111');
    expect((await site.api('/api/video/cameras', guardToken)).status).toBe(403);
    expect((await site.api('/api/video/grants', guardToken)).status).toBe(403);

    const admin = await newPage('admin', '9999');
    expect(await navIds(admin)).toEqual(['admin', 'storage', 'sync', 'devices']);
    await admin.getByTestId('nav-storage').tap();
    await admin.getByTestId('storage-disk').waitFor({ timeout: 10_000 });
    const adminToken = await site.token('admin', '9999');
    expect((await site.api('/api/video/grants', adminToken)).status).toBe(403);

    // An operator asks and watches; deciding, sealing and storage are not theirs.
    expect((await site.api('/api/video/storage', opToken)).status).toBe(403);
    expect((await site.api('/api/video/seals', opToken)).status).toBe(403);
    expect((await site.api('/api/video/grants/none/approve', opToken, { method: 'POST', body: '{}' })).status).toBe(403);
  });
});
