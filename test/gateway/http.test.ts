// The HTTP API through fastify's inject(): logins, validation errors, auth, masking, health.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/gateway.js';
import { migrationsDir } from '../../gateway/core/paths.js';
import { readMigrations } from '../../gateway/store/migrate.js';
import type { App } from '../../gateway/http/app.js';
import { demoYaml } from '../helpers/config.js';
import { tempDir } from '../helpers/gateway.js';

const clock = new ManualClock(Date.UTC(2026, 10, 21, 8, 0, 0));
const dataDir = tempDir();
const config = parseConfig(demoYaml.replace('demo:\n  enabled: true', 'demo:\n  enabled: false'), 'demo.yaml', {
  GUARDPOST_DATA: dataDir,
  GUARDPOST_HTTP_PORT: '0',
  GUARDPOST_MQTT_PORT: '0',
});
const gateway = new Gateway({ config, log: silentLogger(), clock });
let app: App;

beforeAll(async () => {
  await gateway.start();
  app = gateway.http!;
});
afterAll(() => gateway.stop());

async function login(personId: string, pin: string) {
  return app.inject({ method: 'POST', url: '/api/session', payload: { personId, pin } });
}

describe('HTTP API', () => {
  it('lists the people for the login screen without their PIN hashes', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/people' });
    expect(res.statusCode).toBe(200);
    expect(res.json().people).toContainEqual({ id: 'guard-li', name: '李建国', role: 'guard' });
    expect(res.body).not.toContain('scrypt');
  });

  it('logs a guard in with the right PIN and out again, auditing both', async () => {
    const res = await login('guard-wang', '2222');
    expect(res.statusCode).toBe(200);
    const { token, person, expiresAt } = res.json();
    expect(person).toEqual({ id: 'guard-wang', name: '王海', role: 'guard' });
    expect(expiresAt).toBe(clock.now() + 12 * 3600 * 1000);
    const events = await app.inject({ method: 'GET', url: '/api/events', headers: { authorization: `Bearer ${token}` } });
    expect(events.statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/api/session', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(204);
    const after = await app.inject({ method: 'GET', url: '/api/events', headers: { authorization: `Bearer ${token}` } });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toEqual({ error: { code: 'unauthorized', message: 'log in first (session missing or expired)' } });
  });

  it('expires sessions after a shift', async () => {
    const { token } = (await login('op-zhao', '3333')).json();
    clock.advance(12 * 3600 * 1000);
    const res = await app.inject({ method: 'GET', url: '/api/events', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(401);
  });

  it('refuses a wrong PIN, and locks the person out after five', async () => {
    const wrong = await login('sup-chen', '0000');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: { code: 'unauthorized', message: 'wrong person or PIN' } });
    for (let i = 0; i < 4; i++) await login('sup-chen', '0000');
    const locked = await login('sup-chen', '4444');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toEqual({ code: 'locked_out', message: 'too many wrong PINs: try again in 5 min' });
    clock.advance(5 * 60 * 1000);
    expect((await login('sup-chen', '4444')).statusCode).toBe(200);
    expect((await login('nobody', '1234')).statusCode).toBe(401);
  });

  it('answers bad requests with 400 and a readable message, never 500', async () => {
    const cases = [
      { payload: { personId: 'guard-li', pin: '12' }, expect: /pin/ },
      { payload: { personId: 'guard-li' }, expect: /pin/ },
      { payload: { personId: 'guard-li', pin: '1111', remember: true }, expect: /additional properties/ },
    ];
    for (const c of cases) {
      const res = await app.inject({ method: 'POST', url: '/api/session', payload: c.payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('bad_request');
      expect(res.json().error.message).toMatch(c.expect);
    }
    const garbage = await app.inject({ method: 'POST', url: '/api/session', headers: { 'content-type': 'application/json' }, payload: '{"personId": ' });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error.code).toBe('bad_request');
    const { token } = (await login('guard-li', '1111')).json();
    const badLimit = await app.inject({ method: 'GET', url: '/api/events?limit=100000', headers: { authorization: `Bearer ${token}` } });
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().error.message).toMatch(/querystring\/limit must be <= 500/);
    const missing = await app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /api/nothing-here' } });
  });

  it('reports health with store, broker and every device', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // Simulators are off here, so the devices exist but have not connected.
    expect(body.status).toBe('degraded');
    expect(body.devices).toHaveLength(8);
    expect(body.devices[0]).toEqual({ id: 'reader-north-in', name: '北门入口读卡器', kind: 'reader', type: 'mqtt', state: 'offline', lastSeen: null, lastError: null });
    expect(body.store).toMatchObject({ status: 'ok', schemaVersion: readMigrations(migrationsDir).length });
    expect(body.broker.status).toBe('ok');
  });
});
