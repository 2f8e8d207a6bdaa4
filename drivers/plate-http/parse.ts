// Pure parser for plate cameras' HTTP pushes (generic JSON, Hikvision ISAPI, Dahua ITSAPI): body + content type in, a plate read or a typed error out.
import { TextDecoder } from 'node:util';
import { boundaryOf, headerParams, parseMultipart, type Part } from './multipart.js';
import { child, parseXml, textAt, type XmlElement } from '../xml.js';

export type PlatePushFormat = 'generic' | 'hikvision' | 'dahua';

export const platePushFormats: readonly PlatePushFormat[] = ['generic', 'hikvision', 'dahua'];

export interface PlateRead {
  kind: 'plate';
  plate: string;
  /** 0 to 1. */
  confidence?: number;
  /** The camera's own time of the read, UTC epoch ms, when it sent one that could be read. */
  at?: number;
  /** The picture to keep with the event: the scene when the camera sent one, else the plate close-up. JPEG. */
  picture?: Buffer;
  /** Things left out on the way that are not worth refusing the read for (a picture that is not a JPEG). */
  notes: string[];
}

/** A push that is fine but carries no plate: answered OK, no event. */
export interface NonEvent {
  kind: 'none';
  why: 'no-plate' | 'heartbeat' | 'other-event';
  detail: string;
}

export type PlateErrorCode =
  | 'empty-body'
  | 'content-type'
  | 'charset'
  | 'json'
  | 'xml'
  | 'multipart'
  /** A multipart push without the part that carries the event. */
  | 'no-event-part'
  /** Well-formed, but not the document the family sends. */
  | 'not-a-plate-push'
  | 'missing-plate'
  | 'bad-plate';

/** One fixed text per error, for counting and the once-per-reason rejection log; the message carries the detail. */
export const plateErrorReasons: Readonly<Record<PlateErrorCode, string>> = {
  'empty-body': 'empty body',
  'content-type': 'content type not used by this camera family',
  charset: 'body is not text in a known charset',
  json: 'body is not a JSON object',
  xml: 'body is not well-formed XML',
  multipart: 'malformed multipart body',
  'no-event-part': 'multipart push without its event part',
  'not-a-plate-push': 'not a plate push of this camera family',
  'missing-plate': 'plate push without a plate',
  'bad-plate': 'plate text unusable',
};

export interface PlateParseError {
  kind: 'error';
  code: PlateErrorCode;
  message: string;
}

export type PlatePushResult = PlateRead | NonEvent | PlateParseError;

const maxPlateLength = 16;

/**
 * What cameras send when they saw a vehicle but no readable plate: 无车牌 (no plate, Hikvision),
 * 未识别 (not recognised), 无牌车 (unplated vehicle, Dahua), and the Latin spellings of the same.
 */
const noPlateTexts = new Set(['', '-', '无', '无车牌', '无牌', '无牌车', '未识别', '未知', '车牌', 'unknown', 'none', 'noplate', 'no plate', 'unrecognized', 'unrecognised']);

const provinces = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
/**
 * Chinese firmwares may prefix the plate with its colour (蓝京A12345: a blue Beijing plate). The
 * colour goes only when a province and a letter follow, so 黑A12345 (a Heilongjiang plate) stays.
 */
const colourPrefix = new RegExp(`^(?:渐变绿|黄绿|蓝|黄|白|黑|绿)(?=[${provinces}][A-Z])`);

function error(code: PlateErrorCode, message: string): PlateParseError {
  return { kind: 'error', code, message };
}

function none(why: NonEvent['why'], detail: string): NonEvent {
  return { kind: 'none', why, detail };
}

