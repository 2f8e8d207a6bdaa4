// The MQTT upstream against a real Mosquitto (HQ's broker) with HQ's consumer subscribed: drains, faults, master data, peers; every record reconciled by id.
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/core/clock.js';
import { masterTopic, upTopic, type MasterData, type UpBatch } from '../../../sync/contract.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { childrenRunning } from '../../helpers/procs.js';
import { waitFor } from '../../helpers/wait.js';
import { compound, startGate, syncConfig, until, type Gate } from './gate.js';
import { Ledger, mqttRecorder } from './hq.js';

const password = 'north-secret-pw';
let broker: Mosquitto;
let hq: MqttClient;
let ledger: Ledger;
const gates: Gate[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

/**
 * test/helpers/mosquitto.ts probes "is it listening yet" by binding the port itself, which now and
 * then makes a starting Mosquitto fail with "Address already in use"; a start is tried again then.
 */
async function retried<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt === 3 || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

const restart = () => retried(() => broker.start());

beforeEach(async () => {
  broker = await retried(() => startMosquitto([
    { username: 'north', password },
    { username: 'south', password: 'south-pw' },
    { username: 'hq', password: 'hq-pw' },
    // May read but not publish batches: the broker answers its publishes 0x87.
    { username: 'readonly', password: 'ro-pw', acl: ['topic read guardpost/v1/#'] },
  ]));
  ledger = new Ledger();
  hq = await mqttRecorder(broker.url, 'hq', 'hq-pw', ledger);
});

afterEach(async () => {
  for (const g of gates.splice(0)) await g.close();
  for (const c of cleanups.splice(0)) await c();
  await hq.endAsync(true);
  await broker.close();
});

function gate(over: Partial<Parameters<typeof syncConfig>[0]> = {}, opts: Parameters<typeof startGate>[1] = {}): Gate {
  const g = startGate(syncConfig({ transport: 'mqtt', mqtt: { url: broker.url, username: 'north', password }, ...over }), opts);
  gates.push(g);
  return g;
}

/** After a broker restart HQ's consumer is back and subscribed before the gate is let to retry. */
async function hqBack(): Promise<void> {
  // The broker is back: HQ's consumer must have seen it go first, or it would skip the reconnect.
  await waitFor('HQ consumer disconnected', () => !hq.connected);
  hq.reconnect();
  await waitFor('HQ consumer reconnected', () => hq.connected);
  await hq.subscribeAsync('guardpost/v1/+/+/up/#', { qos: 1 });
}

const attempts = (g: Gate) => g.statuses.filter((s, i) => s.state === 'backoff' && g.statuses[i - 1]?.state !== 'backoff').length;

describe('MQTT upstream', () => {
  it('drains the outbox to HQ: every record once, in seq order per stream, then marked sent', async () => {
    const g = gate();
    const queued = g.queue(300);
    void g.pump.start();
    await g.drive('the outbox drained', () => g.depth() === 0 && ledger.has(queued));
    ledger.reconcile(queued);
    expect(ledger.duplicates).toBe(0);
    expect(ledger.violations).toEqual([]);
    expect(ledger.batches.every((b) => b.site === 'north' && b.compound === compound && b.records.length <= 7)).toBe(true);
    const s = g.pump.status();
    expect(s).toMatchObject({ state: 'online', protocol: 'mqtt 5', lastError: null });
    await g.drive('a status report', () => g.pump.status().outboxDepth === 0);
    expect(g.pump.status().lastSuccessAt).not.toBeNull();
    // Records queued while online go too, without a reconnect.
    const more = g.queue(20);
    await g.drive('the new records at HQ', () => ledger.has(more));
    ledger.reconcile([...queued, ...more]);
  });

  it('keeps trying for days while HQ is down, never waiting longer than the cap, then delivers everything', async () => {
    await broker.stop();
    const capMs = 3600_000;
    const g = gate({ max_backoff_s: capMs / 1000 });
    const start = g.clock.now();
    const queued = g.queue(200);
    void g.pump.start();
    const waits: number[] = [];
    let failedAt = start;
    for (;;) {
      const s = await until('a failed attempt', () => {
        const st = g.pump.status();
        return st.state === 'backoff' && st.lastErrorAt === failedAt && st.nextAttemptAt !== null ? st : null;
      });
      waits.push(s.nextAttemptAt! - failedAt);
      if (s.nextAttemptAt! - start > 3 * 86400_000) break;
      g.clock.advance(s.nextAttemptAt! - g.clock.now());
      failedAt = s.nextAttemptAt!;
    }
    expect(waits[0]).toBeLessThan(1000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(capMs);
    // It reached the cap's range, and kept trying (about every half cap on average with full jitter).
    expect(Math.max(...waits)).toBeGreaterThan(capMs / 2);
    expect(waits.length).toBeGreaterThan(72);
    const down = g.pump.status();
    expect(down).toMatchObject({ state: 'backoff', outboxDepth: 200, oldestUnsentAt: start });
    expect(down.lastError).toMatch(/ECONNREFUSED/);
    // One log line for the outage, not one per attempt.
    expect(g.logs.filter((l) => l.level === 'warn')).toHaveLength(1);

    await restart();
    await hqBack();
    await g.drive('everything at HQ', () => g.depth() === 0 && ledger.has(queued), { stepMs: 60_000 });
    ledger.reconcile(queued);
    expect(g.pump.status().state).toBe('online');
    expect(g.logs.some((l) => l.msg === 'sync to HQ back online')).toBe(true);
  });

  it('survives the broker going away and coming back several times during a drain', async () => {
    const g = gate({ batch_size: 5 });
    const queued: ReturnType<Gate['queue']> = [];
    const depthAtStop: number[] = [];
    void g.pump.start();
    for (let round = 0; round < 4; round++) {
      const before = ledger.records;
      let stopping: Promise<void> | null = null;
      // Stop the broker the moment HQ sees this round's first batch, while the rest are on their way.
      const onBatch = () => {
        if (!stopping && ledger.records > before) {
          depthAtStop.push(g.depth());
          stopping = broker.stop();
        }
      };
      hq.on('message', onBatch);
      queued.push(...g.queue(120));
      await g.drive('a batch at HQ', () => stopping);
      await stopping;
      hq.off('message', onBatch);
      await g.drive('the gate backing off', () => g.pump.status().state === 'backoff');
      await restart();
      await hqBack();
    }
    await g.drive('everything at HQ', () => g.depth() === 0 && ledger.has(queued));
    ledger.reconcile(queued);
    expect(attempts(g)).toBeGreaterThanOrEqual(4);
    expect(depthAtStop.some((d) => d > 0)).toBe(true);
  });

  it('loses nothing when the broker is killed (SIGKILL) with batches in flight', async () => {
    const g = gate({ batch_size: 4 });
    const first = g.queue(120);
    void g.pump.start();
    await g.drive('the first part at HQ', () => g.depth() === 0 && ledger.has(first));
    // Frozen first, so the batches below are surely in its socket, unanswered, when it dies.
    const [pid] = childrenRunning(process.pid, 'mosquitto');
    process.kill(pid!, 'SIGSTOP');
    const second = g.queue(180);
    await g.drive('batches on their way, unanswered', () => g.pump.status().inflight === 4);
    await broker.kill();
    await g.drive('the gate backing off', () => g.pump.status().state === 'backoff');
    expect(g.depth()).toBe(180);
    await restart();
    await hqBack();
    await g.drive('everything at HQ', () => g.depth() === 0 && ledger.has(second));
    ledger.reconcile([...first, ...second]);
  });

  it('refused credentials: auth-failed, retried at the cap, the password never logged', async () => {
    const g = gate({ mqtt: { url: broker.url, username: 'north', password: 'wrong-password' } });
    g.queue(10);
    void g.pump.start();
    const s = await waitFor('auth-failed', () => (g.pump.status().state === 'auth-failed' ? g.pump.status() : null));
    expect(s.nextAttemptAt! - s.lastErrorAt!).toBe(60_000);
    expect(s.lastError).toMatch(/refused the connection/);
    expect(JSON.stringify(g.logs) + JSON.stringify(g.statuses)).not.toContain('wrong-password');
    expect(g.depth()).toBe(10);
  });

  it('a batch the broker refuses as not authorised (0x87) stays unsent and says auth-failed', async () => {
    const g = gate({ mqtt: { url: broker.url, username: 'readonly', password: 'ro-pw' } });
    g.queue(10);
    void g.pump.start();
    const s = await waitFor('auth-failed', () => (g.pump.status().state === 'auth-failed' ? g.pump.status() : null));
    expect(s.lastError).toMatch(/0x87/);
    expect(g.depth()).toBe(10);
    expect(ledger.records).toBe(0);
  });

  it('applies retained master data, newer versions as they come (also after a broker restart while idle), and ignores what breaks the contract', async () => {
    const watchlist = (version: number, value: string): MasterData => ({
      v: 1,
      compound,
      kind: 'watchlist',
      version,
      publishedAt: Date.now(),
      data: { entries: [{ id: `w-${version}`, kind: 'plate', value, reason: 'unpaid fees' }] },
    });
    const topic = masterTopic(compound, 'watchlist');
    await hq.publishAsync(topic, JSON.stringify(watchlist(1, '沪A12345')), { qos: 1, retain: true });
    const g = gate();
    void g.pump.start();
    await g.drive('version 1 applied', () => g.notices.some((n) => n.type === 'master' && n.version === 1));
    const active = () => g.store.db.prepare("SELECT value FROM watchlist WHERE active = 1 AND added_by = 'hq'").all() as { value: string }[];
    expect(active().map((r) => r.value)).toEqual(['沪A12345']);

    // HQ's broker restarts while the gate has nothing to send (the audit row of the apply is gone too):
    // it notices and comes back for master data anyway.
    await g.drive('nothing left to send', () => g.depth() === 0 && g.pump.status().inflight === 0);
    await broker.stop();
    await g.drive('the idle gate noticing', () => g.pump.status().state === 'backoff');
    await restart();
    await hqBack();
    await hq.publishAsync(topic, '{"v":1,"kind":"watchlist"', { qos: 1, retain: true });
    await g.drive('the bad copy noted', () => g.logs.some((l) => l.msg === 'message from HQ ignored'));
    await hq.publishAsync(topic, JSON.stringify(watchlist(2, '沪B54321')), { qos: 1, retain: true });
    await g.drive('version 2 applied', () => g.notices.some((n) => n.type === 'master' && n.version === 2));
    expect(active().map((r) => r.value)).toEqual(['沪B54321']);
    expect(g.notices).toEqual([
      { type: 'master', kind: 'watchlist', version: 1 },
      { type: 'master', kind: 'watchlist', version: 2 },
    ]);
  });

  it("applies the compound's other gates' shared records, and not its own", async () => {
    const g = gate();
    void g.pump.start();
    await g.drive('online', () => g.pump.status().state === 'online');
    const south = await connectAsync(broker.url, { username: 'south', password: 'south-pw', protocolVersion: 5 });
    cleanups.push(() => south.endAsync());
    const at = Date.now();
    const decision = (id: string, seq: number) => ({ id, seq, at, data: { id, at, entry_point: 'south-gate', direction: 'in', outcome: 'denied', subject: null, credential_kind: 'card', credential_value: '1', reason: 'unknown card' } });
    const batch: UpBatch = { v: 1, compound, site: 'south', stream: 'decisions', sentAt: at, records: [decision('d-1', 1), decision('d-2', 2)] };
    await south.publishAsync(upTopic(compound, 'south', 'decisions'), JSON.stringify(batch), { qos: 1 });
    await g.drive('the peer notice', () => g.notices.find((n) => n.type === 'peer'));
    expect(g.notices).toEqual([{ type: 'peer', stream: 'decisions', count: 2 }]);
    const own = g.queue(5, ['decisions']);
    await g.drive('own batch at HQ', () => ledger.has(own));
    await g.drive('a few more seconds', () => g.clock.now() > at + 5000);
    const sites = g.store.db.prepare('SELECT DISTINCT site FROM peer_records').all() as { site: string }[];
    expect(sites).toEqual([{ site: 'south' }]);
  });

  it('the gate clock an hour ahead: nothing breaks, and sentAt is the gate clock', async () => {
    const clock = new ManualClock(Date.now() + 3600_000);
    const g = gate({}, { clock });
    const queued = g.queue(50);
    void g.pump.start();
    await g.drive('everything at HQ', () => g.depth() === 0 && ledger.has(queued));
    ledger.reconcile(queued);
    for (const b of ledger.batches) {
      expect(b.sentAt).toBeGreaterThanOrEqual(Date.now() + 3590_000);
      expect(b.sentAt).toBeLessThanOrEqual(clock.now());
    }
  });
});

describe('MQTT upstream against other brokers', () => {
  it('falls back to MQTT 3.1.1 when the broker refuses 5 (aedes), and drains all the same', async () => {
    const aedes = await Aedes.createBroker({ authenticate: (_c, user, pw, done) => done(null, user === 'north' && pw?.toString() === password) });
    const server = createServer((s) => aedes.handle(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => aedes.close(() => server.close(() => r()))));
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    const ledger311 = new Ledger();
    const sub = await connectAsync(url, { username: 'north', password, protocolVersion: 4, clientId: 'hq-311' });
    cleanups.push(() => sub.endAsync());
    sub.on('message', (_t, p) => ledger311.take(JSON.parse(p.toString('utf8'))));
    await sub.subscribeAsync('guardpost/v1/+/+/up/#', { qos: 1 });
    const g = gate({ mqtt: { url, username: 'north', password } });
    const queued = g.queue(100);
    void g.pump.start();
    await g.drive('everything at HQ', () => g.depth() === 0 && ledger311.has(queued));
    ledger311.reconcile(queued);
    expect(g.pump.status().protocol).toBe('mqtt 3.1.1');
    expect(g.logs.filter((l) => /refuses MQTT 5/.test(l.msg))).toHaveLength(1);
  });

  it('parks a batch the broker refuses as invalid (0x99) and the rest flows; a doubled PUBACK marks nothing twice', async () => {
    // No broker here answers 0x99 (Mosquitto never judges payloads), so this one speaks just enough MQTT 5 to do it.
    const hq5 = new Ledger();
    const server = validatingBroker(hq5);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    const g = gate({ batch_size: 5, mqtt: { url, username: 'north', password } });
    const queued = g.queue(40, ['decisions'], (id, i) => ({ id, n: i, ...(i === 12 ? { bad: true } : {}) }));
    void g.pump.start();
    await g.drive('the outbox settled', () => g.depth() === 0);
    const parked = g.store.db.prepare('SELECT seq, parked_reason FROM outbox WHERE parked_at IS NOT NULL ORDER BY seq').all() as { seq: number; parked_reason: string }[];
    // The whole batch holding the bad record: MQTT answers per message, not per record.
    expect(parked.map((p) => p.seq)).toEqual([11, 12, 13, 14, 15]);
    expect(parked[0]!.parked_reason).toMatch(/payload format invalid \(0x99\)/);
    hq5.reconcile(queued.filter((q) => q.seq < 11 || q.seq > 15));
    const sentTwice = g.store.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NOT NULL').get() as { n: number };
    expect(sentTwice.n).toBe(35);
    expect(g.pump.status()).toMatchObject({ state: 'online', parked: 5 });
  });
});

/** A minimal MQTT 5 server: CONNACK, SUBACK, and a PUBACK (sent twice) of 0x99 for a batch with a record marked bad. */
function validatingBroker(into: Ledger): Server {
  return createServer((socket) => {
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p: object) => socket.write(mqttPacket.generate(p as never, { protocolVersion: 5 }));
    parser.on('packet', (p) => {
      if (p.cmd === 'connect') send({ cmd: 'connack', reasonCode: 0, sessionPresent: false });
      else if (p.cmd === 'subscribe') send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 1) });
      else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else if (p.cmd === 'publish') {
        const batch = JSON.parse(p.payload.toString()) as UpBatch;
        const bad = batch.records.some((r) => (r.data as { bad?: boolean }).bad);
        if (!bad) into.take(batch);
        const ack = { cmd: 'puback', messageId: p.messageId, reasonCode: bad ? 0x99 : 0 };
        send(ack);
        send(ack);
      }
    });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => undefined);
  });
}
