// The resident import against a real store: formats offices export, rejected rows, idempotent re-import, garbage, the demo file, 100,000 rows.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../gateway/core/paths.js';
import { normaliseCard } from '../../../gateway/gate/credentials.js';
import { decodeCsvBytes, importResidents, readCsv, type ImportDeps } from '../../../gateway/gate/import.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import { prng } from '../../helpers/prng.js';

const lists = ['resident', 'staff', 'visitor', 'blocked'] as const;
const now = Date.UTC(2025, 5, 1, 2, 0);

const open: Store[] = [];
function fresh(): Store {
  let t = now;
  const store = openStore({ dataDir: mkdtempSync(join(tmpdir(), 'guardpost-import-')), now: () => t++ });
  open.push(store);
  return store;
}
afterEach(() => open.splice(0).forEach((s) => s.close()));

function deps(store: Store, more: Partial<ImportDeps> = {}): ImportDeps {
  return { store, lists, now, actor: 'admin', timeZone: 'Asia/Shanghai', ...more };
}

function count(store: Store, table: string, where = '1'): number {
  return (store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
}

function counts(store: Store) {
  return {
    units: count(store, 'units'),
    residents: count(store, 'residents'),
    credentials: count(store, 'credentials'),
    residentsOutbox: count(store, 'outbox', "stream = 'residents'"),
  };
}

function holderOf(store: Store, kind: 'card' | 'plate', value: string) {
  const c = store.residents.credential(kind, value);
  if (!c) return undefined;
  const r = store.db.prepare('SELECT r.name, r.kind, u.code FROM residents r LEFT JOIN units u ON u.id = r.unit_id WHERE r.id = ?').get(c.holder_id) as
    | { name: string; kind: string; code: string | null }
    | undefined;
  return { list: c.list, validUntil: c.valid_until, holder: r ?? null };
}

const good = [
  'unit,kind,name,phone,cards,plates,list,valid_until',
  '3-2-1201,owner,张伟,138 0013 8000,3005127841;3005127842,沪A12345,,',
  '3-2-1201,family,王丽,,3005127843,,,',
  '1-1-101,tenant,李娜,+86 139 0000 0001,0011223344,沪AD12345,,2030-12-31',
  ',staff,王师傅,15000000051,1234509876,沪B6D789,staff,',
].join('\n');

describe('importResidents: a good file', () => {
  it('creates units, residents, cards and plates, with an audit entry and outbox rows for HQ', () => {
    const store = fresh();
    const report = importResidents(good, deps(store));
    expect(report).toEqual({ units: 2, residents: 4, credentials: 8, rejected: [] });

    const unit = store.residents.unitWithCode('3-2-1201');
    expect(unit).toMatchObject({ code: '3-2-1201', building: '3', entrance: '2', room: '1201' });
    expect(store.residents.residentsOf(unit!.id).map((r) => [r.name, r.kind, r.phone])).toEqual([
      ['张伟', 'owner', '13800138000'],
      ['王丽', 'family', null],
    ]);
    expect(holderOf(store, 'card', '3005127842')).toEqual({ list: 'resident', validUntil: null, holder: { name: '张伟', kind: 'owner', code: '3-2-1201' } });
    // Cards are stored in the reader's normal form: no leading zeros.
    expect(holderOf(store, 'card', normaliseCard('0011223344'))?.holder).toEqual({ name: '李娜', kind: 'tenant', code: '1-1-101' });
    // End of 31 December 2030 in Shanghai (UTC+8) is 15:59:59.999 UTC.
    expect(holderOf(store, 'plate', '沪AD12345')?.validUntil).toBe(Date.UTC(2030, 11, 31, 16, 0) - 1);
    expect(holderOf(store, 'plate', '沪B6D789')).toEqual({ list: 'staff', validUntil: null, holder: { name: '王师傅', kind: 'staff', code: null } });
    expect(store.db.prepare("SELECT phone FROM residents WHERE name = '李娜'").get()).toEqual({ phone: '13900000001' });

    const audit = store.audit.recent(5).find((e) => e.action === 'residents.import');
    expect(audit?.actor).toBe('admin');
    expect(JSON.parse(audit!.detail)).toMatchObject({ rows: 4, unitsCreated: 2, residentsCreated: 4, credentialsCreated: 8, rejected: 0 });
    expect(store.audit.verify().ok).toBe(true);

    const outbox = store.db.prepare("SELECT payload FROM outbox WHERE stream = 'residents'").all() as { payload: string }[];
    expect(outbox).toHaveLength(4);
    const zhang = outbox.map((o) => JSON.parse(o.payload)).find((p) => p.name === '张伟');
    expect(zhang).toMatchObject({ unit: '3-2-1201', kind: 'owner', phone: '13800138000' });
    expect(zhang.credentials.map((c: { value: string }) => c.value).sort()).toEqual(['3005127841', '3005127842', '沪A12345']);
  });

  it('reads Chinese headers in any order, a BOM, CRLF, quoted fields and every list separator', () => {
    const store = fresh();
    const csv =
      '\uFEFF姓名,*房号,类型（必填）,手机号,卡号,车牌,名单,有效期至\r\n' +
      '"张伟",3-2-1201,业主,13800138000,"3005127841；3005127842|3005127843",沪A12345 ; 沪B22222,,2026/1/5\r\n' +
      '"王""小""明",3栋2单元1202室,家属,,,,,\r\n' +
      '"陈, 大伟",1-1-101,租户,,,"京A88888,京A88889",,\r\n' +
      '孙师傅,,员工,,777,,,\r\n';
    const report = importResidents(csv, deps(store));
    expect(report.rejected).toEqual([]);
    expect(report).toMatchObject({ units: 3, residents: 4, credentials: 8 });
    expect(store.residents.unitWithCode('3-2-1202')).toBeDefined();
    expect(store.db.prepare("SELECT name FROM residents WHERE name LIKE '王%'").get()).toEqual({ name: '王"小"明' });
    expect(holderOf(store, 'plate', '京A88889')?.holder?.name).toBe('陈, 大伟');
    expect(holderOf(store, 'card', '3005127843')?.validUntil).toBe(Date.UTC(2026, 0, 5, 16, 0) - 1);
    expect(holderOf(store, 'card', '777')).toMatchObject({ list: 'staff', holder: { name: '孙师傅', kind: 'staff' } });
  });

  it('ignores empty header cells Excel leaves behind, and rows that stop after the last named column', () => {
    const store = fresh();
    const report = importResidents('unit,kind,name,,\n1-1-101,owner,李娜\n1-1-102,owner,张伟,,\n1-1-103,owner\n', deps(store));
    expect(report).toEqual({ units: 2, residents: 2, credentials: 0, rejected: [{ line: 4, reason: '2 values, but the header has 5 columns; name missing' }] });
  });

  it('takes the time zone from the caller for valid_until', () => {
    const store = fresh();
    importResidents('unit,kind,name,cards,valid_until\n1-1-101,owner,李娜,42,2030-06-30\n', deps(store, { timeZone: 'Europe/Berlin' }));
    // Berlin is on summer time (UTC+2) at the end of June.
    expect(holderOf(store, 'card', '42')?.validUntil).toBe(Date.UTC(2030, 5, 30, 22, 0) - 1);
  });
});

describe('importResidents: bad rows', () => {
  it('rejects exactly the bad lines with all their problems and imports the rest', () => {
    const store = fresh();
    const csv = [
      'unit,kind,name,phone,cards,plates,list,valid_until', // 1
      '3-2-1201,owner,张伟,13800138000,3005127841,沪A12345,,', // 2 good
      '3-2-1202,owner,刘强,12345,,哈A12345,,', // 3 bad phone and plate
      '3-2,landlord,,,,,vip,2025-02-30', // 4 everything wrong
      '"1-1-101",tenant,"李', // 5 a quoted line break: one record over lines 5-6
      '娜",call-me,,,,', // 6
      ',staff,王师傅,,1234509876,,,', // 7 good
      '', // 8 blank: skipped, not rejected
      '2-1-101,owner,赵磊,,3005127841,,,', // 9 card held by 张伟 (line 2)
      '2-1-102,owner,钱多,,3.00513E+09,沪AI1234,,', // 10 Excel mangled card, plate with I
      '2-1-103,owner,周五,,,,,,extra', // 11 too many values
      '1-2-101,staff,错工,,,,,', // 12 staff with a unit
      ',owner,无房,,,,,', // 13 owner without a unit
    ].join('\n');
    const report = importResidents(csv, deps(store));
    expect(report.rejected).toEqual([
      { line: 3, reason: 'phone 12345: not a phone number; plate 哈A12345: unknown province' },
      {
        line: 4,
        reason:
          'kind landlord: not owner, tenant, family or staff (业主, 租户, 家属, 员工); name missing; unit 3-2: not building-entrance-room like 3-2-1201 (1-6 letters or digits each); list vip: not one of resident, staff, visitor, blocked; valid_until 2025-02-30: not a date YYYY-MM-DD',
      },
      { line: 5, reason: 'phone call-me: not a phone number' },
      { line: 9, reason: 'card 3005127841 already belongs to 张伟 3-2-1201' },
      {
        line: 10,
        reason:
          'card 3.00513E+09: Excel turned it into a number in scientific notation; format the column as text and export again; plate 沪AI1234: characters a plate cannot have',
      },
      { line: 11, reason: '9 values, but the header has 8 columns' },
      { line: 12, reason: 'unit 1-2-101: staff belong to no unit' },
      { line: 13, reason: 'unit missing' },
    ]);
    expect(report).toMatchObject({ units: 1, residents: 2, credentials: 3 });
    // Nothing of a rejected row is written: not its unit, not its person.
    expect(store.residents.unitWithCode('2-1-101')).toBeUndefined();
    expect(count(store, 'residents', "name = '赵磊'")).toBe(0);
    expect(counts(store)).toMatchObject({ units: 1, residents: 2, credentials: 3 });
  });

  it('keeps a card or plate without a holder only when the row names its list', () => {
    const store = fresh();
    const report = importResidents('unit,kind,name,plates,list\n,,,京N8P231,blocked\n,,,京N8P232,\n,,,,blocked\n1-1-101,,,京N8P233,blocked\n', deps(store));
    expect(report.rejected).toEqual([
      { line: 3, reason: 'a row without a person must name its list' },
      { line: 4, reason: 'empty row' },
      { line: 5, reason: 'kind and name missing' },
    ]);
    expect(holderOf(store, 'plate', '京N8P231')).toEqual({ list: 'blocked', validUntil: null, holder: null });
    // A blocked vehicle is not a person's: claiming it for someone is a conflict.
    const again = importResidents('unit,kind,name,plates\n1-1-101,owner,李娜,京N8P231\n', deps(store));
    expect(again.rejected).toEqual([{ line: 2, reason: 'plate 京N8P231 is already on list blocked without a holder' }]);
  });

  it('rejects a card or plate that is already active for another person, naming them', () => {
    const store = fresh();
    importResidents('unit,kind,name,cards,plates\n3-2-1201,owner,张伟,123,\n,staff,王师傅,,沪B6D789\n', deps(store));
    const before = counts(store);
    const report = importResidents('unit,kind,name,cards,plates\n5-5-505,owner,冒名,123,沪B6D789\n3-2-1201,family,张小伟,,沪B6D789\n', deps(store));
    expect(report.rejected).toEqual([
      { line: 2, reason: 'card 123 already belongs to 张伟 3-2-1201; plate 沪B6D789 already belongs to 王师傅 (staff)' },
      { line: 3, reason: 'plate 沪B6D789 already belongs to 王师傅 (staff)' },
    ]);
    expect(counts(store)).toEqual(before);
    expect(store.residents.unitWithCode('5-5-505')).toBeUndefined();
  });

  it('reports a bad header, a missing column or an empty file once, on line 1, and imports nothing', () => {
    const store = fresh();
    const cases: [string, RegExp][] = [
      ['', /^the file is empty$/],
      ['\uFEFF\r\n  \n', /^the file is empty$/],
      ['unit,kind,name,colour\n1-1-101,owner,李娜,red\n', /^unknown column colour \(the first row must name the columns: unit\/房号/],
      ['unit,name\n1-1-101,李娜\n', /^missing column kind \(类型\)/],
      ['unit,kind,name,姓名\n1-1-101,owner,李娜,李娜\n', /^column name appears twice/],
      ['1-1-101,owner,李娜\n1-1-102,owner,张伟\n', /^unknown columns 1-1-101, owner, 李娜; missing columns unit \(房号\), kind \(类型\), name \(姓名\)/],
      ['\uFFFD\uFFFD,\uFFFD\uFFFD\n', /the file is not UTF-8 text/],
    ];
    for (const [csv, reason] of cases) {
      const report = importResidents(csv, deps(store));
      expect(report.rejected, JSON.stringify(csv)).toHaveLength(1);
      expect(report.rejected[0]?.line).toBe(1);
      expect(report.rejected[0]?.reason).toMatch(reason);
      expect(report).toMatchObject({ units: 0, residents: 0, credentials: 0 });
    }
    expect(counts(store)).toEqual({ units: 0, residents: 0, credentials: 0, residentsOutbox: 0 });
  });

  it('writes nothing at all when the database fails part way', () => {
    const store = fresh();
    store.db.exec("CREATE TRIGGER boom BEFORE INSERT ON residents WHEN NEW.name = '故障' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    const csv = 'unit,kind,name,cards\n1-1-101,owner,李娜,1\n1-1-102,owner,故障,2\n';
    expect(() => importResidents(csv, deps(store))).toThrow(/disk on fire/);
    expect(counts(store)).toEqual({ units: 0, residents: 0, credentials: 0, residentsOutbox: 0 });
    expect(count(store, 'audit_log')).toBe(0);
  });
});

describe('importResidents: re-import', () => {
  it('is idempotent: the same file twice changes nothing and tells HQ nothing new', () => {
    const store = fresh();
    importResidents(good, deps(store));
    const before = counts(store);
    const again = importResidents(good, deps(store));
    expect(again).toEqual({ units: 0, residents: 0, credentials: 0, rejected: [] });
    expect(counts(store)).toEqual(before);
  });

  it('updates a phone, a list and an expiry in place, and queues the changed resident for HQ', () => {
    const store = fresh();
    importResidents(good, deps(store));
    const before = counts(store);
    const changed = good.replace('138 0013 8000', '13911112222').replace('沪A12345,,', '沪A12345,visitor,2027-01-01').replace('王丽,,', '王丽,15000000099,');
    const report = importResidents(changed, deps(store, { now: now + 1000 }));
    expect(report).toEqual({ units: 0, residents: 0, credentials: 0, rejected: [] });
    expect(counts(store)).toEqual({ ...before, residentsOutbox: before.residentsOutbox + 2 });
    expect(store.db.prepare("SELECT phone, updated_at FROM residents WHERE name = '张伟'").get()).toEqual({ phone: '13911112222', updated_at: now + 1000 });
    expect(holderOf(store, 'plate', '沪A12345')).toMatchObject({ list: 'visitor', validUntil: Date.UTC(2027, 0, 1, 16, 0) - 1 });
    const last = store.db.prepare("SELECT payload FROM outbox WHERE stream = 'residents' ORDER BY seq DESC LIMIT 2").all() as { payload: string }[];
    expect(last.map((o) => JSON.parse(o.payload).name).sort()).toEqual(['张伟', '王丽']);
    const audit = store.audit.recent(1)[0];
    expect(JSON.parse(audit!.detail)).toMatchObject({ residentsUpdated: 2, credentialsUpdated: 3 });
  });

  it('adds a new card to a known person instead of a second person', () => {
    const store = fresh();
    importResidents(good, deps(store));
    const report = importResidents('unit,kind,name,cards\n3-2-1201,owner,张伟,3005127899\n', deps(store));
    expect(report).toEqual({ units: 0, residents: 0, credentials: 1, rejected: [] });
    expect(count(store, 'residents', "name = '张伟'")).toBe(1);
    expect(holderOf(store, 'card', '3005127899')?.holder?.name).toBe('张伟');
  });
});

describe('importResidents: garbage', () => {

  it('never throws: binary, unbalanced quotes, 10 MB of commas, NULs, random mutations', () => {
    const store = fresh();
    const random = prng(7);
    const bytes = new Uint8Array(64 * 1024).map(() => Math.floor(random() * 256));
    const inputs = [
      decodeCsvBytes(bytes),
      Buffer.from(bytes).toString('latin1'),
      ','.repeat(10 * 1024 * 1024),
      '"'.repeat(1001),
      'unit,kind,name\n"1-1-101,owner,李娜\n1-1-102,owner,张伟\n',
      'unit,kind,name\n1-1-101,owner,"李"娜\n',
      'unit,kind,name\u0000\n\u0000,\u0000,\u0000\n',
      `unit,kind,name\n${','.repeat(5 * 1024 * 1024)}x\n`,
      '\r\r\r\n\n,,,\n',
      '"unit","kind","name"\n' + '"'.repeat(3) + '\n',
      'unit,kind,name,cards,plates\n1-1-101,owner,李娜,\uD800,\uDFFF\n',
      12345 as unknown as string,
    ];
    const chars = [',', '"', '\n', '\r', ';', '；', '|', '沪', 'A', '1', '-', ' ', '\uFEFF', '\u0000'];
    for (let k = 0; k < 300; k++) {
      const a = [...good];
      for (let m = 0; m < 8; m++) a.splice(Math.floor(random() * a.length), Math.floor(random() * 3), chars[Math.floor(random() * chars.length)]!);
      inputs.push(a.join(''));
    }
    for (const input of inputs) {
      const report = importResidents(input, deps(store));
      expect(Array.isArray(report.rejected)).toBe(true);
      for (const r of report.rejected) {
        expect(Number.isInteger(r.line) && r.line >= 1).toBe(true);
        expect(r.reason.length).toBeGreaterThan(0);
        expect(r.reason.length).toBeLessThan(2000);
      }
    }
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('reports an unbalanced quote on the line it opens and keeps the rows before it', () => {
    const store = fresh();
    const report = importResidents('unit,kind,name\n1-1-101,owner,李娜\n1-1-102,owner,"张伟\n1-1-103,owner,王芳\n', deps(store));
    expect(report.residents).toBe(1);
    expect(report.rejected).toEqual([
      { line: 3, reason: 'not valid CSV: a quote opened on line 3 is never closed, so lines 3-4 could not be read' },
    ]);
  });

  it('rejects oversized and crafted cells by length, before any pattern sees them', () => {
    const store = fresh();
    const csv = `unit,kind,name,cards,plates\n${'栋'.repeat(999)},owner,${'张'.repeat(2_000_000)},${';'.repeat(3_000_000)},\n${'(('.repeat(100_000)}\n`;
    const report = importResidents(csv, deps(store));
    expect(report.rejected.map((r) => r.line)).toEqual([2, 3]);
    expect(report.rejected[0]?.reason).toBe(
      `name longer than 1000 characters; unit ${'栋'.repeat(40)}...: not building-entrance-room like 3-2-1201 (1-6 letters or digits each); cards longer than 1000 characters`,
    );
  });

  it('rejects 10 MB of commas as one bad header', () => {
    const report = importResidents(','.repeat(10 * 1024 * 1024), deps(fresh()));
    expect(report.rejected).toEqual([{ line: 1, reason: 'the header row has more than 64 columns: this is not a resident list' }]);
  });
});

describe('CSV reading and decoding', () => {
  it('follows RFC 4180: quoted delimiters, doubled quotes, line breaks in quotes, CRLF, LF and CR', () => {
    const records = [...readCsv('a,"b,1","c""d"\r\n"multi\nline",x\r\ny,\rlast')];
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b,1', 'c"d']],
      [2, ['multi\nline', 'x']],
      [4, ['y', '']],
      [5, ['last']],
    ]);
    expect(records.every((r) => r.error === undefined)).toBe(true);
  });

  it('decodes UTF-8 with a BOM, GB18030 from Excel and UTF-16 with a BOM', () => {
    const text = '房号,类型,姓名\r\n3-2-1201,业主,张伟\r\n';
    expect(decodeCsvBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toBe(text);
    // 张伟 in GBK, as Excel's plain "CSV" writes it on Chinese Windows.
    expect(decodeCsvBytes(Buffer.from([0xd5, 0xc5, 0xce, 0xb0]))).toBe('张伟');
    expect(decodeCsvBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('姓名\t类型', 'utf16le')]))).toBe('姓名\t类型');
  });

  it('imports Excel "Unicode text" (UTF-16, tab-separated)', () => {
    const store = fresh();
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('房号\t类型\t姓名\t卡号\r\n3-2-1201\t业主\t张伟\t3005127841\r\n', 'utf16le')]);
    expect(importResidents(decodeCsvBytes(bytes), deps(store))).toEqual({ units: 1, residents: 1, credentials: 1, rejected: [] });
  });
});