/** Parses one push. Never throws, whatever the bytes. */
export function parsePlatePush(format: PlatePushFormat, body: Buffer, contentType: string | undefined): PlatePushResult {
  try {
    if (body.length === 0) return error('empty-body', 'empty body');
    const ct = headerParams(contentType ?? '');
    const type = ct.value.toLowerCase();
    const charset = ct.params['charset'];
    switch (format) {
      case 'generic':
        if (type.startsWith('multipart/')) return error('content-type', 'the generic format is a JSON body, not multipart');
        return fromJsonBody(body, type, charset, genericFromJson);
      case 'hikvision':
        return hikvision(body, type, contentType ?? '', charset);
      case 'dahua':
        return dahua(body, type, contentType ?? '', charset);
    }
  } catch (err) {
    // Nothing above should throw; if it does, the camera still gets an answer and we a reason.
    return error('not-a-plate-push', `parser failure: ${(err as Error).message}`);
  }
}

// ---- text decoding ----------------------------------------------------------------------------

type Decoded = { ok: true; text: string } | { ok: false; error: PlateParseError };

/**
 * Bytes to text. A declared charset is used strictly (older Dahua firmware declares charset=gbk);
 * without one, UTF-8 is tried and then GB18030, the superset of GBK and GB2312: a plate such as
 * 京A12345 in GBK is never valid UTF-8, so the fallback cannot turn good UTF-8 into nonsense.
 */
export function decodeText(bytes: Buffer, declared: string | undefined): Decoded {
  let data = bytes;
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
  const labels = declared ? [declared.trim().toLowerCase()] : ['utf-8', 'gb18030'];
  for (const label of labels) {
    let decoder: TextDecoder;
    try {
      decoder = new TextDecoder(label, { fatal: true });
    } catch {
      return { ok: false, error: error('charset', `unsupported charset ${label}`) };
    }
    try {
      return { ok: true, text: decoder.decode(data) };
    } catch {
      if (declared) return { ok: false, error: error('charset', `body is not valid ${label}`) };
    }
  }
  return { ok: false, error: error('charset', 'body is neither UTF-8 nor GBK text') };
}

/** The encoding an XML declaration names, e.g. <?xml version="1.0" encoding="GB2312"?>. */
function xmlDeclaredEncoding(bytes: Buffer): string | undefined {
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 200));
  return /^(?:\uFEFF|\xEF\xBB\xBF)?\s*<\?xml[^>]*\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
}

// ---- shared helpers ------------------------------------------------------------------------------

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseJson(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: PlateParseError } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: error('json', `body is not JSON: ${(err as Error).message}`) };
  }
  if (!isObject(value)) return { ok: false, error: error('json', 'body is JSON but not an object') };
  return { ok: true, value };
}

function isJsonish(type: string): boolean {
  // Cameras label JSON every way: application/json, text/json, text/plain, or nothing at all.
  return type === '' || type === 'application/json' || type === 'text/json' || type === 'text/plain' || type.endsWith('+json');
}

function fromJsonBody(body: Buffer, type: string, charset: string | undefined, read: (json: Record<string, unknown>) => PlatePushResult): PlatePushResult {
  if (!isJsonish(type)) return error('content-type', `expected a JSON body, got ${type}`);
  const text = decodeText(body, charset);
  if (!text.ok) return text.error;
  const json = parseJson(text.text);
  if (!json.ok) return json.error;
  return read(json.value);
}

/** Trims the camera's plate text and decides whether it is a plate at all. */
function plateText(raw: unknown, where: string): { plate: string } | NonEvent | PlateParseError {
  if (raw === undefined || raw === null) return error('missing-plate', `no ${where}`);
  if (typeof raw !== 'string') return error('bad-plate', `${where} is not text`);
  const trimmed = raw.replace(/^[\s\u3000]+|[\s\u3000]+$/g, '');
  if (noPlateTexts.has(trimmed.toLowerCase())) return none('no-plate', trimmed === '' ? 'empty plate' : `camera reported ${trimmed}`);
  if ([...trimmed].length > maxPlateLength) return error('bad-plate', `${where} longer than ${maxPlateLength} characters`);
  if (/[\p{Cc}\p{Cf}]/u.test(trimmed)) return error('bad-plate', `${where} has control characters`);
  return { plate: trimmed.replace(colourPrefix, '') };
}

/** Hikvision and Dahua report 0-100; the generic format may send 0-1 or a percentage. */
function confidenceOf(raw: unknown, scale: 'percent' | 'either'): number | undefined {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (scale === 'either' && n <= 1) return n;
  return n <= 100 ? Math.round(n * 100) / 10000 : undefined;
}

