// A small, strict XML reader for camera documents (plate events, ONVIF SOAP, WS-Discovery): elements and text only, no DTDs, no entities beyond XML's own.
//
// Written here rather than taken from npm: the project has no XML dependency, camera documents are
// small and plain, and refusing DOCTYPE outright closes the entity-expansion attacks a general parser
// must defend against.

export interface XmlElement {
  /** Local name: a namespace prefix ("isapi:licensePlate") is dropped, cameras are not consistent about it. */
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (CDATA included), entities decoded, not trimmed. */
  text: string;
}

export type XmlResult = { ok: true; root: XmlElement } | { ok: false; reason: string };

const maxDepth = 32;
const maxElements = 5000;

const namedEntities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string | null {
  if (!text.includes('&')) return text;
  let bad = false;
  const out = text.replace(/&([^;&\s]{1,10});|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) {
      bad = true;
      return whole;
    }
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        bad = true;
        return whole;
      }
      return String.fromCodePoint(code);
    }
    const named = namedEntities[ref];
    if (named === undefined) bad = true;
    return named ?? whole;
  });
  return bad ? null : out;
}

const nameChar = /[^\s/>=<"'!?]/;

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon >= 0 ? qualified.slice(colon + 1) : qualified;
}

/** Parses a whole document. Never throws; anything that is not well-formed XML is a reason. */
export function parseXml(text: string): XmlResult {
  let i = 0;
  const n = text.length;
  const fail = (reason: string): XmlResult => ({ ok: false, reason: `${reason} at offset ${i}` });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let count = 0;

  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chunk.length > 0) {
      const top = stack[stack.length - 1];
      if (!top) {
        if (chunk.trim().length > 0) return fail(root ? 'text after the root element' : 'text before the root element');
      } else {
        const decoded = decodeEntities(chunk);
        if (decoded === null) return fail('bad entity or bare &');
        top.text += decoded;
      }
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return fail('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) return fail('unterminated CDATA');
      const top = stack[stack.length - 1];
      if (!top) return fail('CDATA outside the root element');
      top.text += text.slice(i + 9, end);
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      return fail('DOCTYPE and declarations are not accepted');
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return fail('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i + 2);
      if (end < 0) return fail('unterminated end tag');
      const name = text.slice(i + 2, end).trim();
      const top = stack.pop();
      if (!top) return fail(`end tag </${name}> without a start tag`);
      if (localName(name) !== top.name) return fail(`end tag </${name}> does not close <${top.name}>`);
      i = end + 1;
    } else {
      // A start tag: name, attributes, then > or />.
      let j = i + 1;
      while (j < n && nameChar.test(text[j] as string)) j++;
      const qualified = text.slice(i + 1, j);
      if (qualified.length === 0) return fail('empty element name');
      const element: XmlElement = { name: localName(qualified), attributes: {}, children: [], text: '' };
      for (;;) {
        while (j < n && /\s/.test(text[j] as string)) j++;
        if (j >= n) return fail('unterminated start tag');
        if (text[j] === '>' || text.startsWith('/>', j)) break;
        const nameStart = j;
        while (j < n && nameChar.test(text[j] as string)) j++;
        const attr = text.slice(nameStart, j);
        while (j < n && /\s/.test(text[j] as string)) j++;
        if (attr.length === 0 || text[j] !== '=') return fail(`bad attribute in <${qualified}>`);
        j++;
        while (j < n && /\s/.test(text[j] as string)) j++;
        const quote = text[j];
        if (quote !== '"' && quote !== "'") return fail(`unquoted attribute ${attr}`);
        const close = text.indexOf(quote, j + 1);
        if (close < 0) return fail(`unterminated attribute ${attr}`);
        const value = decodeEntities(text.slice(j + 1, close));
        if (value === null || value.includes('<')) return fail(`bad attribute value for ${attr}`);
        element.attributes[localName(attr)] = value;
        j = close + 1;
      }
      if (++count > maxElements) return fail('too many elements');
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) return fail('a second root element');
      else root = element;
      const selfClosing = text[j] === '/';
      i = j + (selfClosing ? 2 : 1);
      if (!selfClosing) {
        if (stack.length >= maxDepth) return fail('elements nested too deep');
        stack.push(element);
      }
    }
  }
  if (stack.length > 0) return { ok: false, reason: `document ends inside <${(stack[stack.length - 1] as XmlElement).name}>` };
  if (!root) return { ok: false, reason: 'no root element' };
  return { ok: true, root };
}

/** The first child element with this local name, compared without case (firmwares differ: dateTime, DateTime). */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  const wanted = name.toLowerCase();
  return element?.children.find((c) => c.name.toLowerCase() === wanted);
}

/** The trimmed text of the element at this path under `element`, if there is one. */
export function textAt(element: XmlElement | undefined, ...path: string[]): string | undefined {
  let at = element;
  for (const name of path) at = child(at, name);
  return at?.text.trim();
}
