// Real Chromium for the screen tests: Debian's browser, a touch screen the size of the gate's, and the common steps.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../helpers/gateway.js';
import { expect } from 'vitest';
import { packageRoot } from '../../gateway/core/paths.js';

export const artifacts = join(packageRoot, 'test', 'artifacts');

/** Screenshots kept as test artifacts, named edge-<prefix><name>.png. */
export const screenshots =
  (prefix: string) =>
  (page: Page, name: string): Promise<Buffer> =>
    page.screenshot({ path: join(artifacts, `edge-${prefix}${name}.png`) });

/** Debian's chromium, headless, with nothing that calls out to the network this machine does not have. */
export async function launchChromium(): Promise<Browser> {
  // The gateway decides at start whether it serves the UI, so the build must exist first.
  if (!existsSync(join(packageRoot, 'dist', 'edge', 'index.html'))) throw new Error('dist/edge is missing: run `npm run build:edge` first');
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page on the gate's 1280 x 800 touch screen. */
export async function touchPage(browser: Browser, url: string, opts: { acceptDownloads?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ hasTouch: true, viewport: { width: 1280, height: 800 }, ...opts });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

export async function tapPin(page: Page, pin: string): Promise<void> {
  for (const d of pin) await page.getByTestId(`pin-key-${d}`).tap();
  await page.getByTestId('pin-ok').tap();
}

/** Tap the person's tile, then the PIN on the keypad. */
export async function login(page: Page, person: string, pin: string): Promise<void> {
  await page.getByTestId(`person-${person}`).tap();
  await tapPin(page, pin);
}

/** A fresh touch context logged in as `person`, once the shell shows who is logged in. */
export async function loggedInPage(browser: Browser, url: string, person: string, pin: string): Promise<Page> {
  const page = await touchPage(browser, url);
  await login(page, person, pin);
  await page.getByTestId('who').waitFor({ timeout: 10_000 });
  return page;
}

/** Every visible button is at least 48 x 48 CSS px: gloved fingers on a touchscreen. */
export async function expectTouchSized(page: Page): Promise<void> {
  const buttons = await page.locator('button:visible').all();
  expect(buttons.length).toBeGreaterThan(0);
  const small: string[] = [];
  for (const b of buttons) {
    const box = await b.boundingBox();
    if (!box || box.width < 48 || box.height < 48) small.push(`${await b.innerText()} ${box ? `${box.width}x${box.height}` : 'no box'}`);
  }
  expect(small).toEqual([]);
}

/** After a failed test: a UI failure is often the gateway's, so keep what both sides showed and said. */
export async function keepFailureEvidence(
  task: { name: string; result?: { state?: string } },
  page: Page | undefined,
  gw: RunningGateway | undefined,
  shot: (page: Page, name: string) => Promise<unknown>,
): Promise<void> {
  if (task.result?.state !== 'fail') return;
  if (page) await shot(page, `failed-${task.name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => undefined);
  if (gw) console.error(`gateway output (tail):\n${gw.output().slice(-4000)}`);
}

/** Each cleanup on its own, so a failing browser close still stops the gateway. */
export async function closeAll(browser: Browser | undefined, gw: RunningGateway | undefined): Promise<void> {
  await browser?.close().catch(() => undefined);
  await gw?.stop();
}
