// Master data from HQ applied whole and only when newer; records shared by the compound's other gates applied once, in any order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../gateway/store/db.js';
import { applyMasterData, applyPeerBatch, masterVersions } from '../../../gateway/store/master.js';
import { unitIdFor } from '../../../gateway/store/residents.js';
import type { MasterData, UpBatch } from '../../../sync/contract.js';

const now = Date.UTC(2026, 10, 22, 8, 0, 0);
let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gp-master-'));
  store = openStore({ dataDir: dir, now: () => now });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const residents = (version: number, people: { id: string; unit: string; cards: string[]; plates: string[] }[]): MasterData => ({
  v: 1,
  compound: 'cuihu',
  kind: 'residents',
  version,
  publishedAt: now,
  data: {
    units: [...new Set(people.map((p) => p.unit))].map((code) => ({ code })),
    residents: people.map((p) => ({ id: p.id, unit: p.unit, kind: 'owner', name: `住户${p.id}`, list: 'resident', cards: p.cards, plates: p.plates })),
  },
});

describe('master data from HQ', () => {
  it('applies a complete resident copy: cards and plates open, HQ ids kept, units named by code', () => {
    expect(applyMasterData(store, residents(3, [{ id: 'hq-r1', unit: '3-2-1201', cards: ['00012345'], plates: ['沪a12345'] }]), now)).toEqual({ applied: true });
    expect(store.residents.credential('card', '12345')).toMatchObject({ holder_id: 'hq-r1', list: 'resident' });
    expect(store.residents.credential('plate', '沪A12345')).toMatchObject({ holder_id: 'hq-r1' });
    expect(store.residents.residentsOf(unitIdFor('3-2-1201')).map((r) => r.id)).toEqual(['hq-r1']);
    expect(masterVersions(store)).toEqual({ residents: 3 });
    expect(store.audit.recent(1)[0]).toMatchObject({ actor: 'hq', action: 'master.apply', target: 'residents' });
  });

  it('ignores a version not newer than the one in force, and a newer copy replaces the old one whole', () => {
    applyMasterData(store, residents(3, [{ id: 'hq-r1', unit: '3-2-1201', cards: ['111'], plates: [] }]), now);
    expect(applyMasterData(store, residents(2, [{ id: 'hq-r2', unit: '1-1-101', cards: ['222'], plates: [] }]), now)).toMatchObject({ applied: false });
    expect(store.residents.credential('card', '222')).toBeUndefined();
    applyMasterData(store, residents(4, [{ id: 'hq-r2', unit: '1-1-101', cards: ['222'], plates: [] }]), now);
    // hq-r1 is no longer in HQ's copy: their card no longer opens.
    expect(store.residents.credential('card', '111')).toBeUndefined();
    expect(store.residents.credential('card', '222')).toMatchObject({ holder_id: 'hq-r2' });
    // A card handed from one resident to another: the old holder's goes before the new one's arrives.
    applyMasterData(store, residents(5, [{ id: 'hq-r2', unit: '1-1-101', cards: [], plates: [] }, { id: 'hq-r3', unit: '1-1-102', cards: ['222'], plates: [] }]), now);
    expect(store.residents.credential('card', '222')).toMatchObject({ holder_id: 'hq-r3' });
  });

  it('applies nothing of a copy that fails half way', () => {
    applyMasterData(store, residents(1, [{ id: 'hq-r1', unit: '3-2-1201', cards: ['111'], plates: [] }]), now);
    // The same card twice is refused by the store (one active holder per card): the whole version is refused.
    expect(() => applyMasterData(store, residents(2, [{ id: 'a', unit: '1-1-1', cards: ['999'], plates: [] }, { id: 'b', unit: '1-1-2', cards: ['999'], plates: [] }]), now)).toThrow();
    expect(store.residents.credential('card', '111')).toMatchObject({ holder_id: 'hq-r1' });
    expect(masterVersions(store)).toEqual({ residents: 1 });
  });

  it("replaces HQ's watchlist and keeps what guards added at the gate", () => {
    store.watchlist.add({ id: 'local-1', kind: 'plate', value: '京B00001', reason: '保安添加', added_by: 'guard-li', added_at: now });
    const list = (version: number, entries: { id: string; value: string }[]): MasterData => ({
      v: 1, compound: 'cuihu', kind: 'watchlist', version, publishedAt: now,
      data: { entries: entries.map((e) => ({ id: e.id, kind: 'plate', value: e.value, reason: '总部黑名单' })) },
    });
    applyMasterData(store, list(1, [{ id: 'w1', value: '沪c99999' }]), now);
    expect(store.watchlist.find('plate', '沪C99999')).toMatchObject({ reason: '总部黑名单', added_by: 'hq' });
    applyMasterData(store, list(2, []), now);
    expect(store.watchlist.find('plate', '沪C99999')).toBeUndefined();
    expect(store.watchlist.find('plate', '京B00001')).toMatchObject({ added_by: 'guard-li' });
  });
});

