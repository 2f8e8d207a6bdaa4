// The gate guard's screens in real Chromium (touch) against the real gateway: register a visitor with the
// keypads and the plate keyboard, confirm, issue the pass and its slip, sign the visitor out, the vehicle
// queue fed live over MQTT and the websocket, a watchlist stop, and the manual barrier open.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { connectDevice } from '../helpers/mqtt.js';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, login, screenshots, touchPage } from './browser.js';

const shot = screenshots('gate-');

// Valid mainland IDs (region, date of birth and check digit all right), made up for the test.
const visitorId = '110105199003071239';
const watchedId = '310101198506152345';

async function tapKeys(page: Page, prefix: string, keys: string): Promise<void> {
  for (const k of keys) await page.getByTestId(`${prefix}-key-${k}`).tap();
}

async function apiToken(gw: RunningGateway, personId: string, pin: string): Promise<string> {
  const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId, pin }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe('edge UI: the gate guard', () => {
  let gw: RunningGateway | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    gw = await startGateway();
    browser = await launchChromium();
    page = await touchPage(browser, gw.httpUrl);
    await login(page, 'guard-li', '1111');
    await page.getByTestId('gate').waitFor({ timeout: 10_000 });
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, gw, shot));

  afterAll(() => closeAll(browser, gw));

  it('shows the gate tabs, the manual open per entry point and big targets', async () => {
    for (const tab of ['vehicles', 'visitors', 'passes', 'alarms', 'shift']) expect(await page.getByTestId(`gate-tab-${tab}`).isVisible()).toBe(true);
    expect(await page.getByTestId('gate-tab-vehicles').innerText()).toContain('车辆');
    await page.getByTestId('manual-open-north-in').waitFor({ timeout: 10_000 });
    const primary = await page.getByTestId('register-start').boundingBox();
    expect(primary?.height).toBeGreaterThanOrEqual(64);
    expect((await page.getByTestId('manual-open-north-in').boundingBox())?.height).toBeGreaterThanOrEqual(64);
    await expectTouchSized(page);
  });

  it('registers a visitor with the keypads and the plate keyboard, confirms by phone and prints the slip', { timeout: 90_000 }, async () => {
    await page.getByTestId('register-start').tap();
    await page.getByTestId('register-step-visitor').waitFor();
    await expectTouchSized(page);
    await tapKeys(page, 'id', visitorId.slice(0, 10));
    await page.getByTestId('id-del').tap();
    await tapKeys(page, 'id', visitorId.slice(9));
    expect(await page.getByTestId('id-number').innerText()).toContain('110105 19900307 1239');
    await page.getByTestId('phone').tap();
    await tapKeys(page, 'phone', '13912345678');
    await page.getByTestId('visitor-name').tap();
    await page.getByTestId('visitor-name').fill('张三');
    await shot(page, 'register-visitor-zh');

    await page.getByTestId('register-next').tap();
    await page.getByTestId('register-step-host').waitFor();
    await tapKeys(page, 'unit', '3-2-12');
    await page.getByTestId('unit-result-3-2-1201').tap({ timeout: 10_000 });
    expect(await page.getByTestId('unit-picked').innerText()).toContain('3-2-1201');
    await page.getByTestId('host-name').fill('陈红');

    await page.getByTestId('register-next').tap();
    await page.getByTestId('register-step-visit').waitFor();
    await page.getByTestId('reason-visiting').tap();
    await page.getByTestId('headcount-plus').tap();
    expect(await page.getByTestId('headcount-value').innerText()).toBe('2');
    await page.getByTestId('leave-2h').tap();

    await page.getByTestId('register-next').tap();
    await page.getByTestId('plate-keyboard').waitFor();
    expect(await page.getByTestId('plate-keyboard').getAttribute('data-stage')).toBe('province');
    await page.getByTestId('plate-key-浙').tap();
    expect(await page.getByTestId('plate-keyboard').getAttribute('data-stage')).toBe('alnum');
    // Plates have no I or O.
    expect(await page.getByTestId('plate-key-I').count()).toBe(0);
    expect(await page.getByTestId('plate-key-O').count()).toBe(0);
    await tapKeys(page, 'plate', 'B123456');
    await page.getByTestId('plate-del').tap();
    expect(await page.getByTestId('plate-value').getAttribute('data-plate')).toBe('浙B12345');
    expect(await page.getByTestId('plate-value').getAttribute('class')).toContain('plate-blue');
    await shot(page, 'register-plate-zh');

    await page.getByTestId('register-next').tap();
    await page.getByTestId('register-step-confirm').waitFor();
    // Not confirmed by the resident yet: no pass, and the screen says why.
    expect(await page.getByTestId('issue-pass').isDisabled()).toBe(true);
    expect(await page.getByTestId('issue-why').innerText()).toContain('住户未确认');
    expect(await page.getByTestId('supervisor-override').count()).toBe(0);
    await page.getByTestId('method-call').tap();
    await page.getByTestId('confirmed-by').fill('陈红');
    expect(await page.getByTestId('register-summary').innerText()).toContain('浙B·12345');
    await shot(page, 'register-confirm-zh');
    // A double tap still makes one visit: the second tap is ignored while the first is on its way, and
    // a retry would carry the same Idempotency-Key.
    await page.getByTestId('issue-pass').tap();
    await page.getByTestId('issue-pass').tap({ force: true, timeout: 2000 }).catch(() => undefined);

    const slip = page.getByTestId('pass-slip');
    await slip.waitFor({ timeout: 10_000 });
    const code = (await slip.getByTestId('slip-code').innerText()).trim();
    expect(code).toMatch(/^[0-9A-Z]{4,12}$/);
    expect(await slip.getByTestId('slip-qr').evaluate((el) => el.tagName.toLowerCase())).toBe('svg');
    expect(await slip.getByTestId('slip-qr').getAttribute('aria-label')).toBe(`GP1:${code}`);
    expect(await slip.getByTestId('slip-holder').innerText()).toContain('张三');
    expect(await slip.getByTestId('slip-unit').innerText()).toBe('3-2-1201');
    await shot(page, 'slip-zh');
    // Printing shows the slip alone, at receipt width: the app is hidden by the print stylesheet.
    await page.emulateMedia({ media: 'print' });
    try {
      expect(await page.locator('#app').isVisible()).toBe(false);
      expect(await page.locator('.print-slip .slip-code').innerText()).toBe(code);
      const paper = await page.locator('.print-slip .slip').boundingBox();
      expect(paper?.width).toBeLessThan(230); // 54 mm is about 204 CSS px
      await shot(page, 'slip-print-zh');
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }

    if (!gw) throw new Error('no gateway');
    const token = await apiToken(gw, 'guard-li', '1111');
    const res = await fetch(`${gw.httpUrl}/api/gate/visits?status=today`, { headers: { Authorization: `Bearer ${token}` } });
    const visits = ((await res.json()) as { visits: { name: string; status: string; plate: string | null; confirmation: string | null; headcount: number }[] }).visits.filter((v) => v.name === '张三');
    expect(visits).toHaveLength(1);
    expect(visits[0]).toMatchObject({ status: 'inside', plate: '浙B12345', confirmation: 'call', headcount: 2 });
  });

  it('lists the visitor inside and signs them out', async () => {
    await page.getByTestId('register-close').tap();
    await page.getByTestId('visitors-inside').waitFor();
    const row = page.getByTestId('inside-visit').filter({ hasText: '张三' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.innerText()).toContain('3-2-1201');
    expect(await row.getAttribute('data-overdue')).toBe('false');
    // The gateway's "open" visits include those inside: the waiting list must not show them again.
    expect(await page.getByTestId('waiting-visit').filter({ hasText: '张三' }).count()).toBe(0);
    await shot(page, 'visitors-zh');
    await row.getByTestId('sign-out').tap();
    await row.getByTestId('sign-out-confirm').tap();
    await expect.poll(() => page.getByTestId('inside-visit').filter({ hasText: '张三' }).count(), { timeout: 10_000 }).toBe(0);
  });

  it('recognises a returning visitor from the ID number and fills the form', async () => {
    await page.getByTestId('register-start').tap();
    await tapKeys(page, 'id', visitorId);
    await page.getByTestId('returning-banner').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('returning-banner').innerText()).toContain('回访访客');
    expect(await page.getByTestId('visitor-name').inputValue()).toBe('张三');
    await page.getByTestId('returning-jump').tap();
    await page.getByTestId('register-step-confirm').waitFor();
    const summary = await page.getByTestId('register-summary').innerText();
    expect(summary).toContain('3-2-1201');
    expect(summary).toContain('浙B·12345');
    await shot(page, 'returning-zh');
    await page.getByTestId('register-close').tap();
    await page.getByTestId('discard-yes').tap();
    await page.getByTestId('register').waitFor({ state: 'detached' });
  });

  it('stops the registration with a full-width red message on a watchlist hit', async () => {
    if (!gw) throw new Error('no gateway');
    const sup = await apiToken(gw, 'sup-chen', '4444');
    const add = await fetch(`${gw.httpUrl}/api/gate/watchlist`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sup}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'id_number', value: watchedId, reason: '曾多次盗窃电动车' }),
    });
    expect(add.status).toBe(200);

    await page.getByTestId('register-start').tap();
    await tapKeys(page, 'id', watchedId);
    const stop = page.getByTestId('watchlist-stop');
    await stop.waitFor({ timeout: 10_000 });
    expect(await stop.innerText()).toContain('曾多次盗窃电动车');
    expect(await page.getByTestId('register-next').count()).toBe(0);
    const box = await stop.boundingBox();
    expect(box?.width).toBeGreaterThan(1000);
    await shot(page, 'watchlist-zh');
    await page.getByTestId('watchlist-end').tap();
    await page.getByTestId('register').waitFor({ state: 'detached' });
  });

  it('fills everything from a pre-registration code and issues the pass without asking the resident again', { timeout: 60_000 }, async () => {
    if (!gw) throw new Error('no gateway');
    const token = await apiToken(gw, 'guard-li', '1111');
    const auth = { Authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const units = (await (await fetch(`${gw.httpUrl}/api/gate/units?q=1-1-101`, { headers: auth })).json()) as { units: { id: string; code: string }[] };
    const unit = units.units.find((u) => u.code === '1-1-101');
    if (!unit) throw new Error('demo unit 1-1-101 missing');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    const created = await fetch(`${gw.httpUrl}/api/gate/preregistrations`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ visitorName: '钱七', phone: '13800001111', plate: '苏A5K321', hostUnitId: unit.id, hostName: '李娜', expectedOn: today }),
    });
    expect(created.status).toBe(201);
    const { code } = ((await created.json()) as { preregistration: { code: string } }).preregistration;

    await page.getByTestId('register-start').tap();
    await page.getByTestId('prereg-code').tap();
    await tapKeys(page, 'code', code);
    await page.getByTestId('prereg-lookup').tap();
    await page.getByTestId('prereg-banner').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('visitor-name').inputValue()).toBe('钱七');
    // A new visitor still shows an ID and gives a phone number.
    await page.getByTestId('id-number').tap();
    await tapKeys(page, 'id', '44030419920815678X');
    await page.getByTestId('phone').tap();
    await tapKeys(page, 'phone', '13800001111');
    await page.getByTestId('prereg-jump').tap();
    await page.getByTestId('register-step-confirm').waitFor();
    const summary = await page.getByTestId('register-summary').innerText();
    expect(summary).toContain('1-1-101');
    expect(summary).toContain('苏A·5K321');
    expect(await page.getByTestId('issue-pass').isEnabled()).toBe(true);
    await page.getByTestId('issue-pass').tap();
    await page.getByTestId('pass-slip').waitFor({ timeout: 10_000 });
    const visits = ((await (await fetch(`${gw.httpUrl}/api/gate/visits?status=inside`, { headers: auth })).json()) as { visits: { name: string; confirmation: string | null }[] }).visits;
    expect(visits.find((v) => v.name === '钱七')?.confirmation).toBe('pre-registered');
    await page.getByTestId('register-close').tap();
    await page.getByTestId('register').waitFor({ state: 'detached' });
  });

  it("puts the gateway's validation message next to the field it is about", { timeout: 60_000 }, async () => {
    await page.getByTestId('register-start').tap();
    // The check digit is right, so the screen lets it through; the gateway knows there is no region 99.
    await tapKeys(page, 'id', '990101199003071237');
    await page.getByTestId('phone').tap();
    await tapKeys(page, 'phone', '13700002222');
    await page.getByTestId('visitor-name').fill('孙九');
    await page.getByTestId('register-next').tap();
    await tapKeys(page, 'unit', '3-2-1201');
    await page.getByTestId('unit-result-3-2-1201').tap({ timeout: 10_000 });
    await page.getByTestId('register-next').tap();
    await page.getByTestId('reason-courier').tap();
    await page.getByTestId('register-next').tap();
    await page.getByTestId('register-next').tap();
    await page.getByTestId('method-intercom').tap();
    await page.getByTestId('confirmed-by').fill('陈红');
    await page.getByTestId('issue-pass').tap();
    const error = page.getByTestId('id-number-error');
    await error.waitFor({ timeout: 10_000 });
    expect(await error.innerText()).toContain('地区代码');
    expect(await page.getByTestId('register-step-visitor').isVisible()).toBe(true);
    await shot(page, 'server-error-zh');
    await page.getByTestId('register-close').tap();
    await page.getByTestId('discard-yes').tap();
    await page.getByTestId('register').waitFor({ state: 'detached' });
  });

  it('puts an unknown plate from the camera into the queue live and refuses it with a reason', async () => {
    if (!gw) throw new Error('no gateway');
    await page.getByTestId('gate-tab-vehicles').tap();
    const camera = await connectDevice(gw.mqttPort, 'plate-north-in', 'demo-plate-pw');
    try {
      await camera.publishAsync('gp/dev/plate-north-in/event/plate', JSON.stringify({ plate: '粤B9K777', confidence: 0.96 }), { qos: 1 });
    } finally {
      await camera.endAsync();
    }
    const card = page.getByTestId('decision-card').filter({ has: page.locator('[data-plate="粤B9K777"]') });
    await card.waitFor({ timeout: 15_000 });
    expect(await card.getByTestId('decision-reason').innerText()).toContain('未登记车辆');
    expect(await card.getByTestId('decision-snapshot').innerText()).toContain('暂无抓拍');
    await shot(page, 'queue-zh');
    await card.getByTestId('decision-refuse').tap();
    await page.getByTestId('refuse-reasons').waitFor();
    await page.getByTestId('refuse-reasons-reason-0').tap();
    await card.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('issues a worker pass and lets the worker walk in and out', { timeout: 60_000 }, async () => {
    await page.getByTestId('gate-tab-passes').tap();
    await page.getByTestId('worker-new').tap();
    await tapKeys(page, 'pass-unit', '1-1-10');
    await page.getByTestId('pass-unit-result-1-1-101').tap({ timeout: 10_000 });
    await page.getByTestId('worker-name').fill('周工');
    await page.getByTestId('worker-company').fill('美家装饰');
    await page.getByTestId('worker-id').tap();
    await tapKeys(page, 'pass-id', '330102197811204565');
    await page.getByTestId('worker-phone').tap();
    await tapKeys(page, 'pass-phone', '13600003333');
    await page.getByTestId('worker-to-plus').tap();
    await expectTouchSized(page);
    await page.getByTestId('worker-submit').tap();
    const slip = page.getByTestId('pass-slip');
    await slip.waitFor({ timeout: 10_000 });
    expect(await slip.innerText()).toContain('施工人员出入证');
    expect(await slip.innerText()).toContain('19:00');
    await page.getByTestId('pass-done-close').tap();

    const outside = page.getByTestId('workers-active').getByTestId('worker-pass').filter({ hasText: '周工' });
    await outside.getByTestId('worker-enter').tap({ timeout: 10_000 });
    const inside = page.getByTestId('workers-inside').getByTestId('worker-pass').filter({ hasText: '周工' });
    await inside.waitFor({ timeout: 10_000 });
    expect(await inside.getAttribute('data-inside')).toBe('true');
    await shot(page, 'passes-zh');
    await inside.getByTestId('worker-leave').tap();
    await inside.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('opens the barrier by hand with a reason and shows that it opened', async () => {
    await page.getByTestId('gate-tab-vehicles').tap();
    await page.getByTestId('manual-open-north-in').tap();
    await page.getByTestId('manual-reasons').waitFor();
    await shot(page, 'manual-reasons-zh');
    await page.getByTestId('manual-reasons-reason-0').tap();
    const result = page.getByTestId('manual-result-north-in').getByTestId('barrier-status');
    // The demo barrier acknowledges the open command.
    await expect.poll(() => result.getAttribute('data-status'), { timeout: 15_000 }).toBe('opened');
    expect(await result.innerText()).toContain('道闸已打开');
    await shot(page, 'manual-open-zh');
  });

  it('speaks English completely', async () => {
    await page.getByTestId('lang-en').tap();
    await expect.poll(() => page.getByTestId('gate-tab-vehicles').innerText()).toBe('Vehicles');
    expect(await page.getByTestId('manual-result-north-in').innerText()).toContain('Barrier opened');
    await shot(page, 'vehicles-en');
    await page.getByTestId('register-start').tap();
    expect(await page.getByTestId('step-visitor').innerText()).toContain('Visitor');
    await shot(page, 'register-en');
    const text = await page.getByTestId('register').innerText();
    expect(text).not.toMatch(/[\u4e00-\u9fff]/);
    await page.getByTestId('register-close').tap();
    for (const tab of ['visitors', 'passes', 'alarms', 'shift']) {
      await page.getByTestId(`gate-tab-${tab}`).tap();
      await page.getByTestId(`gate-panel-${tab}`).waitFor();
      await expectTouchSized(page);
    }
    await shot(page, 'shift-en');
    await page.getByTestId('lang-zh-CN').tap();
  });
});
