// A multipart (RFC 2046 / RFC 7578) body splitter for camera pushes: parts with their headers and binary bodies untouched.

export interface Part {
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** Content-Disposition's name and filename parameters. */
  name?: string;
  filename?: string;
  /** Media type in lower case, without parameters. */
  type?: string;
  charset?: string;
  /** The part's bytes, exactly as sent: JPEG data is never decoded as text. */
  body: Buffer;
}

export type MultipartResult = { ok: true; parts: Part[] } | { ok: false; reason: string };

const maxParts = 32;
const maxHeaderBytes = 8192;

/** Splits a header value's `; key=value` parameters; values may be quoted, with backslash escapes. */
export function headerParams(value: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const semi = value.indexOf(';');
  const head = (semi < 0 ? value : value.slice(0, semi)).trim();
  const rest = semi < 0 ? '' : value.slice(semi + 1);
  const re = /\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*;?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) {
    if (m[0].length === 0) break;
    const key = (m[1] as string).toLowerCase();
    params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
  }
  return { value: head, params };
}

/** The boundary of a multipart Content-Type, or null when there is none or it breaks RFC 2046's rules. */
export function boundaryOf(contentType: string): string | null {
  const { value, params } = headerParams(contentType);
  if (!value.toLowerCase().startsWith('multipart/')) return null;
  const boundary = params['boundary'];
  // RFC 2046: 1 to 70 characters; we accept any printable ASCII but not CR/LF, which would break the delimiter search.
  if (!boundary || boundary.length > 70 || !/^[\x20-\x7e]+$/.test(boundary)) return null;
  return boundary;
}

function isLineEndOrEnd(body: Buffer, at: number): boolean {
  // After a delimiter: "--" (the close delimiter), transport padding, or the line end.
  const c = body[at];
  return c === undefined || c === 0x2d || c === 0x0d || c === 0x0a || c === 0x20 || c === 0x09;
}

/** Finds the next delimiter line "--boundary" that starts a line, at or after `from`. */
function findDelimiter(body: Buffer, delimiter: Buffer, from: number): number {
  let at = body.indexOf(delimiter, from);
  while (at >= 0) {
    const startsLine = at === 0 || body[at - 1] === 0x0a;
    if (startsLine && isLineEndOrEnd(body, at + delimiter.length)) return at;
    at = body.indexOf(delimiter, at + 1);
  }
  return -1;
}

function parseHeaders(block: string): Record<string, string> | null {
  const headers: Record<string, string> = {};
  let last: string | null = null;
  for (const line of block.split(/\r?\n/)) {
    if (line.length === 0) continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      headers[last] += ` ${line.trim()}`; // folded continuation line
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Splits a multipart body. Line ends may be CR LF (the standard) or bare LF (some firmwares). The
 * close delimiter is required: a body cut short is an error, never a part with half a JPEG.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartResult {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let at = findDelimiter(body, delimiter, 0);
  if (at < 0) return { ok: false, reason: 'no multipart boundary in the body' };
  const parts: Part[] = [];
  for (;;) {
    let p = at + delimiter.length;
    if (body[p] === 0x2d && body[p + 1] === 0x2d) return parts.length > 0 ? { ok: true, parts } : { ok: false, reason: 'multipart body without parts' };
    while (body[p] === 0x20 || body[p] === 0x09) p++;
    if (body[p] === 0x0d) p++;
    if (body[p] !== 0x0a) return { ok: false, reason: 'bad multipart delimiter line' };
    p++;
    if (parts.length >= maxParts) return { ok: false, reason: `more than ${maxParts} parts` };

    // Headers end at the first empty line; a part may have none (then the body starts at once).
    let headerEnd: number;
    let bodyStart: number;
    if (body[p] === 0x0a || (body[p] === 0x0d && body[p + 1] === 0x0a)) {
      headerEnd = p;
      bodyStart = p + (body[p] === 0x0d ? 2 : 1);
    } else {
      const crlf = body.indexOf('\r\n\r\n', p);
      const lf = body.indexOf('\n\n', p);
      const candidates = [crlf >= 0 ? [crlf, crlf + 4] : null, lf >= 0 ? [lf, lf + 2] : null].filter((c): c is number[] => c !== null);
      const first = candidates.sort((a, b) => (a[0] as number) - (b[0] as number))[0];
      if (!first || (first[0] as number) - p > maxHeaderBytes) return { ok: false, reason: 'part headers never end' };
      headerEnd = first[0] as number;
      bodyStart = first[1] as number;
    }
    const headers = parseHeaders(body.toString('latin1', p, headerEnd));
    if (!headers) return { ok: false, reason: 'malformed part header' };

    const next = findDelimiter(body, delimiter, bodyStart);
    if (next < 0) return { ok: false, reason: 'multipart body ends without its closing boundary' };
    // The line end before the delimiter belongs to the delimiter, not to the part.
    let bodyEnd = next;
    if (bodyEnd > bodyStart && body[bodyEnd - 1] === 0x0a) bodyEnd--;
    if (bodyEnd > bodyStart && body[bodyEnd - 1] === 0x0d) bodyEnd--;

    const disposition = headers['content-disposition'] ? headerParams(headers['content-disposition']).params : {};
    const contentType = headers['content-type'] ? headerParams(headers['content-type']) : null;
    parts.push({
      headers,
      ...(disposition['name'] !== undefined ? { name: disposition['name'] } : {}),
      ...(disposition['filename'] !== undefined ? { filename: disposition['filename'] } : {}),
      ...(contentType ? { type: contentType.value.toLowerCase() } : {}),
      ...(contentType?.params['charset'] ? { charset: contentType.params['charset'] } : {}),
      body: body.subarray(bodyStart, bodyEnd),
    });
    at = next;
  }
}
