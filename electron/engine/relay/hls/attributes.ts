/**
 * HLS attribute lists (RFC 8216 §4.2): `NAME=VALUE` pairs separated by commas, where a
 * value is a quoted string, a hexadecimal or decimal number, or an enumerated string.
 * Read into spans over the original line, so a rewrite replaces one value and keeps every
 * other byte exactly as the node wrote it.
 */

/** One attribute: its name and where its value sits in the line. */
export interface Attribute {
  name: string;
  /** The value without quotes. */
  value: string;
  quoted: boolean;
  /** Span of `value` in the line (inside the quotes when quoted). */
  start: number;
  end: number;
}

/** A malformed attribute list; the message says what and where (column, 1-based). */
export class AttributeError extends Error {}

const NAME_CHAR = /[A-Za-z0-9_-]/;

/**
 * Parse the attribute list that starts at `from` in `line` (just after "TAG:").
 * Spaces around pairs are tolerated; a duplicate name, a missing "=", an empty unquoted
 * value or an unterminated quoted string is an error.
 */
export function parseAttributes(line: string, from: number): Map<string, Attribute> {
  const out = new Map<string, Attribute>();
  let at = from;
  const skipSpaces = () => {
    while (at < line.length && (line[at] === ' ' || line[at] === '\t')) at += 1;
  };
  for (;;) {
    skipSpaces();
    if (at >= line.length) break;
    const nameStart = at;
    while (at < line.length && NAME_CHAR.test(line[at])) at += 1;
    const name = line.slice(nameStart, at);
    if (!name) throw new AttributeError(`expected an attribute name at column ${at + 1}`);
    if (line[at] !== '=') throw new AttributeError(`attribute ${name} has no "=" (column ${at + 1})`);
    at += 1;
    let attribute: Attribute;
    if (line[at] === '"') {
      const close = line.indexOf('"', at + 1);
      if (close < 0) throw new AttributeError(`attribute ${name} has an unterminated quoted string (column ${at + 1})`);
      attribute = { name, value: line.slice(at + 1, close), quoted: true, start: at + 1, end: close };
      at = close + 1;
    } else {
      const valueStart = at;
      while (at < line.length && line[at] !== ',') at += 1;
      const raw = line.slice(valueStart, at);
      const value = raw.trimEnd();
      if (!value || value.includes('"')) throw new AttributeError(`attribute ${name} has an invalid value (column ${valueStart + 1})`);
      attribute = { name, value, quoted: false, start: valueStart, end: valueStart + value.length };
    }
    if (out.has(name)) throw new AttributeError(`attribute ${name} appears twice`);
    out.set(name, attribute);
    skipSpaces();
    if (at >= line.length) break;
    if (line[at] !== ',') throw new AttributeError(`expected "," after attribute ${name} (column ${at + 1})`);
    at += 1;
  }
  return out;
}
