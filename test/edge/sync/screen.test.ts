// The HQ sync screen in real Chromium against a real gateway whose HQ is unreachable: state, backlog, master versions, refused records and who may resend them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoYaml } from '../../helpers/config.js';
import { freePort, startGateway, tempDir, type RunningGateway } from '../../helpers/gateway.js';
import { closeAll, expectTouchSized, keepFailureEvidence, launchChromium, loggedInPage, screenshots } from '../browser.js';

const shot = screenshots('sync-');
// HQ's reason as the pump stores it: HQ's own words, shown as sent.
const refusal = 'payload.detail.role: must be one of guard, operator, supervisor, admin';
// 3 h 12 min and a bit: the oldest record's age reads as hours and minutes.
const backdateMs = (3 * 60 + 12) * 60_000 + 20_000;

interface SyncBody {
  sync: { state: string; outboxDepth: number | null; parked: number | null };
  parked: { seq: number; reason: string }[];
}

describe('edge UI: HQ sync screen', () => {
  let gw: RunningGateway | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let page: Page | undefined;
  const tokens: Record<string, string> = {};

  const api = async <T>(path: string, token: string, init: RequestInit = {}) => {
    if (!gw) throw new Error('no gateway');
    const res = await fetch(`${gw.httpUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const session = async (personId: string, pin: string) => {
    if (!gw) throw new Error('no gateway');
    const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId, pin }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  /** The gateway's own store, opened beside it: the test plays HQ's part of refusing records. */
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    if (!gw) throw new Error('no gateway');
    const db = new Database(join(gw.dataDir, 'guardpost.db'));
    db.pragma('busy_timeout = 5000');
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  /** Parks the newest waiting audit record as HQ's refusal would (never the first in line, whose age the screen shows); returns its seq. */
  const parkOne = (): number =>
    withDb((db) => {
      const row = db.prepare("SELECT seq FROM outbox WHERE stream = 'audit' AND sent_at IS NULL AND parked_at IS NULL ORDER BY seq DESC LIMIT 1").get() as { seq: number } | undefined;
      if (!row) throw new Error('no waiting audit record to park');
      db.prepare('UPDATE outbox SET parked_at = ?, parked_reason = ? WHERE seq = ?').run(Date.now(), refusal, row.seq);
      return row.seq;
    });
  const newPage = async (person: string, pin: string) => {
    if (!browser || !gw) throw new Error('no browser');
    const p = await loggedInPage(browser, gw.httpUrl, person, pin);
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
    // A port nobody listens on: HQ's broker is down for the whole test, so the link never comes online.
    const hqPort = await freePort();
    // The gateway's own ports chosen here, so its broker cannot land on HQ's port and answer (and refuse) in HQ's place.
    const ports = new Set([hqPort]);
    while (ports.size < 3) ports.add(await freePort());
    const [, httpPort, mqttPort] = [...ports] as [number, number, number];
    const dir = tempDir('gp-sync-edge-');
    const site = parse(demoYaml) as { demo: { enabled: boolean }; sync?: unknown };
    site.demo.enabled = false;
    site.sync = { enabled: true, transport: 'mqtt', max_backoff_s: 20, alarm_after_s: 600, mqtt: { url: `mqtt://127.0.0.1:${hqPort}`, username: 'cuihu-north', password: 'hq-secret' } };
    const config = join(dir, 'site.yaml');
    writeFileSync(config, stringify(site));
    gw = await startGateway({ config, dataDir: dir, httpPort, mqttPort });
    // Each login is audited, and the audit goes to HQ: records for the outbox.
    tokens.admin = await session('admin', '9999');
    tokens.sup = await session('sup-chen', '4444');
    tokens.guard = await session('guard-li', '1111');
    withDb((db) => {
      // The first in line is the one whose age counts (the sync reads it by seq).
      const oldest = db.prepare('SELECT seq FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1').get() as { seq: number };
      db.prepare('UPDATE outbox SET created_at = ? WHERE seq = ?').run(Date.now() - backdateMs, oldest.seq);
      const at = Date.now();
      db.prepare('INSERT INTO master_versions (kind, version, applied_at) VALUES (?, ?, ?), (?, ?, ?)').run('residents', 3, at, 'watchlist', 7, at);
    });
    browser = await launchChromium();
  });

  afterEach(({ task }) => keepFailureEvidence(task, page, gw, shot));

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await closeAll(browser, gw);
  });

  it('shows the admin that HQ is not reached, the backlog and its age, from the top bar chip', async () => {
    const seq = parkOne();
    const p = await newPage('admin', '9999');
    expect(await navIds(p)).toEqual(['admin', 'storage', 'sync', 'devices']);
    expect(await p.getByTestId('nav-sync').innerText()).toBe('总部同步');

    // The chip in the top bar says the link is down and takes the admin to the screen.
    const chip = p.getByTestId('sync-chip');
    await chip.waitFor({ timeout: 15_000 });
    expect(['connecting', 'backoff']).toContain(await chip.getAttribute('data-state'));
    expect(await chip.innerText()).toContain('总部同步');
    await expectTouchSized(p);
    await chip.tap();
    await p.getByTestId('section-sync').waitFor();
    await p.getByTestId('sync-status').waitFor({ timeout: 10_000 });
    // On the screen itself the chip would only repeat it.
    expect(await p.getByTestId('sync-chip').count()).toBe(0);

    const status = p.getByTestId('sync-status');
    expect(['connecting', 'backoff']).toContain(await status.getAttribute('data-state'));
    // Between tries it waits, and says until when.
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 20_000 }).toBe('backoff');
    await expect.poll(() => p.getByTestId('sync-status-line').innerText(), { timeout: 20_000 }).toMatch(/^下次重试：\d\d:\d\d:\d\d$/);
    expect(await p.getByTestId('sync-state').innerText()).toBe('连不上总部，等待重试');
    // The lamp is amber (#f59e0b) as well as the words.
    expect(await p.evaluate<string>(`getComputedStyle(document.querySelector('[data-testid="sync-status"] .lamp')).backgroundColor`)).toBe('rgb(245, 158, 11)');

    // Records are waiting; the oldest has waited over three hours, past the alarm limit, and is shown so.
    await expect.poll(async () => Number(await p.getByTestId('sync-waiting').getAttribute('data-count')), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await p.getByTestId('sync-waiting').innerText()).toMatch(/^\d+ 条$/);
    await expect.poll(() => p.getByTestId('sync-oldest').innerText(), { timeout: 20_000 }).toMatch(/^3 小时 1\d 分$/);
    expect(await p.getByTestId('sync-backlog').getAttribute('data-overdue')).toBe('true');
    expect(await p.getByTestId('sync-overdue').isVisible()).toBe(true);
    expect(await p.getByTestId('sync-last-success').innerText()).toBe('从未');
    await expect.poll(() => p.getByTestId('sync-last-error').innerText(), { timeout: 20_000 }).not.toBe('无');

    // Master data versions per kind, by name; a kind HQ has not sent yet says so.
    expect(await p.getByTestId('master-residents').innerText()).toMatch(/住户\s+第 3 版/);
    expect(await p.getByTestId('master-watchlist').innerText()).toMatch(/黑名单\s+第 7 版/);
    expect(await p.getByTestId('master-patrol_plan').innerText()).toMatch(/巡更计划\s+尚未收到/);

    // The refused record, with HQ's reason and a big button to send it again.
    const row = p.locator(`[data-testid="parked-row"][data-seq="${seq}"]`);
    await row.waitFor();
    expect(await row.getByTestId('parked-stream').innerText()).toBe('操作日志');
    expect(await row.getByTestId('parked-reason').innerText()).toBe(refusal);
    const recordId = withDb((db) => (db.prepare('SELECT record_id FROM outbox WHERE seq = ?').get(seq) as { record_id: string }).record_id);
    expect(await row.getByTestId('parked-record').getAttribute('title')).toBe(recordId);
    expect((await row.getByTestId('parked-record').innerText()).length).toBeLessThan(recordId.length);
    expect(await row.getByTestId('parked-retry').innerText()).toContain('重新发送');
    await expectTouchSized(p);
    await shot(p, 'zh');
    // The screen scrolls inside the content pane: the refused records get their own picture.
    await p.getByTestId('sync-parked').scrollIntoViewIfNeeded();
    await shot(p, 'zh-parked');

    await p.getByTestId('lang-en').tap();
    await expect.poll(() => p.getByTestId('nav-sync').innerText()).toBe('HQ sync');
    expect(await p.getByTestId('sync-state').innerText()).toBe('Cannot reach HQ, will retry');
    await expect.poll(() => p.getByTestId('sync-status-line').innerText(), { timeout: 20_000 }).toMatch(/^Next try at \d\d:\d\d:\d\d$/);
    expect(await p.getByTestId('sync-oldest').innerText()).toMatch(/^3 h 1\d min$/);
    expect(await p.getByTestId('master-preregistrations').innerText()).toMatch(/Pre-registered visitors\s+not received yet/);
    expect(await row.getByTestId('parked-stream').innerText()).toBe('Audit log');
    expect(await row.getByTestId('parked-retry').innerText()).toContain('Send again');
    // A tap elsewhere first: the language button just tapped is still pressed (and shrunk) under the emulated finger.
    await p.locator('.section-title').tap();
    await expectTouchSized(p);
    await shot(p, 'en');
    await p.getByTestId('sync-parked').scrollIntoViewIfNeeded();
    await shot(p, 'en-parked');
    await p.getByTestId('lang-zh-CN').tap();
    await expect.poll(() => p.getByTestId('nav-sync').innerText()).toBe('总部同步');
  });

  it('sends a refused record again: it leaves the list, rejoins the backlog, and the resend is audited', async () => {
    const p = page;
    if (!p) throw new Error('no page');
    const rows = p.getByTestId('parked-row');
    expect(await rows.count()).toBe(1);
    const seq = Number(await rows.first().getAttribute('data-seq'));
    await rows.first().getByTestId('parked-retry').tap();
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(0);
    expect(await p.getByTestId('parked-none').innerText()).toBe('没有被退回的记录');
    expect(await p.getByTestId('sync-requeued').isVisible()).toBe(true);

    const stored = withDb((db) => ({
      row: db.prepare('SELECT parked_at, sent_at FROM outbox WHERE seq = ?').get(seq) as { parked_at: number | null; sent_at: number | null },
      audit: db.prepare("SELECT actor, target FROM audit_log WHERE action = 'sync.retry_parked'").all() as { actor: string; target: string }[],
    }));
    expect(stored.row).toEqual({ parked_at: null, sent_at: null });
    expect(stored.audit).toEqual([{ actor: 'admin', target: String(seq) }]);
    const after = await api<SyncBody>('/api/sync', tokens.admin ?? '');
    expect(after.status).toBe(200);
    expect(after.body.parked).toEqual([]);
    await expectTouchSized(p);
  });

  it('shows a supervisor the refused records without a button to send them again', async () => {
    const seq = parkOne();
    const p = await newPage('sup-chen', '4444');
    expect(await navIds(p)).toEqual(['review', 'gate', 'wall', 'playback', 'approvals', 'seals', 'storage', 'sync', 'devices']);
    await p.getByTestId('nav-sync').tap();
    const row = p.locator(`[data-testid="parked-row"][data-seq="${seq}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getByTestId('parked-reason').innerText()).toBe(refusal);
    expect(await p.getByTestId('parked-retry').count()).toBe(0);
    expect(await p.getByTestId('sync-parked').innerText()).toContain('只有管理员可以重新发送');
    expect(await p.getByTestId('sync-status').getAttribute('data-state')).not.toBe('online');
    // All nine sections still fit beside the screen, and every target is big enough.
    await expectTouchSized(p);
    const last = await p.getByTestId('nav-devices').boundingBox();
    expect((last?.y ?? 0) + (last?.height ?? 0)).toBeLessThanOrEqual(800);
    await shot(p, 'supervisor-zh');
    // The gateway refuses a supervisor's resend as well.
    const res = await api<unknown>(`/api/sync/parked/${seq}/retry`, tokens.sup ?? '', { method: 'POST' });
    expect(res.status).toBe(403);
    expect((await api<SyncBody>('/api/sync', tokens.sup ?? '')).body.parked.map((r) => r.seq)).toEqual([seq]);
  });

  it('gives a guard neither the screen nor the chip', async () => {
    const p = await newPage('guard-li', '1111');
    expect(await navIds(p)).toEqual(['gate', 'devices']);
    // Health carries the sync view: once the site name is in, the chip would be too.
    await expect.poll(() => p.getByTestId('site-name').innerText(), { timeout: 10_000 }).toContain('翠湖花园');
    const health = await api<{ sync: { enabled: boolean; state: string } }>('/api/health', tokens.guard ?? '');
    expect(health.body.sync.enabled).toBe(true);
    expect(health.body.sync.state).not.toBe('online');
    expect(await p.getByTestId('sync-chip').count()).toBe(0);
    expect(await p.getByTestId('nav-sync').count()).toBe(0);
    expect((await api<unknown>('/api/sync', tokens.guard ?? '')).status).toBe(403);
  });
});