/** Mainland China has one time zone and no daylight saving; camera clocks there run on it. */
const chinaOffset = '+08:00';

/**
 * A camera's timestamp as UTC epoch ms. ISO 8601 with a zone is taken as is; a time without one
 * (Dahua's "2024-05-07 17:48:03.847", Hikvision firmwares that drop the offset) is China time.
 * Numbers are epoch seconds or milliseconds.
 */
export function cameraTime(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw) && raw > 0) return raw < 1e11 ? Math.round(raw * 1000) : Math.round(raw);
  if (typeof raw !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? frac.slice(0, 4).padEnd(4, '0') : '.000';
  const z = zone ? (zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone) : chinaOffset;
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${z}`);
  return Number.isFinite(t) ? t : undefined;
}

function isJpeg(bytes: Buffer): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** A base64 picture (a data: URI prefix allowed) that must decode to a JPEG; otherwise a note says why it was left out. */
function base64Jpeg(raw: unknown, where: string, notes: string[]): Buffer | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') {
    notes.push(`${where} is not base64 text`);
    return undefined;
  }
  const b64 = raw.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
    notes.push(`${where} is not valid base64`);
    return undefined;
  }
  const bytes = Buffer.from(b64, 'base64');
  if (!isJpeg(bytes)) {
    notes.push(`${where} is not a JPEG`);
    return undefined;
  }
  return bytes;
}

function read(plate: string, confidence: number | undefined, at: number | undefined, picture: Buffer | undefined, notes: string[]): PlateRead {
  return {
    kind: 'plate',
    plate,
    ...(confidence !== undefined ? { confidence } : {}),
    ...(at !== undefined ? { at } : {}),
    ...(picture ? { picture } : {}),
    notes,
  };
}

// ---- generic -------------------------------------------------------------------------------------

/** { plate, confidence?, time?, picture? (base64 JPEG) } */
function genericFromJson(json: Record<string, unknown>): PlatePushResult {
  const plate = plateText(json['plate'], 'plate');
  if (!('plate' in plate)) return plate;
  const notes: string[] = [];
  return read(plate.plate, confidenceOf(json['confidence'], 'either'), cameraTime(json['time']), base64Jpeg(json['picture'], 'picture', notes), notes);
}

// ---- Hikvision ISAPI -------------------------------------------------------------------------------

/**
 * Hikvision "HTTP listening" push (ISAPI event notification): a multipart/form-data POST whose
 * first part is the XML EventNotificationAlert (name "anpr.xml") or its JSON form, followed by the
 * pictures named in ANPR/pictureInfoList (licensePlatePicture.jpg, detectionPicture.jpg). Some
 * firmwares send the XML or JSON alone as the body.
 */
function hikvision(body: Buffer, type: string, contentType: string, charset: string | undefined): PlatePushResult {
  if (type.startsWith('multipart/')) {
    const boundary = boundaryOf(contentType);
    if (!boundary) return error('multipart', 'multipart content type without a usable boundary');
    const split = parseMultipart(body, boundary);
    if (!split.ok) return error('multipart', split.reason);
    const eventPart = findEventPart(split.parts);
    if (!eventPart) return error('no-event-part', 'no XML or JSON part in the multipart push');
    const images = split.parts.filter((p) => p !== eventPart.part && isImagePart(p));
    const result = hikvisionDocument(eventPart.part.body, eventPart.kind, eventPart.part.charset ?? charset);
    if (result.kind !== 'plate') return result;
    const picture = pickHikvisionPicture(images, result.pictureFiles, result.notes);
    return read(result.plate, result.confidence, result.at, picture, result.notes);
  }
  const kind = type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml') ? 'xml' : isJsonish(type) ? sniff(body) : null;
  if (!kind) return error('content-type', `unexpected content type ${type} for a Hikvision push`);
  const result = hikvisionDocument(body, kind, charset);
  if (result.kind !== 'plate') return result;
  return read(result.plate, result.confidence, result.at, undefined, result.notes);
}

/** XML or JSON, by the first non-blank byte; used only where the content type does not say. */
function sniff(body: Buffer): 'xml' | 'json' {
  for (const b of body) {
    if (b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x3c ? 'xml' : 'json';
  }
  return 'json';
}

function isImagePart(p: Part): boolean {
  return p.type?.startsWith('image/') === true || /\.jpe?g$/i.test(p.filename ?? p.name ?? '');
}

function findEventPart(parts: Part[]): { part: Part; kind: 'xml' | 'json' } | undefined {
  for (const part of parts) {
    const t = part.type ?? '';
    const label = (part.filename ?? part.name ?? '').toLowerCase();
    if (t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml') || label.endsWith('.xml')) return { part, kind: 'xml' };
    if (t === 'application/json' || t === 'text/json' || label.endsWith('.json')) return { part, kind: 'json' };
  }
  // No part says what it is: take the first that is not a picture and looks like a document.
  const bare = parts.find((p) => !isImagePart(p) && !(p.type ?? '').startsWith('image/'));
  if (!bare) return undefined;
  const first = bare.body.find((b) => b !== 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09);
  return first === 0x3c ? { part: bare, kind: 'xml' } : first === 0x7b ? { part: bare, kind: 'json' } : undefined;
}

type HikDocument = (PlateRead & { pictureFiles: string[] }) | NonEvent | PlateParseError;

function hikvisionDocument(bytes: Buffer, kind: 'xml' | 'json', charset: string | undefined): HikDocument {
  const text = decodeText(bytes, charset ?? (kind === 'xml' ? xmlDeclaredEncoding(bytes) : undefined));
  if (!text.ok) return text.error;
  if (kind === 'json') {
    const json = parseJson(text.text);
    if (!json.ok) return json.error;
    return hikvisionFields({
      eventType: json.value['eventType'],
      eventState: json.value['eventState'],
      dateTime: json.value['dateTime'],
      anpr: json.value['ANPR'],
      plate: isObject(json.value['ANPR']) ? json.value['ANPR']['licensePlate'] : undefined,
      confidence: isObject(json.value['ANPR']) ? json.value['ANPR']['confidenceLevel'] : undefined,
      pictureFiles: [],
    });
  }
  const xml = parseXml(text.text);
  if (!xml.ok) return error('xml', `body is not well-formed XML: ${xml.reason}`);
  if (xml.root.name !== 'EventNotificationAlert') return error('not-a-plate-push', `XML document is <${xml.root.name}>, not <EventNotificationAlert>`);
  const anpr = child(xml.root, 'ANPR');
  return hikvisionFields({
    eventType: textAt(xml.root, 'eventType'),
    eventState: textAt(xml.root, 'eventState'),
    dateTime: textAt(xml.root, 'dateTime'),
    anpr,
    plate: anpr ? textAt(anpr, 'licensePlate') : undefined,
    confidence: anpr ? textAt(anpr, 'confidenceLevel') : undefined,
    pictureFiles: pictureFileNames(anpr),
  });
}

/** pictureInfoList names the pictures in the order we want them: the scene first, then the close-up. */
function pictureFileNames(anpr: XmlElement | undefined): string[] {
  const list = child(anpr, 'pictureInfoList')?.children ?? [];
  const rank = (type: string) => (/detection|vehicle|scene/i.test(type) ? 0 : /plate/i.test(type) ? 1 : 2);
  return list
    .map((info) => ({ file: textAt(info, 'fileName') ?? '', type: textAt(info, 'type') ?? '' }))
    .filter((p) => p.file !== '')
    .sort((a, b) => rank(a.type) - rank(b.type))
    .map((p) => p.file);
}

function hikvisionFields(f: { eventType: unknown; eventState: unknown; dateTime: unknown; anpr: unknown; plate: unknown; confidence: unknown; pictureFiles: string[] }): HikDocument {
  const eventType = typeof f.eventType === 'string' ? f.eventType.trim() : '';
  if (eventType === '') return error('not-a-plate-push', 'EventNotificationAlert without an eventType');
  // ISAPI heartbeats are notifications with eventState "inactive" (typically eventType videoloss).
  if (typeof f.eventState === 'string' && f.eventState.trim().toLowerCase() === 'inactive') return none('heartbeat', `${eventType} inactive`);
  if (eventType.toUpperCase() !== 'ANPR') return none('other-event', `eventType ${eventType}`);
  if (f.anpr === undefined || f.anpr === null) return error('missing-plate', 'ANPR event without an ANPR element');
  const plate = plateText(f.plate, 'ANPR licensePlate');
  if (!('plate' in plate)) return plate;
  return { ...read(plate.plate, confidenceOf(f.confidence, 'percent'), cameraTime(f.dateTime), undefined, []), pictureFiles: f.pictureFiles };
}

function pickHikvisionPicture(images: Part[], preferred: string[], notes: string[]): Buffer | undefined {
  const label = (p: Part) => (p.filename ?? p.name ?? '').toLowerCase();
  const ordered = [
    ...preferred.map((file) => images.find((p) => label(p) === file.toLowerCase())),
    ...images.filter((p) => /detection|vehicle|scene/.test(label(p))),
    ...images,
  ].filter((p): p is Part => p !== undefined);
  for (const part of ordered) {
    if (isJpeg(part.body)) return part.body;
    notes.push(`picture part ${label(part) || '(unnamed)'} is not a JPEG`);
  }
  return undefined;
}

// ---- Dahua ITSAPI -----------------------------------------------------------------------------------

/**
 * Dahua ITC "ITSAPI" platform push: POST of JSON { Picture: { Plate: { PlateNumber, Confidence, ... },
 * SnapInfo: { AccurateTime, ... }, NormalPic: { Content: base64, PicName }, CutoutPic, VehiclePic } }.
 * The multipart form (JSON part plus JPEG parts) some firmwares use for HTTP upload is read too.
 */
function dahua(body: Buffer, type: string, contentType: string, charset: string | undefined): PlatePushResult {
  if (!type.startsWith('multipart/')) return fromJsonBody(body, type, charset, (json) => dahuaFromJson(json, []));
  const boundary = boundaryOf(contentType);
  if (!boundary) return error('multipart', 'multipart content type without a usable boundary');
  const split = parseMultipart(body, boundary);
  if (!split.ok) return error('multipart', split.reason);
  const eventPart = findEventPart(split.parts);
  if (!eventPart || eventPart.kind !== 'json') return error('no-event-part', 'no JSON part in the multipart push');
  const text = decodeText(eventPart.part.body, eventPart.part.charset ?? charset);
  if (!text.ok) return text.error;
  const json = parseJson(text.text);
  if (!json.ok) return json.error;
  return dahuaFromJson(
    json.value,
    split.parts.filter((p) => p !== eventPart.part && isImagePart(p)),
  );
}

function dahuaFromJson(json: Record<string, unknown>, images: Part[]): PlatePushResult {
  const picture = json['Picture'];
  if (!isObject(picture)) return error('not-a-plate-push', 'no Picture object in the push');
  const plateInfo = picture['Plate'];
  if (!isObject(plateInfo)) return error('missing-plate', 'no Picture.Plate in the push');
  const plate = plateText(plateInfo['PlateNumber'], 'Picture.Plate.PlateNumber');
  if (!('plate' in plate)) return plate;
  const snap = isObject(picture['SnapInfo']) ? picture['SnapInfo'] : {};
  const notes: string[] = [];
  // The scene (NormalPic, or VehiclePic on some firmwares) shows the car; the cut-out only the plate.
  let jpeg: Buffer | undefined;
  for (const key of ['NormalPic', 'VehiclePic', 'CutoutPic']) {
    const pic = picture[key];
    jpeg = isObject(pic) ? base64Jpeg(pic['Content'], `Picture.${key}.Content`, notes) : undefined;
    if (jpeg) break;
  }
  if (!jpeg) jpeg = images.map((p) => p.body).find(isJpeg);
  return read(plate.plate, confidenceOf(plateInfo['Confidence'], 'percent'), cameraTime(snap['AccurateTime'] ?? snap['SnapTime']), jpeg, notes);
}
