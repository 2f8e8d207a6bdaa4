// The PTZ pad in real Chromium against the real gateway and an ONVIF camera (the Profile S test peer that
// follows the ONVIF specifications): press and hold turns the camera, letting go stops it, a preset is one tap.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../gateway/core/paths.js';
import { OnvifTestDevice } from '../../drivers/onvif/device.js';
import { startRtspSource, type RtspSource } from '../../video/rtsp.js';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, login, screenshots, touchPage } from '../browser.js';
import { startVideoSite, type VideoSite } from './site.js';

const shot = screenshots('video-ptz-');

describe('edge UI: PTZ pad', () => {
  let rtsp: RtspSource | undefined;
  let device: OnvifTestDevice | undefined;
  let site: VideoSite | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    rtsp = await startRtspSource({ extra: ['cam2', 'cam3'] });
    device = new OnvifTestDevice({ username: 'ptzop', password: 'ptz-secret', rtspPort: rtsp.port, jpeg: readFileSync(join(packageRoot, 'test', 'fixtures', 'onvif', 'snapshot.jpg')), events: false });
    await device.start();
    site = await startVideoSite({ rtsp, onvif: { port: device.port, username: 'ptzop', password: 'ptz-secret' } });
    browser = await launchChromium();
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, site?.gw, shot));

  afterAll(async () => {
    await closeAll(browser, undefined);
    await site?.stop();
    await device?.stop();
    await rtsp?.stop();
  });

  it('turns the camera while a direction is held, stops it on release, and goes to a preset', async () => {
    if (!browser || !site || !device) throw new Error('not started');
    const dev = device;
    const p = await touchPage(browser, site.gw.httpUrl);
    page = p;
    await login(p, 'op-zhao', '3333');
    await p.getByTestId('nav-wall').tap();
    const tile = p.locator('[data-testid="wall-tile"][data-camera="cam-ptz"]');
    await tile.waitFor({ timeout: 15_000 });
    await tile.getByTestId('wall-tile-media').tap();
    // The pad appears once the camera has said it can pan and tilt.
    await p.getByTestId('ptz').waitFor({ timeout: 20_000 });
    await p.getByTestId('ptz-preset-1').waitFor({ timeout: 10_000 });
    expect(await p.getByTestId('ptz-preset-1').innerText()).toContain('Gate');
    await expectTouchSized(p);
    await shot(p, 'pad');

    // Held: one move to the left, and no stop while the finger stays down.
    const left = await p.getByTestId('ptz-left').boundingBox();
    if (!left) throw new Error('no left key');
    await p.mouse.move(left.x + left.width / 2, left.y + left.height / 2);
    await p.mouse.down();
    await expect.poll(() => dev.ptz.filter((c) => c.op === 'ContinuousMove').length, { timeout: 10_000 }).toBe(1);
    const move = dev.ptz.find((c) => c.op === 'ContinuousMove');
    expect(move?.pan).toBeLessThan(0);
    expect(move?.tilt ?? 0).toBe(0);
    expect(await p.getByTestId('ptz-left').getAttribute('class')).toContain('held');
    expect(dev.ptz.some((c) => c.op === 'Stop')).toBe(false);
    // Released: stopped.
    await p.mouse.up();
    await expect.poll(() => dev.ptz.at(-1)?.op, { timeout: 10_000 }).toBe('Stop');

    await p.getByTestId('ptz-preset-2').tap();
    await expect.poll(() => dev.ptz.at(-1), { timeout: 10_000 }).toMatchObject({ op: 'GotoPreset', preset: '2' });
    expect(await p.getByTestId('ptz-error').count()).toBe(0);
  });
});