describe('records shared by the other gate', () => {
  const batch = (stream: string, records: { id: string; seq: number; data: unknown }[], site = 'south'): UpBatch => ({
    v: 1, compound: 'cuihu', site, stream, sentAt: now, records: records.map((r) => ({ ...r, at: now })),
  });
  const visit = (status: string, leftAt: number | null) => ({
    id: 'visit-1', visitor_id: 'visitor-1', host_unit_id: 'whatever-the-other-gate-calls-it', host_name: '王先生', reason: '探亲', headcount: 1, plate: null,
    expected_leave_at: now + 3600_000, status, confirmation: 'call', confirmed_by: '王先生', confirmed_at: now, preregistration: null,
    registered_by: 'guard-zhang', registered_at: now, entered_at: now, left_at: leftAt, name: '张三', id_type: 'mainland-id', id_number: '110101199003070011', phone: '13800138000', unit_code: '3-2-1201',
  });
  const pass = { id: 'pass-1', kind: 'visitor', code: '482913', visit_id: 'visit-1', unit_id: unitIdFor('3-2-1201'), holder_name: '张三', valid_from: now, valid_until: now + 3600_000, temp_card: null, plate: null, detail: '{}', status: 'active', issued_by: 'guard-zhang', issued_at: now, closed_by: null, closed_at: null };

  beforeEach(() => {
    applyMasterData(store, residents(1, [{ id: 'hq-r1', unit: '3-2-1201', cards: ['111'], plates: [] }]), now);
  });

  it('takes a pass that arrives before its visit once the visit is there, each version once', () => {
    expect(applyPeerBatch(store, batch('passes', [{ id: 'pass-1', seq: 10, data: pass }]), 'north', now)).toBe(0);
    expect(store.passes.withCode('482913')).toBeUndefined();
    expect(applyPeerBatch(store, batch('visits', [{ id: 'visit-1', seq: 11, data: visit('inside', null) }]), 'north', now)).toBe(2);
    expect(store.passes.withCode('482913')).toMatchObject({ id: 'pass-1', visit_id: 'visit-1' });
    expect(store.visitors.visit('visit-1')).toMatchObject({ status: 'inside', name: '张三', unit_code: '3-2-1201' });
    // The same versions again change nothing; a newer version (signed out) applies.
    expect(applyPeerBatch(store, batch('visits', [{ id: 'visit-1', seq: 11, data: visit('inside', null) }]), 'north', now)).toBe(0);
    expect(applyPeerBatch(store, batch('visits', [{ id: 'visit-1', seq: 20, data: visit('left', now + 60_000) }]), 'north', now)).toBe(1);
    expect(store.visitors.visit('visit-1')).toMatchObject({ status: 'left', left_at: now + 60_000 });
  });

  it("moves presence once per granted decision, and never on this gate's own batches", () => {
    const decision = (id: string, direction: 'in' | 'out', outcome = 'granted') => ({
      id, at: now, entry_point: 'south-in', direction, device_id: 'reader-south', credential_kind: 'card', credential_value: '111', outcome, reason: 'list-auto',
      subject: 'resident:hq-r1', subject_name: '住户hq-r1', list: 'resident', resolved_by: null, resolved_at: null, resolution: null, barrier: 'barrier-south', barrier_status: 'sent', barrier_detail: null,
    });
    applyPeerBatch(store, batch('decisions', [{ id: 'd1', seq: 1, data: decision('d1', 'in') }]), 'north', now);
    expect(store.decisions.isInside('resident:hq-r1')).toBe(true);
    // Out here, then the other gate's later version of d1 (its barrier answered) must not put them back in.
    store.decisions.move('resident:hq-r1', 'out', null, now + 1000, () => 'stay-x');
    applyPeerBatch(store, batch('decisions', [{ id: 'd1', seq: 2, data: { ...decision('d1', 'in'), barrier_status: 'opened' } }]), 'north', now);
    expect(store.decisions.isInside('resident:hq-r1')).toBe(false);
    // A refused decision moves nobody; our own batch echoed back by the broker is ignored.
    applyPeerBatch(store, batch('decisions', [{ id: 'd2', seq: 3, data: decision('d2', 'in', 'denied') }]), 'north', now);
    expect(applyPeerBatch(store, batch('decisions', [{ id: 'd3', seq: 4, data: decision('d3', 'in') }], 'north'), 'north', now)).toBe(0);
    expect(store.decisions.isInside('resident:hq-r1')).toBe(false);
  });
});
