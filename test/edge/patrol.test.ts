// The patrol screens in real Chromium (touch) against the real gateway and its demo patrol plan: the
// supervisor's review (timeline with missed points, a stop's detail and its reason, the guard filter, the
// CSV, the printed report on A4, the trend), both languages; a guard's incident at a checkpoint reaching
// the control room's alarm list live.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { artifacts, closeAll, expectTouchSized, keepFailureEvidence, launchChromium, login, screenshots } from './browser.js';

const shot = screenshots('patrol-');
const tz = 'Asia/Shanghai';
const han = /[\u4e00-\u9fff]/;

interface Stop {
  checkpoint: string;
  name: string;
  status: string;
  expectedAt: number;
  windowTo: number;
  hitAt: number | null;
  hitSource: string | null;
  guard: string | null;
  reason: string | null;
}
interface Round {
  id: string;
  route: string;
  status: string;
  start: number;
  guard: string | null;
  stops: Stop[];
}
interface Day {
  date: string;
  rounds: Round[];
  summary: { missed: number };
}

const localDate = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
const localHour = (ms: number) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(ms));



describe('edge UI: patrol', () => {
  let gw: RunningGateway;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let page: Page;
  let supToken = '';
  let guardToken = '';
  // The day under review: today, or yesterday in the first hour of a day, when no window of today has closed yet.
  let date = '';
  // A night round whose last point (a wall with no reader) was typed in by guard-li.
  let tapped: { round: string; checkpoint: string } = { round: '', checkpoint: '' };

  const api = async <T>(path: string, token: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${gw.httpUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const token = async (personId: string, pin: string) => {
    const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId, pin }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const newPage = async () => {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ hasTouch: true, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    contexts.push(context);
    const p = await context.newPage();
    await p.goto(gw.httpUrl);
    return p;
  };

  beforeAll(async () => {
    gw = await startGateway();
    supToken = await token('sup-chen', '4444');
    guardToken = await token('guard-li', '1111');
    const now = Date.now();
    date = localDate(localHour(now) < 1 ? now - 3600_000 * 2 : now);

    // The demo plan is in force from the start and the database is new: the day's rounds before the gateway
    // started were walked by nobody, so they are missed. One point of one of them is typed in by hand.
    const day = await api<Day>(`/api/patrol/day?date=${date}`, supToken);
    expect(day.status).toBe(200);
    expect(day.body.rounds.length).toBeGreaterThan(0);
    const candidate = day.body.rounds
      .filter((r) => r.route === 'night-round')
      .flatMap((r) => r.stops.filter((s) => s.checkpoint === 'west-wall' && s.status === 'missed' && s.expectedAt > now - 20 * 3600_000).map((s) => ({ r, s })))
      .at(-1);
    if (!candidate) throw new Error(`no missed west-wall point on ${date} to type in`);
    const hit = await api(`/api/patrol/hits`, guardToken, { method: 'POST', body: JSON.stringify({ tag: 'NFC-CP-WEST-WALL', at: candidate.s.expectedAt }) });
    expect(hit.status).toBe(204);
    tapped = { round: candidate.r.id, checkpoint: 'west-wall' };

    browser = await launchChromium();
    page = await newPage();
    await login(page, 'sup-chen', '4444');
    await page.getByTestId('review').waitFor({ timeout: 10_000 });
    if (date !== localDate(Date.now())) await page.getByTestId('date-prev').tap();
    await page.locator(`[data-testid="day-view"][data-date="${date}"][aria-busy="false"]`).waitFor({ timeout: 10_000 });
    await page.getByTestId('timeline').waitFor();
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, gw, shot));

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeAll(browser, gw);
  });

  it('shows the day: summary, routes as chips, a timeline with the missed points in red and in words', async () => {
    expect(await page.getByTestId('nav-review').getAttribute('aria-current')).toBe('page');
    expect(Number(await page.getByTestId('summary-missed').getAttribute('data-missed'))).toBeGreaterThan(0);
    expect(await page.getByTestId('summary-missed').innerText()).toContain('漏巡点');
    expect(await page.getByTestId('route-filter-night-round').innerText()).toContain('夜间巡逻');
    expect(await page.getByTestId('route-filter-key-areas').innerText()).toContain('重点部位巡查');

    const missed = page.locator('[data-testid="stop-cell"][data-status="missed"]');
    expect(await missed.count()).toBeGreaterThan(0);
    const cell = missed.first();
    const text = await cell.innerText();
    expect(text).toContain('漏巡');
    expect(text).toContain('✕');
    // Solid red with a white edge: it stands out from the tinted cells of the other statuses.
    const look = await cell.evaluate((el) => {
      const s = el.ownerDocument.defaultView?.getComputedStyle(el);
      return { bg: s?.backgroundColor, color: s?.color };
    });
    expect(look).toEqual({ bg: 'rgb(220, 38, 38)', color: 'rgb(255, 255, 255)' });

    // The point typed in by hand is on time now, in green with its tick.
    const typed = page.locator(`[data-testid="stop-cell"][data-round-id="${tapped.round}"][data-checkpoint="${tapped.checkpoint}"]`);
    await expect.poll(() => typed.getAttribute('data-status'), { timeout: 10_000 }).toBe('on-time');
    expect(await typed.innerText()).toContain('✓');
    expect(await typed.innerText()).toContain('准时');
    expect(await page.getByTestId('timeline-legend').innerText()).toMatch(/准时[\s\S]*早到[\s\S]*迟到[\s\S]*漏巡[\s\S]*顺序错[\s\S]*过早[\s\S]*待巡/);
    await shot(page, 'review-zh');
    await expectTouchSized(page);
  });

  it("opens a stop's detail: expected time, window, who tapped it and how", async () => {
    const typed = page.locator(`[data-testid="stop-cell"][data-round-id="${tapped.round}"][data-checkpoint="${tapped.checkpoint}"]`);
    await typed.scrollIntoViewIfNeeded();
    await typed.tap();
    const sheet = page.getByTestId('stop-detail');
    await sheet.waitFor();
    expect(await sheet.getByTestId('stop-detail-status').innerText()).toContain('准时');
    expect(await sheet.getByTestId('stop-source').innerText()).toBe('手工补录');
    expect(await sheet.getByTestId('stop-guard').innerText()).toBe('李建国');
    expect(await sheet.getByTestId('stop-window').innerText()).toMatch(/\d\d:\d\d – \d\d:\d\d/);
    // An on-time point needs no reason.
    expect(await sheet.getByTestId('reason-form').count()).toBe(0);
    await page.getByTestId('stop-detail-close').tap();
    await sheet.waitFor({ state: 'detached' });
  });

  it('narrows the day to one guard with the chips from its rounds', async () => {
    const chip = page.getByTestId('guard-filter-李建国');
    await chip.waitFor({ timeout: 10_000 });
    await chip.tap();
    await expect.poll(() => page.getByTestId('round').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('round').getAttribute('data-round-id')).toBe(tapped.round);
    await page.getByTestId('guard-filter-all').tap();
    await expect.poll(() => page.getByTestId('round').count(), { timeout: 10_000 }).toBeGreaterThan(1);
    // The route chips narrow it to one route's block.
    await page.getByTestId('route-filter-key-areas').tap();
    await expect.poll(async () => [...new Set(await page.getByTestId('route-block').evaluateAll((els) => els.map((e) => e.getAttribute('data-route'))))]).toEqual(['key-areas']);
    await page.getByTestId('route-filter-all').tap();
    await expect.poll(() => page.getByTestId('route-block').count()).toBe(2);
  });

  it('takes a reason for a missed point, shows it in the timeline and the missed list, and keeps it', async () => {
    const cell = page.locator('[data-testid="stop-cell"][data-status="missed"]').first();
    const round = (await cell.getAttribute('data-round-id')) ?? '';
    const checkpoint = (await cell.getAttribute('data-checkpoint')) ?? '';
    await cell.tap();
    const sheet = page.getByTestId('stop-detail');
    await sheet.waitFor();
    expect(await sheet.getByTestId('stop-hit').innerText()).toBe('未打卡');
    expect(await sheet.getByTestId('stop-detail-status').innerText()).toContain('漏巡');
    await expectTouchSized(page);
    await sheet.getByTestId('reason-weather').tap();
    await sheet.getByTestId('reason-note').fill('暴雨，地下车库积水');
    await shot(page, 'stop-zh');
    await sheet.getByTestId('reason-save').tap();
    await sheet.waitFor({ state: 'detached', timeout: 10_000 });

    const same = page.locator(`[data-testid="stop-cell"][data-round-id="${round}"][data-checkpoint="${checkpoint}"]`);
    await same.getByTestId('stop-has-reason').waitFor({ timeout: 10_000 });
    const row = page.locator(`[data-testid="missed-point"][data-round-id="${round}"][data-checkpoint="${checkpoint}"]`);
    expect(await row.getByTestId('missed-reason').innerText()).toBe('恶劣天气：暴雨，地下车库积水');
    expect(await row.getByTestId('missed-explain').innerText()).toContain('修改');
    // Others still ask for theirs.
    expect(await page.getByTestId('missed-explain').filter({ hasText: '补录原因' }).count()).toBeGreaterThan(0);
    await row.scrollIntoViewIfNeeded();
    await shot(page, 'missed-zh');

    const day = await api<Day>(`/api/patrol/day?date=${date}`, supToken);
    const stop = day.body.rounds.find((r) => r.id === round)?.stops.find((s) => s.checkpoint === checkpoint);
    expect(stop?.reason).toBe('恶劣天气：暴雨，地下车库积水');
  });

  it('exports the day as CSV through a download named for the day', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.getByTestId('export-csv').tap()]);
    expect(download.suggestedFilename()).toBe(`patrol-${date}.csv`);
    const path = await download.path();
    const bytes = readFileSync(path);
    // The BOM that makes Excel read UTF-8 survives the Blob.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^日期,轮次开始,路线,/);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((l) => l.includes('地下车库') && l.includes('漏巡'))).toBe(true);
    expect(lines.some((l) => l.includes('恶劣天气：暴雨，地下车库积水'))).toBe(true);
    expect(await page.getByTestId('export-done').innerText()).toContain(`patrol-${date}.csv`);
  });

  it('prints the timeline and the missed points on A4 without the navigation', async () => {
    // The print dialog cannot be driven headless: count the calls instead, then lay the page out as print does.
    await page.evaluate('window.printed = 0; window.print = () => { window.printed++; }');
    await page.getByTestId('print-report').tap();
    expect(await page.evaluate('window.printed')).toBe(1);
    await page.emulateMedia({ media: 'print' });
    try {
      expect(await page.locator('#app').isVisible()).toBe(false);
      const report = page.locator('body > .print-report');
      expect(await report.isVisible()).toBe(true);
      const text = await report.innerText();
      expect(text).toContain(`巡更日报 ${date}`);
      expect(text).toContain('漏巡点');
      expect(text).toContain('恶劣天气：暴雨，地下车库积水');
      const box = await report.boundingBox();
      expect(box?.width).toBeGreaterThan(680); // 186 mm: A4 less its margins
      expect(box?.width).toBeLessThan(720);
      await shot(page, 'print-zh');
      // The real print path: Chromium lays the report out on its named A4 page.
      const pdf = await page.pdf({ path: join(artifacts, 'edge-patrol-report.pdf'), preferCSSPageSize: true });
      expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]/);
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  it('draws the trend for 30 or 60 days and moves a day at a time', async () => {
    const chart = page.getByTestId('trend-chart');
    await chart.scrollIntoViewIfNeeded();
    await expect.poll(() => chart.getAttribute('data-days'), { timeout: 10_000 }).toBe('30');
    expect(await chart.evaluate((el) => el.tagName.toLowerCase())).toBe('svg');
    expect(await chart.locator('[data-testid="trend-day"]').count()).toBe(30);
    await page.getByTestId('trend-days-60').tap();
    await expect.poll(() => chart.getAttribute('data-days'), { timeout: 10_000 }).toBe('60');
    expect(await page.getByTestId('trend-summary').innerText()).toMatch(/平均完成率 \d+%/);
    await shot(page, 'trend-zh');

    await page.getByTestId('date-prev').tap();
    const before = new Date(`${date}T12:00:00Z`);
    before.setUTCDate(before.getUTCDate() - 1);
    const dayView = (d: string) => page.locator(`[data-testid="day-view"][data-date="${d}"][aria-busy="false"]`);
    await dayView(before.toISOString().slice(0, 10)).waitFor({ timeout: 10_000 });
    // Nobody walked the day before the gateway first started: every decided point of it is missed.
    expect(await page.locator('[data-testid="stop-cell"]:not([data-status="missed"])').count()).toBe(0);
    await page.getByTestId('date-today').tap();
    await dayView(localDate(Date.now())).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('date-next').isDisabled()).toBe(true);
    if (date !== localDate(Date.now())) await page.getByTestId('date-prev').tap();
    await dayView(date).waitFor({ timeout: 10_000 });
  });

  it('speaks English completely', async () => {
    await page.getByTestId('lang-en').tap();
    await expect.poll(() => page.getByTestId('nav-review').innerText()).toBe('Review');
    await page.getByTestId('timeline').waitFor();
    await page.locator('.content').evaluate((el) => (el.scrollTop = 0));
    const missed = page.locator('[data-testid="stop-cell"][data-status="missed"]').first();
    expect(await missed.innerText()).toContain('Missed');
    // The screen's own words; the plan's names (routes, checkpoints) stay as the site wrote them.
    for (const id of ['review-date', 'patrol-summary', 'timeline-legend', 'trend-summary', 'export-csv', 'print-report', 'view-filter', 'route-filter-all', 'guard-filter-all']) {
      expect({ id, text: await page.getByTestId(id).innerText() }).toEqual({ id, text: expect.not.stringMatching(han) });
    }
    for (const status of await page.getByTestId('round-status').allInnerTexts()) expect(status).not.toMatch(han);
    await shot(page, 'review-en');
    await missed.tap();
    const sheet = page.getByTestId('stop-detail');
    await sheet.waitFor();
    expect(await sheet.getByTestId('stop-facts').innerText()).toContain('Not tapped');
    expect(await sheet.getByTestId('reason-form').innerText()).not.toMatch(han);
    await shot(page, 'stop-en');
    await page.getByTestId('stop-detail-close').tap();
    await page.getByTestId('missed-list').scrollIntoViewIfNeeded();
    await shot(page, 'missed-en');
    await expectTouchSized(page);
    await page.getByTestId('lang-zh-CN').tap();
  });

  it("a guard's incident at a checkpoint reaches the control room's alarm list live", { timeout: 60_000 }, async () => {
    // The operator is already watching: the alarm must arrive over the websocket, not on a reload.
    const control = await newPage();
    await login(control, 'op-zhao', '3333');
    await control.getByTestId('control-room').waitFor({ timeout: 10_000 });
    await control.getByTestId('control-timeline').waitFor({ timeout: 10_000 });
    expect(Number(await control.getByTestId('control-missed').getAttribute('data-missed'))).toBeGreaterThan(0);
    expect(await control.getByTestId('route-block').count()).toBe(2);

    const guard = await newPage();
    await login(guard, 'guard-li', '1111');
    await guard.getByTestId('gate').waitFor({ timeout: 10_000 });
    await guard.getByTestId('incident-start').tap();
    await guard.getByTestId('incident').waitFor();
    await guard.getByTestId('incident-cp-garage').waitFor({ timeout: 10_000 });
    expect(await guard.getByTestId('incident-submit').isDisabled()).toBe(true);
    await guard.getByTestId('incident-cp-garage').tap();
    await guard.getByTestId('incident-type-water-leak').tap();
    await guard.getByTestId('incident-note').fill('B1 消防管道滴水');
    await expectTouchSized(guard);
    await shot(guard, 'incident-zh');
    await guard.getByTestId('incident-submit').tap();
    await guard.getByTestId('incident-done').waitFor({ timeout: 10_000 });
    expect(await guard.getByTestId('incident-done').innerText()).toContain('地下车库');
    expect(await guard.getByTestId('incident-row').first().innerText()).toContain('漏水');
    await guard.getByTestId('incident-close').tap();
    // Back on the gate, the alarms tab shows it.
    await guard.getByTestId('gate-panel-alarms').waitFor();
    const mine = guard.locator('[data-testid="alarm"][data-kind="patrol-incident"]');
    await mine.waitFor({ timeout: 10_000 });
    expect(await mine.innerText()).toContain('巡更事件');

    const alarm = control.locator('[data-testid="alarm"][data-kind="patrol-incident"]');
    await alarm.waitFor({ timeout: 10_000 });
    const text = await alarm.innerText();
    expect(text).toContain('地下车库');
    expect(text).toContain('B1 消防管道滴水');
    await shot(control, 'control-zh');
    await expectTouchSized(control);

    // The operator handles it; the incident stays in the day's record.
    await alarm.getByTestId('alarm-handle').tap();
    await control.getByTestId('resolution-reported').tap();
    await control.getByTestId('alarm-resolve-submit').tap();
    await alarm.waitFor({ state: 'detached', timeout: 10_000 });
    const incidents = await api<{ incidents: { checkpoint: string; type: string; note: string; guard: string }[] }>(`/api/patrol/incidents?date=${localDate(Date.now())}`, supToken);
    expect(incidents.body.incidents).toContainEqual(expect.objectContaining({ checkpoint: 'garage', type: 'water-leak', note: 'B1 消防管道滴水', guard: '李建国' }));

    await control.getByTestId('lang-en').tap();
    await expect.poll(() => control.getByTestId('control-patrol').innerText()).toContain("Today's patrol");
    expect(await control.getByTestId('control-missed').innerText()).not.toMatch(han);
    await shot(control, 'control-en');
    await guard.getByTestId('lang-en').tap();
    await guard.getByTestId('incident-start').tap();
    await guard.getByTestId('incident-cp-garage').waitFor({ timeout: 10_000 });
    await guard.getByTestId('incident-row').first().waitFor({ timeout: 10_000 });
    expect(await guard.getByTestId('incident-type').innerText()).not.toMatch(han);
    expect(await guard.locator('.fs-foot').innerText()).not.toMatch(han);
    await shot(guard, 'incident-en');
    await guard.getByTestId('incident-close').tap();
  });
});
