// The resident import: a property office's CSV of units, residents, staff, cards and plates, checked row by row and written in one transaction.
//
// The file is what the office exports from Excel or WPS: a header row in any column order, English or
// Chinese column names, perhaps a BOM, CRLF line ends. A bad row is reported with every problem it has
// and nothing of it is written; good rows are imported. Re-importing the same file changes nothing.
// The import only adds and updates: a person or card missing from the file is left as it is.
import type { ImportReport } from '../http/gate-contracts.js';
import { newId } from '../core/ids.js';
import { endOfLocalDay, isTimeZone, zonedInstant } from '../core/time.js';
import type { Store } from '../store/db.js';
import { unitIdFor, type ResidentRow } from '../store/residents.js';
import { normaliseCard } from './credentials.js';
import { checkPhone } from './identity.js';
import { parsePlate, type PlateProblem } from './plates.js';

export interface ImportDeps {
  store: Store;
  /** Access list ids from config gate.lists; a row's list must be one of them. */
  lists: readonly string[];
  /** When this import happens (UTC ms): the updated_at of what it writes. */
  now: number;
  /** Who imports (person id), for the audit entry. */
  actor: string;
  /** The site's IANA time zone: a valid_until date lasts to the end of that local day. */
  timeZone: string;
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180, read leniently where Excel and WPS differ from it).

export interface CsvRecord {
  /** 1-based line of the file where the record starts (a quoted field may span lines). */
  line: number;
  fields: string[];
  /** Why the record is not well-formed CSV, if it is not. */
  error?: string;
  /** The record had more fields than were kept. */
  overflow: boolean;
}

/** Wider records are not a resident list; stop keeping fields so 10 MB of commas costs no memory. */
const maxFields = 64;

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Records of a CSV text, lazily. Quoted fields may hold delimiters, doubled quotes and line breaks;
 * lines end in CRLF, LF or a lone CR (Excel for Mac). Never throws: a malformed record carries `error`.
 */
export function* readCsv(text: string, delimiter = ','): Generator<CsvRecord> {
  const sep = delimiter.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let error: string | undefined;
    let overflow = false;
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        const openedOn = line;
        let closed = false;
        value = '';
        let from = ++i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              value += text.slice(from, i + 1);
              i += 2;
              from = i;
              continue;
            }
            value += text.slice(from, i);
            i++;
            closed = true;
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line++;
          i++;
        }
        if (!closed) {
          value += text.slice(from, i);
          // A final line break ends the last line; it does not start another.
          const last = /[\r\n]$/.test(text) ? line - 1 : line;
          error ??= `a quote opened on line ${openedOn} is never closed, so lines ${openedOn}-${Math.max(openedOn, last)} could not be read`;
        } else if (i < n) {
          const c = text.charCodeAt(i);
          if (c !== sep && c !== CR && c !== LF) {
            error ??= 'text after the closing quote of a field';
            while (i < n && text.charCodeAt(i) !== sep && text.charCodeAt(i) !== CR && text.charCodeAt(i) !== LF) i++;
          }
        }
      } else {
        const from = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === sep || c === CR || c === LF) break;
          if (c === QUOTE) error ??= 'a quote inside a field that does not start with one';
          i++;
        }
        value = text.slice(from, i);
      }
      if (fields.length < maxFields) fields.push(value);
      else overflow = true;
      if (i >= n) break;
      const c = text.charCodeAt(i);
      i++;
      if (c === sep) continue;
      if (c === CR && text.charCodeAt(i) === LF) i++;
      line++;
      break;
    }
    yield error === undefined ? { line: start, fields, overflow } : { line: start, fields, overflow, error };
  }
}

/**
 * Bytes of an uploaded file as text. Excel on Chinese Windows saves "CSV" in GB18030 (GBK) and
 * "CSV UTF-8" with a BOM; "Unicode text" is UTF-16 with a BOM. Anything that is not valid UTF-8 is
 * read as GB18030, which every byte sequence decodes in.
 */
export function decodeCsvBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Columns.

type Column = 'unit' | 'kind' | 'name' | 'phone' | 'cards' | 'plates' | 'list' | 'valid_until';

const columnOrder: readonly Column[] = ['unit', 'kind', 'name', 'phone', 'cards', 'plates', 'list', 'valid_until'];
const requiredColumns: readonly Column[] = ['unit', 'kind', 'name'];