describe('the demo site file', () => {
  const demo = readFileSync(join(packageRoot, 'config', 'demo-residents.csv'), 'utf8');

  it('imports with no rejections and holds the credentials the simulated devices use', () => {
    const store = fresh();
    const report = importResidents(demo, deps(store));
    expect(report.rejected).toEqual([]);
    expect(report.units).toBeGreaterThanOrEqual(35);
    expect(report.residents).toBeGreaterThanOrEqual(55);
    expect(count(store, 'residents', "kind = 'staff'")).toBe(4);
    expect(store.residents.unitWithCode('1-1-101')).toBeDefined();
    expect(store.residents.unitWithCode('3-2-1201')).toBeDefined();

    const zhang = { name: '张伟', kind: 'owner', code: '3-2-1201' };
    const li = { name: '李娜', kind: 'tenant', code: '1-1-101' };
    const wang = { name: '王师傅', kind: 'staff', code: null };
    // The devices send cards as readers print them; the gate normalises before the lookup.
    expect(holderOf(store, 'card', normaliseCard('3005127841'))).toMatchObject({ list: 'resident', holder: zhang });
    // A second card in the same household, held by another person, so the demo's two cards do not trip anti-passback.
    expect(holderOf(store, 'card', normaliseCard('3005127842'))).toMatchObject({ list: 'resident', holder: { name: '张小雨', kind: 'family', code: '3-2-1201' } });
    expect(holderOf(store, 'card', normaliseCard('0011223344'))).toMatchObject({ list: 'resident', holder: li });
    expect(holderOf(store, 'card', normaliseCard('1234509876'))).toMatchObject({ list: 'staff', holder: wang });
    expect(holderOf(store, 'plate', '沪A12345')).toMatchObject({ list: 'resident', holder: zhang });
    expect(holderOf(store, 'plate', '沪AD12345')).toMatchObject({ list: 'resident', holder: li });
    expect(holderOf(store, 'plate', '沪B6D789')).toMatchObject({ list: 'staff', holder: wang });
    expect(holderOf(store, 'plate', '京N8P231')).toEqual({ list: 'blocked', validUntil: null, holder: null });
    expect(count(store, 'outbox', "stream = 'credentials'")).toBe(1);

    // The demo's unknown card and unknown car must stay unknown.
    expect(store.residents.credential('card', normaliseCard('2876543210'))).toBeUndefined();
    expect(store.residents.credential('plate', '苏E05XY7')).toBeUndefined();
    expect(demo).not.toMatch(/2876543210|苏E05XY7/);

    expect(importResidents(demo, deps(store))).toEqual({ units: 0, residents: 0, credentials: 0, rejected: [] });
  });
});

describe('importResidents: volume', () => {
  it('imports a generated 100,000-row file', () => {
    const store = fresh();
    const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
    const rows = ['unit,kind,name,phone,cards,plates'];
    for (let i = 0; i < 100_000; i++) {
      // Four people to a unit: 25 buildings, 4 entrances, 250 rooms each.
      const u = Math.floor(i / 4);
      const unit = `${1 + Math.floor(u / 1000)}-${1 + (Math.floor(u / 250) % 4)}-${1000 + (u % 250)}`;
      const plate = `沪${letters[i % letters.length]}${String(i).padStart(5, '0')}`;
      rows.push(`${unit},${i % 4 === 0 ? 'owner' : 'family'},住户${i},138${String(i).padStart(8, '0')},${4_000_000_000 + i},${plate}`);
    }
    const report = importResidents(rows.join('\r\n'), deps(store));
    expect(report.rejected).toEqual([]);
    expect(report).toMatchObject({ units: 25_000, residents: 100_000, credentials: 200_000 });
    expect(counts(store)).toEqual({ units: report.units, residents: 100_000, credentials: 200_000, residentsOutbox: 100_000 });
  });
});
