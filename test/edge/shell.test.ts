// The edge UI shell in real Chromium against the real gateway: login, live strip, device lights, language.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, screenshots, tapPin, touchPage } from './browser.js';

const shot = screenshots('');

async function liveEventIds(page: Page): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await page.getByTestId('live-entry').all()) ids.push((await entry.getAttribute('data-event-id')) ?? '');
  return ids;
}

describe('edge UI shell', () => {
  let gw: RunningGateway | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    gw = await startGateway();
    browser = await launchChromium();
    page = await touchPage(browser, gw.httpUrl);
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, gw, shot));

  afterAll(() => closeAll(browser, gw));

  it('lists people as tiles and shows a clear error for a wrong PIN', async () => {
    await page.getByTestId('person-guard-li').waitFor();
    expect(await page.getByTestId('person-guard-li').innerText()).toContain('李建国');
    expect(await page.getByTestId('person-guard-li').innerText()).toContain('保安');
    expect(await page.getByTestId('person-admin').isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('site-name').innerText()).toContain('翠湖花园');
    await shot(page, 'login-zh');

    await page.getByTestId('person-guard-li').tap();
    await page.getByTestId('pin-dots').waitFor();
    await expectTouchSized(page);
    await tapPin(page, '9999');
    await page.getByTestId('login-error').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('login-error').innerText()).toContain('PIN 码错误');
    await shot(page, 'pin-wrong-zh');
  });

  it('opens the guard section with the right PIN', async () => {
    await tapPin(page, '1111');
    await page.getByTestId('section-gate').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('who').innerText()).toContain('李建国');
    expect(await page.getByTestId('who-role').innerText()).toBe('保安');
    expect(await page.getByTestId('nav-gate').innerText()).toBe('门岗');
    expect(await page.getByTestId('nav-devices').isVisible()).toBe(true);
    expect(await page.getByTestId('nav-control').count()).toBe(0);
    const box = await page.getByTestId('nav-gate').boundingBox();
    expect(box?.height).toBeGreaterThanOrEqual(64);
    await expectTouchSized(page);
    const saved = await page.evaluate<string | null>('sessionStorage.getItem("guardpost.session")');
    expect(saved).toContain('"token"');
  });

  it('adds new events from the websocket to the live strip', async () => {
    if (!gw) throw new Error('no gateway');
    // Everything stored now is "old"; an id outside this set can only have come over the socket.
    const saved = JSON.parse((await page.evaluate<string | null>('sessionStorage.getItem("guardpost.session")')) ?? '{}') as { token: string };
    const res = await fetch(`${gw.httpUrl}/api/events?limit=500`, { headers: { Authorization: `Bearer ${saved.token}` } });
    expect(res.status).toBe(200);
    const known = new Set(((await res.json()) as { events: { id: string }[] }).events.map((e) => e.id));

    // The demo reader publishes every 5 s: 20 s allows for MQTT connect and a slow machine.
    await expect
      .poll(async () => (await liveEventIds(page)).some((id) => !known.has(id)), { timeout: 20_000, interval: 250 })
      .toBe(true);
    const entry = page.getByTestId('live-entry').first();
    expect(await entry.innerText()).toMatch(/\d\d:\d\d:\d\d/);
    expect(await page.getByTestId('conn-banner').count()).toBe(0);
    expect((await liveEventIds(page)).length).toBeLessThanOrEqual(50);
    await shot(page, 'gate-zh');
  }, 30_000);

  it('shows device lights with colour and text', async () => {
    const reader = page.getByTestId('light-reader-north-in');
    await expect.poll(() => reader.getAttribute('data-state'), { timeout: 15_000 }).toBe('online');
    expect(await reader.innerText()).toContain('北门入口读卡器');
    expect(await reader.innerText()).toContain('在线');
    // Colour as well as text: the lamp is green (#22c55e) for online.
    const lamp = `getComputedStyle(document.querySelector('[data-testid="light-reader-north-in"] .lamp')).backgroundColor`;
    expect(await page.evaluate<string>(lamp)).toBe('rgb(34, 197, 94)');
    expect(await page.locator('[data-testid^="light-"][data-state="online"]').count()).toBeGreaterThan(0);

    await page.getByTestId('nav-devices').tap();
    await page.getByTestId('device-table').waitFor();
    expect(await page.getByTestId('device-row-reader-north-in').innerText()).toContain('读卡器');
    await shot(page, 'devices-zh');
  });

  it('switches to English and back, remembering the choice', async () => {
    await page.getByTestId('lang-en').tap();
    await expect.poll(() => page.getByTestId('nav-gate').innerText()).toBe('Gate');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getByTestId('device-row-reader-north-in').innerText()).toContain('Online');
    await shot(page, 'devices-en');

    // A reload keeps both the session (sessionStorage) and the language (localStorage).
    await page.reload();
    await page.getByTestId('section-gate').waitFor();
    expect(await page.getByTestId('nav-gate').innerText()).toBe('Gate');
    await page.getByTestId('live-entry').first().waitFor();
    await shot(page, 'gate-en');

    await page.getByTestId('lang-zh-CN').tap();
    await expect.poll(() => page.getByTestId('nav-gate').innerText()).toBe('门岗');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
  });

  it('shows the reconnecting banner while the gateway is down and recovers when it is back', async () => {
    if (!gw) throw new Error('no gateway');
    const { dataDir, httpPort, mqttPort } = gw;
    await gw.stop();
    await page.getByTestId('conn-banner').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('conn-banner').innerText()).toContain('正在重新连接');
    await shot(page, 'reconnecting-zh');

    gw = await startGateway({ dataDir, httpPort, mqttPort });
    // Sessions live in the gateway's memory, so the restarted gateway refuses the old token (4401):
    // once the socket is back (backoff tops out at 15 s) the screen returns to the people tiles.
    await page.getByTestId('person-guard-li').waitFor({ timeout: 25_000 });
    expect(await page.getByTestId('conn-banner').count()).toBe(0);
    await page.getByTestId('person-guard-li').tap();
    await tapPin(page, '1111');
    await page.getByTestId('section-gate').waitFor({ timeout: 10_000 });
  }, 60_000);

  it('logs out back to the people tiles', async () => {
    await page.getByTestId('logout').tap();
    await page.getByTestId('person-guard-li').waitFor();
    expect(await page.evaluate<string | null>('sessionStorage.getItem("guardpost.session")')).toBeNull();
  });
});