/** Header names as offices write them, after headerKey(): lower case, no spaces, underscores, dashes or notes. */
const columnAliases: Readonly<Record<string, Column>> = {
  unit: 'unit', room: 'unit', 房号: 'unit', 房间号: 'unit', 房屋: 'unit', 门牌号: 'unit',
  kind: 'kind', type: 'kind', 类型: 'kind', 身份: 'kind', 人员类型: 'kind',
  name: 'name', 姓名: 'name',
  phone: 'phone', mobile: 'phone', tel: 'phone', 电话: 'phone', 手机: 'phone', 手机号: 'phone', 手机号码: 'phone', 联系电话: 'phone',
  cards: 'cards', card: 'cards', 卡号: 'cards', 门禁卡: 'cards', 门禁卡号: 'cards',
  plates: 'plates', plate: 'plates', 车牌: 'plates', 车牌号: 'plates', 车牌号码: 'plates',
  list: 'list', 名单: 'list',
  validuntil: 'valid_until', 有效期至: 'valid_until', 有效期: 'valid_until', 到期日: 'valid_until', 截止日期: 'valid_until',
};

const columnZh: Readonly<Record<Column, string>> = {
  unit: '房号', kind: '类型', name: '姓名', phone: '电话', cards: '卡号', plates: '车牌', list: '名单', valid_until: '有效期至',
};

/** Templates mark columns "*姓名" or "姓名（必填）"; the mark and the note are not part of the name. */
function headerKey(raw: string): string {
  // No column name is long; a long one is garbage, and must not meet the regular expressions below.
  if (raw.length > maxHeaderLength) return raw;
  return toHalfWidth(raw)
    .replace(/^\uFEFF/, '')
    .trim()
    .replace(/^\*+/, '')
    .replace(/\s*\([^)]*\)\s*$/, '')
    .replace(/[\s_-]+/g, '')
    .toLowerCase();
}

/** `needed`: a row must reach the last named column; `width`: values past the header's cells are an error. */
type Header = { ok: true; index: Map<Column, number>; needed: number; width: number } | { ok: false; reason: string };

