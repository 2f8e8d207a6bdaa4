// The published JSON Schema files for HQ: in step with the TypeBox they are generated from, and usable by a strict validator.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { masterKinds } from '../../../sync/contract.js';
import { ContractChecker } from '../../../sync/hq-consumer/check.js';
import { streams } from '../../../sync/records.js';
import { contractDir, renderContractSchemas, staleContractFiles } from '../../../scripts/sync-schemas.js';

const files = renderContractSchemas();

describe('contract schema files', () => {
  it('keeps every file under sync/contract/ in step with the schemas in code', () => {
    // Regenerate with `npm run schema` after changing sync/contract.ts, sync/records.ts or sync/master.ts.
    for (const [path, text] of files) expect(readFileSync(join(contractDir, path), 'utf8'), path).toBe(text);
    expect(staleContractFiles(files)).toEqual([]);
  });

  it('has a schema for every stream and every master kind', () => {
    expect([...files.keys()].filter((p) => p.startsWith('records/')).sort()).toEqual(streams.map((s) => `records/${s}.schema.json`).sort());
    expect([...files.keys()].filter((p) => p.startsWith('master/')).sort()).toEqual(masterKinds.map((k) => `master/${k}.schema.json`).sort());
  });

  it('compiles under a strict validator and tells a good batch from a bad one', () => {
    const checker = new ContractChecker(contractDir);
    const shift = { id: 'sh-1', person_id: 'guard-li', on_at: 1, off_at: null, handover_note: null };
    const good = { v: 1, compound: 'cuihu', site: 'north', stream: 'shifts', sentAt: 2, records: [{ id: 'sh-1', seq: 1, at: 1, data: shift }] };
    const result = checker.checkBatch(Buffer.from(JSON.stringify(good)));
    expect(result).toMatchObject({ ok: true, checked: { accepted: [{ id: 'sh-1' }], rejected: [] } });
    const bad = { ...good, records: [{ id: 'sh-1', seq: 1, at: 1, data: { ...shift, on_at: 'yesterday' } }] };
    expect(checker.checkBatch(Buffer.from(JSON.stringify(bad)))).toMatchObject({ ok: true, checked: { accepted: [], rejected: [{ reason: 'data/on_at must be integer' }] } });
    // A NUL cannot be stored in PostgreSQL; the six characters \u0000 typed into a note can.
    const note = (text: string) => ({ ...good, records: [{ id: 'sh-1', seq: 1, at: 1, data: { ...shift, handover_note: text } }] });
    expect(checker.checkBatch(Buffer.from(JSON.stringify(note('a\u0000b'))))).toMatchObject({ ok: true, checked: { accepted: [], rejected: [{ reason: expect.stringContaining('NUL') }] } });
    expect(checker.checkBatch(Buffer.from(JSON.stringify(note('C:\\u0000'))))).toMatchObject({ ok: true, checked: { accepted: [{ id: 'sh-1' }], rejected: [] } });
    expect(checker.checkBatch(Buffer.from(JSON.stringify({ ...good, extra: 1 })))).toMatchObject({ ok: false, reason: 'not a batch: (root) must NOT have additional properties (extra)' });
    expect(checker.checkMasterData('watchlist', { entries: [{ id: 'w1', kind: 'name', value: '张三', reason: 'x' }] })).toBe('data/entries/0/kind must be "id_number" or "plate" or "phone"');
  });
});
