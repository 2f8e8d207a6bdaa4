// The supervisor's patrol plan editor in real Chromium (touch) against the real gateway and its demo plan:
// a plan whose rounds overlap is refused with the gateway's reason and changes nothing; fixed, with a new
// checkpoint added to a route, it is saved as the next version. Both languages.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, login, screenshots, touchPage } from './browser.js';

const shot = screenshots('plan-');
const han = /[\u4e00-\u9fff]/;

interface Plan {
  version: number;
  plan: { checkpoints: { id: string; name: string; tag?: string }[]; routes: { id: string; stops: { checkpoint: string }[] }[]; schedules: { id: string; window_min: number }[] };
}

describe('edge UI: patrol plan editor', () => {
  let gw: RunningGateway;
  let browser: Browser | undefined;
  let page: Page;
  let supToken = '';

  const currentPlan = async (): Promise<Plan> => {
    const res = await fetch(`${gw.httpUrl}/api/patrol/plan`, { headers: { Authorization: `Bearer ${supToken}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Plan;
  };

  beforeAll(async () => {
    gw = await startGateway();
    const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId: 'sup-chen', pin: '4444' }) });
    supToken = ((await res.json()) as { token: string }).token;
    browser = await launchChromium();
    page = await touchPage(browser, gw.httpUrl);
    await login(page, 'sup-chen', '4444');
    await page.getByTestId('review-tabs').waitFor({ timeout: 10_000 });
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, gw, shot));

  afterAll(() => closeAll(browser, gw));

  it('refuses overlapping rounds with the reason, then saves a fixed plan with a new checkpoint as the next version', async () => {
    const before = await currentPlan();
    await page.getByTestId('review-tab-plan').tap();
    const editor = page.getByTestId('plan-editor');
    await editor.waitFor();
    expect(await page.getByTestId('plan-version').innerText()).toContain(String(before.version));
    expect(await page.getByTestId('review-tab-plan').innerText()).toBe('巡更计划');
    await page.getByTestId('plan-versions').locator('summary').tap();
    await expect.poll(() => page.getByTestId('plan-version-row').count()).toBeGreaterThan(0);
    await expectTouchSized(page);
    await shot(page, 'zh');

    // Every 30 min with a 40-min window: each round would still be open when the next starts.
    const keySchedule = page.locator('[data-testid="plan-schedule"][data-id="key-half-hourly"]');
    expect(await keySchedule.getByTestId('schedule-every').inputValue()).toBe('30');
    await keySchedule.getByTestId('schedule-window').fill('40');
    await page.getByTestId('plan-save').tap();
    const refused = page.getByTestId('plan-refused');
    await refused.waitFor();
    const reasons = await page.getByTestId('plan-reason').allInnerTexts();
    expect(reasons.some((r) => r.includes('key-half-hourly') && r.includes('overlap'))).toBe(true);
    expect(await refused.innerText()).toContain('现行计划不变');
    await refused.scrollIntoViewIfNeeded();
    await shot(page, 'refused-zh');
    expect((await currentPlan()).version).toBe(before.version);
    expect(await page.getByTestId('plan-version').innerText()).toContain(String(before.version));

    // Fixed: back to a 20-min window; a new checkpoint at the north gate, added to the key-areas route.
    await keySchedule.getByTestId('schedule-window').fill('20');
    await page.getByTestId('plan-checkpoints-add').tap();
    const added = page.getByTestId('plan-checkpoint').last();
    const newId = await added.getByTestId('cp-id').inputValue();
    expect(newId).toMatch(/^cp-\d+$/);
    await added.getByTestId('cp-name').fill('北门岗亭');
    await added.getByTestId('cp-location').fill('北门');
    await added.getByTestId('cp-tag').fill('NFC-CP-NORTH-GATE');
    await added.getByTestId('cp-key-area').tap();
    const route = page.locator('[data-testid="plan-route"][data-id="key-areas"]');
    await route.getByTestId('route-add-stop').tap();
    const stop = route.getByTestId('plan-stop').last();
    await stop.getByTestId('stop-checkpoint').selectOption(newId);
    await stop.getByTestId('stop-offset').fill('15');
    await stop.getByTestId('stop-tolerance').fill('3');
    await stop.getByTestId('stop-band').fill('2');
    // Reordered: the new stop goes up one place and back, the order the plan is saved in stays.
    await stop.getByTestId('stop-up').tap();
    await expect.poll(() => route.getByTestId('plan-stop').nth(1).getAttribute('data-checkpoint')).toBe(newId);
    await route.getByTestId('plan-stop').nth(1).getByTestId('stop-down').tap();
    await expect.poll(() => route.getByTestId('plan-stop').last().getAttribute('data-checkpoint')).toBe(newId);

    await page.getByTestId('plan-save').tap();
    const saved = page.getByTestId('plan-saved');
    await saved.waitFor();
    expect(await page.getByTestId('plan-refused').count()).toBe(0);
    expect(Number(await saved.getAttribute('data-version'))).toBe(before.version + 1);
    expect(await saved.innerText()).toContain('已开始的轮次仍按原计划');
    await expect.poll(() => page.getByTestId('plan-current').getAttribute('data-version')).toBe(String(before.version + 1));

    const after = await currentPlan();
    expect(after.version).toBe(before.version + 1);
    expect(after.plan.checkpoints.find((c) => c.id === newId)).toMatchObject({ name: '北门岗亭', tag: 'NFC-CP-NORTH-GATE' });
    expect(after.plan.routes.find((r) => r.id === 'key-areas')?.stops.map((s) => s.checkpoint)).toEqual(['garage', 'plant-room', newId]);
    expect(after.plan.schedules.find((s) => s.id === 'key-half-hourly')?.window_min).toBe(20);
    await expect.poll(() => page.locator('[data-testid="plan-version-row"]').count()).toBe(before.version + 1);
    await saved.scrollIntoViewIfNeeded();
    await shot(page, 'saved-zh');
  });

  it('speaks English completely', async () => {
    await page.getByTestId('lang-en').tap();
    await expect.poll(() => page.getByTestId('review-tab-plan').innerText()).toBe('Patrol plan');
    for (const id of ['plan-current', 'plan-savebar', 'review-tabs']) {
      expect({ id, text: await page.getByTestId(id).innerText() }).toEqual({ id, text: expect.not.stringMatching(han) });
    }
    // The section headings, field labels and buttons (the plan's own names stay as the site wrote them).
    const chrome = await page.locator('.plan-editor .panel-title, .plan-editor .field-label, .plan-editor button').allInnerTexts();
    expect(chrome.filter((s) => han.test(s))).toEqual([]);
    await page.locator('.content').evaluate((el) => (el.scrollTop = 0));
    await shot(page, 'en');
    await page.getByTestId('lang-zh-CN').tap();
  });
});