function readHeader(record: CsvRecord): Header {
  if (record.error !== undefined) return { ok: false, reason: `the header row is not valid CSV (${record.error})` };
  if (record.overflow) return { ok: false, reason: `the header row has more than ${maxFields} columns: this is not a resident list` };
  const problems: string[] = [];
  const index = new Map<Column, number>();
  const unknown: string[] = [];
  record.fields.forEach((raw, i) => {
    const key = headerKey(raw);
    // Excel leaves empty trailing header cells when a column was cleared; they carry nothing.
    if (key === '') return;
    const column = Object.hasOwn(columnAliases, key) ? columnAliases[key] : undefined;
    if (column === undefined) unknown.push(show(raw.trim()));
    else if (index.has(column)) problems.push(`column ${column} appears twice`);
    else index.set(column, i);
  });
  if (unknown.length > 0) problems.unshift(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
  const missing = requiredColumns.filter((c) => !index.has(c));
  if (missing.length > 0) problems.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `${c} (${columnZh[c]})`).join(', ')}`);
  if (problems.length === 0) return { ok: true, index, needed: Math.max(...index.values()) + 1, width: record.fields.length };
  const expected = columnOrder.map((c) => `${c}/${columnZh[c]}`).join(', ');
  const hint = record.fields.some((f) => f.includes('\uFFFD')) ? '; the file is not UTF-8 text: save it from Excel as "CSV UTF-8"' : '';
  return { ok: false, reason: `${problems.join('; ')} (the first row must name the columns: ${expected})${hint}` };
}

// ---------------------------------------------------------------------------------------------
// One row.

type Kind = ResidentRow['kind'];

const kinds: Readonly<Record<string, Kind>> = {
  owner: 'owner', tenant: 'tenant', family: 'family', staff: 'staff',
  业主: 'owner', 租户: 'tenant', 家属: 'family', 员工: 'staff',
};

interface UnitCode {
  code: string;
  building: string;
  entrance: string;
  room: string;
}

/** A row that passed every check that needs no database. */
interface RowPlan {
  unit: UnitCode | null;
  /** null: a credential-only row (no kind and no name), e.g. a blocked vehicle nobody in the compound owns. */
  person: { kind: Kind; name: string; phone: string | null } | null;
  credentials: { kind: 'card' | 'plate'; value: string; typed: string }[];
  list: string;
  validUntil: number | null;
}

/** Separators offices put between several cards or plates in one cell. */
const itemSeparators = /[;；|｜,，、]/;
/** What Excel makes of a long number in a "General" column: 3.00513E+09. The digits are gone. */
const scientific = /^\d+(\.\d+)?E\+\d+$/i;
const excelHint = 'Excel turned it into a number in scientific notation; format the column as text and export again';
const unitPart = /^[0-9A-Z]{1,6}$/;
/**
 * No real cell is longer. Checking the length first bounds the work a crafted cell can cause: the
 * regular expressions below (and the plate and phone parsers) never see more than this.
 */
const maxCellLength = 1000;
const maxHeaderLength = 64;
const maxNameLength = 32;

const plateReasons: Readonly<Record<PlateProblem, string>> = {
  empty: 'empty',
  province: 'unknown province',
  characters: 'characters a plate cannot have',
  format: 'not a plate number format',
};

function toHalfWidth(value: string): string {
  return value.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
}

/** A value as quoted in a reason: short, one line, nothing invisible. */
function show(value: string): string {
  const chars = [...value.slice(0, 100).replace(/[\p{Cc}\p{Cf}]/gu, '?')];
  return chars.length > 40 ? `${chars.slice(0, 40).join('')}...` : chars.join('');
}

/** 3-2-1201, or the way it is said: 3栋2单元1201室 / 3号楼2单元1201. */
function parseUnit(raw: string): UnitCode | null {
  const text = toHalfWidth(raw).trim().toUpperCase();
  const spoken = /^(.+?)(?:栋|幢|号楼)(.+?)单元(.+?)(?:室|号)?$/u.exec(text);
  const parts = spoken ? spoken.slice(1, 4).map((p) => p.trim()) : text.split(/\s*[-\u2010-\u2015\u2212]\s*/);
  if (parts.length !== 3 || !parts.every((p) => unitPart.test(p))) return null;
  const [building, entrance, room] = parts as [string, string, string];
  return { code: `${building}-${entrance}-${room}`, building, entrance, room };
}

/** YYYY-MM-DD (also YYYY/M/D and YYYY年M月D日, as Excel shows dates) to [year, month, day]. */
function parseDate(raw: string): [number, number, number] | null {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(raw) ?? /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/.exec(raw);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (y < 1970 || probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null;
  return [y, mo, d];
}

function items(cell: string): string[] {
  return cell.split(itemSeparators).map((s) => s.trim()).filter((s) => s !== '');
}

/** Every check of a row that needs no database; all problems at once. */
function planRow(rawCell: (c: Column) => string, deps: ImportDeps, problems: string[]): RowPlan | null {
  const tooLong = new Set<Column>();
  const cell = (c: Column): string => {
    const value = rawCell(c);
    if (value.length <= maxCellLength) return value;
    if (!tooLong.has(c)) problems.push(`${c} longer than ${maxCellLength} characters`);
    tooLong.add(c);
    return '';
  };
  const given = (c: Column, value: string): boolean => value !== '' || tooLong.has(c);
  const unitRaw = cell('unit');
  const kindRaw = cell('kind');
  const nameRaw = cell('name').replace(/\s+/g, ' ');
  const phoneRaw = cell('phone');
  const listRaw = cell('list').toLowerCase();
  const credentialOnly = !given('kind', kindRaw) && !given('name', nameRaw);

  let kind: Kind | undefined;
  if (credentialOnly) {
    if (given('unit', unitRaw)) problems.push('kind and name missing');
    if (phoneRaw !== '') problems.push('phone given but no person (kind and name are empty)');
    if (listRaw === '') problems.push('a row without a person must name its list');
  } else {
    if (kindRaw === '') {
      if (!tooLong.has('kind')) problems.push('kind missing');
    } else {
      kind = Object.hasOwn(kinds, kindRaw.toLowerCase()) ? kinds[kindRaw.toLowerCase()] : undefined;
      if (kind === undefined) problems.push(`kind ${show(kindRaw)}: not owner, tenant, family or staff (业主, 租户, 家属, 员工)`);
    }
    if (nameRaw === '') {
      if (!tooLong.has('name')) problems.push('name missing');
    } else if (/[\p{Cc}\p{Cf}\uFFFD]/u.test(nameRaw)) problems.push(`name ${show(nameRaw)}: unreadable characters (is the file UTF-8?)`);
    else if ([...nameRaw].length > maxNameLength) problems.push(`name ${show(nameRaw)}: longer than ${maxNameLength} characters`);
  }

  let unit: UnitCode | null = null;
  if (unitRaw !== '') {
    unit = parseUnit(unitRaw);
    if (unit === null) problems.push(`unit ${show(unitRaw)}: not building-entrance-room like 3-2-1201 (1-6 letters or digits each)`);
    else if (kind === 'staff') problems.push(`unit ${show(unitRaw)}: staff belong to no unit`);
  } else if (kind !== undefined && kind !== 'staff' && !tooLong.has('unit')) {
    problems.push('unit missing');
  }

  let phone: string | null = null;
  if (phoneRaw !== '') {
    const checked = checkPhone(phoneRaw);
    if (checked.ok) phone = checked.normalised;
    else problems.push(`phone ${show(phoneRaw)}: ${scientific.test(phoneRaw) ? excelHint : 'not a phone number'}`);
  }

  const credentials: RowPlan['credentials'] = [];
  const seen = new Set<string>();
  for (const typed of items(cell('cards'))) {
    const value = normaliseCard(typed);
    if (scientific.test(typed)) problems.push(`card ${show(typed)}: ${excelHint}`);
    else if (!/^[0-9A-Z]{1,32}$/.test(value)) problems.push(`card ${show(typed)}: not a card number (up to 32 letters and digits)`);
    else if (!seen.has(`card:${value}`)) {
      seen.add(`card:${value}`);
      credentials.push({ kind: 'card', value, typed });
    }
  }
  for (const typed of items(cell('plates'))) {
    const parsed = parsePlate(typed);
    if (!parsed.ok) problems.push(`plate ${show(typed)}: ${plateReasons[parsed.reason]}`);
    else if (!seen.has(`plate:${parsed.plate}`)) {
      seen.add(`plate:${parsed.plate}`);
      credentials.push({ kind: 'plate', value: parsed.plate, typed });
    }
  }
  if (credentialOnly && credentials.length === 0 && problems.length === 0) problems.push('empty row');

  const list = listRaw !== '' ? listRaw : kind === 'staff' ? 'staff' : 'resident';
  if (!deps.lists.includes(list)) problems.push(`list ${show(listRaw || list)}: not one of ${deps.lists.join(', ')}`);

  let validUntil: number | null = null;
  const untilRaw = cell('valid_until');
  if (untilRaw !== '') {
    const date = parseDate(untilRaw);
    if (date === null) problems.push(`valid_until ${show(untilRaw)}: not a date YYYY-MM-DD`);
    // Noon, not midnight, finds the right local day even where a DST change skips midnight.
    else validUntil = endOfLocalDay(zonedInstant(date[0], date[1], date[2], '12:00', deps.timeZone), deps.timeZone);
  }

  if (problems.length > 0) return null;
  return { unit, person: credentialOnly || kind === undefined ? null : { kind, name: nameRaw, phone }, credentials, list, validUntil };
}

// ---------------------------------------------------------------------------------------------
// The import.

interface CachedResident {
  id: string;
  unitId: string | null;
  kind: Kind;
  name: string;
  phone: string | null;
}

interface CachedCredential {
  id: string;
  kind: 'card' | 'plate';
  value: string;
  holderId: string | null;
  list: string;
  validFrom: number | null;
  validUntil: number | null;
}

const residentKey = (unitId: string | null, kind: string, name: string): string => `${unitId ?? ''}\u0000${kind}\u0000${name}`;

/**
 * Import a resident list (see the file comment). Rejected rows come back with their line and every
 * problem; the counts are what this import created (units, residents, credentials). Never throws on
 * bad input; a database failure throws and rolls the whole import back.
 */
export function importResidents(csv: string, deps: ImportDeps): ImportReport {
  if (!isTimeZone(deps.timeZone)) throw new RangeError(`importResidents: unknown time zone ${deps.timeZone}`);
  const { store, now: at } = deps;
  const report: ImportReport = { units: 0, residents: 0, credentials: 0, rejected: [] };
  const reject = (line: number, reason: string) => report.rejected.push({ line, reason });
  const stats = { rows: 0, residentsUpdated: 0, credentialsUpdated: 0 };

  return store.transaction(() => {
    const audit = () =>
      store.audit.append({
        actor: deps.actor,
        action: 'residents.import',
        detail: {
          rows: stats.rows,
          unitsCreated: report.units,
          residentsCreated: report.residents,
          residentsUpdated: stats.residentsUpdated,
          credentialsCreated: report.credentials,
          credentialsUpdated: stats.credentialsUpdated,
          rejected: report.rejected.length,
        },
      });

    const text = typeof csv === 'string' ? (csv.charCodeAt(0) === 0xfeff ? csv.slice(1) : csv) : '';
    if (text.trim() === '') {
      reject(1, typeof csv === 'string' ? 'the file is empty' : 'the file is not text');
      audit();
      return report;
    }
    // Excel's "Unicode text" export is tab-separated; everything else here is comma-separated.
    const firstLine = text.slice(0, text.search(/[\r\n]|$/));
    const records = readCsv(text, !firstLine.includes(',') && firstLine.includes('\t') ? '\t' : ',');
    const first = records.next();
    const header = first.done ? ({ ok: false, reason: 'the file is empty' } as const) : readHeader(first.value);
    if (!header.ok) {
      reject(1, header.reason);
      audit();
      return report;
    }

    // Everything the rows are checked against, read once: a query per row would not do 100,000 rows.
    const unitsByCode = new Map<string, string>();
    const unitCodeById = new Map<string, string>();
    for (const u of store.residents.allUnits()) {
      unitsByCode.set(u.code, u.id);
      unitCodeById.set(u.id, u.code);
    }
    const residentsByKey = new Map<string, CachedResident>();
    const residentsById = new Map<string, CachedResident>();
    for (const r of store.residents.activeResidents()) {
      const cached = { id: r.id, unitId: r.unit_id, kind: r.kind, name: r.name, phone: r.phone };
      residentsById.set(r.id, cached);
      const key = residentKey(r.unit_id, r.kind, r.name);
      if (!residentsByKey.has(key)) residentsByKey.set(key, cached);
    }
    // One map per kind, keyed by the bare value: no key strings to build for each lookup.
    const credentials = { card: new Map<string, CachedCredential>(), plate: new Map<string, CachedCredential>() };
    for (const c of store.residents.activeCredentials()) {
      credentials[c.kind].set(c.value, {
        id: c.id, kind: c.kind, value: c.value, holderId: c.holder_id, list: c.list, validFrom: c.valid_from, validUntil: c.valid_until,
      });
    }
    const changedResidents = new Set<string>();
    const changedHolderless = new Set<CachedCredential>();

    const holderText = (id: string): string => {
      const r = residentsById.get(id);
      if (!r) return 'another person';
      return r.unitId === null ? `${r.name} (${r.kind})` : `${r.name} ${unitCodeById.get(r.unitId) ?? ''}`.trim();
    };

    const { index, needed, width } = header;
    for (const record of records) {
      const fields = record.fields;
      if (record.error === undefined && fields.every((f) => f.trim() === '')) continue;
      stats.rows++;
      if (record.error !== undefined) {
        reject(record.line, `not valid CSV: ${record.error}`);
        continue;
      }
      const problems: string[] = [];
      if (fields.length < needed || record.overflow || (fields.length > width && fields.slice(width).some((f) => f.trim() !== ''))) {
        problems.push(`${record.overflow ? `more than ${maxFields}` : fields.length} values, but the header has ${width} columns`);
      }
      const cell = (c: Column): string => {
        const i = index.get(c);
        return i === undefined ? '' : (fields[i] ?? '').trim();
      };
      const plan = planRow(cell, deps, problems);

      // Who this row is, if they are already known: their own cards and plates are not a conflict.
      const unitId = plan?.unit ? unitsByCode.get(plan.unit.code) : null;
      // A unit not created yet has no residents (and must not look like "no unit", which is staff).
      const existing = plan?.person && unitId !== undefined ? residentsByKey.get(residentKey(unitId, plan.person.kind, plan.person.name)) : undefined;
      if (plan) {
        for (const c of plan.credentials) {
          const held = credentials[c.kind].get(c.value);
          if (!held) continue;
          if (held.holderId === null) {
            if (plan.person !== null) problems.push(`${c.kind} ${show(c.typed)} is already on list ${held.list} without a holder`);
          } else if (plan.person === null || held.holderId !== existing?.id) {
            problems.push(`${c.kind} ${show(c.typed)} already belongs to ${holderText(held.holderId)}`);
          }
        }
      }
      if (plan === null || problems.length > 0) {
        reject(record.line, problems.join('; '));
        continue;
      }

      // The row is good: write it.
      let holderId: string | null = null;
      if (plan.person) {
        let unit: string | null = null;
        if (plan.unit) {
          unit = unitsByCode.get(plan.unit.code) ?? null;
          if (unit === null) {
            unit = unitIdFor(plan.unit.code);
            store.residents.addUnit({ id: unit, ...plan.unit }, at);
            unitsByCode.set(plan.unit.code, unit);
            unitCodeById.set(unit, plan.unit.code);
            report.units++;
          }
        }
        let resident = existing;
        if (!resident) {
          resident = { id: newId(), unitId: unit, kind: plan.person.kind, name: plan.person.name, phone: plan.person.phone };
          store.residents.addResident({ id: resident.id, unit_id: unit, kind: resident.kind, name: resident.name, phone: resident.phone }, at);
          residentsByKey.set(residentKey(unit, resident.kind, resident.name), resident);
          residentsById.set(resident.id, resident);
          changedResidents.add(resident.id);
          report.residents++;
        } else if (plan.person.phone !== null && plan.person.phone !== resident.phone) {
          // An empty phone cell means "not given", not "delete the number".
          resident.phone = plan.person.phone;
          store.residents.updateResidentPhone(resident.id, resident.phone, at);
          if (!changedResidents.has(resident.id)) stats.residentsUpdated++;
          changedResidents.add(resident.id);
        }
        holderId = resident.id;
      }

      for (const c of plan.credentials) {
        let held = credentials[c.kind].get(c.value);
        if (!held) {
          held = { id: newId(), kind: c.kind, value: c.value, holderId, list: plan.list, validFrom: null, validUntil: plan.validUntil };
          store.residents.addCredential({ id: held.id, kind: c.kind, value: c.value, holder_id: holderId, list: held.list, valid_from: null, valid_until: held.validUntil }, at);
          credentials[c.kind].set(c.value, held);
          report.credentials++;
        } else if (held.list !== plan.list || held.validUntil !== plan.validUntil) {
          held.list = plan.list;
          held.validUntil = plan.validUntil;
          store.residents.updateCredentialTerms(held.id, held.list, held.validUntil, at);
          stats.credentialsUpdated++;
        } else {
          continue;
        }
        if (holderId === null) changedHolderless.add(held);
        else {
          if (!changedResidents.has(holderId)) stats.residentsUpdated++;
          changedResidents.add(holderId);
        }
      }
    }

    // HQ learns of every resident this import created or changed, with all their cards and plates.
    const held = new Map<string, CachedCredential[]>();
    for (const c of [...credentials.card.values(), ...credentials.plate.values()]) {
      if (c.holderId === null || !changedResidents.has(c.holderId)) continue;
      const list = held.get(c.holderId);
      if (list) list.push(c);
      else held.set(c.holderId, [c]);
    }
    const credentialPayload = (c: CachedCredential) => ({ id: c.id, kind: c.kind, value: c.value, list: c.list, validFrom: c.validFrom, validUntil: c.validUntil });
    for (const id of changedResidents) {
      const r = residentsById.get(id);
      if (!r) continue;
      store.outbox.add(
        'residents',
        r.id,
        {
          id: r.id,
          unitId: r.unitId,
          unit: r.unitId === null ? null : (unitCodeById.get(r.unitId) ?? null),
          kind: r.kind,
          name: r.name,
          phone: r.phone,
          active: true,
          updatedAt: at,
          credentials: (held.get(id) ?? []).map(credentialPayload),
        },
        at,
      );
    }
    // Cards and plates with no holder (a blocked vehicle) are not residents: they go up as credentials.
    for (const c of changedHolderless) store.outbox.add('credentials', c.id, { ...credentialPayload(c), holderId: null, updatedAt: at }, at);

    audit();
    return report;
  });
}
