/**
 * A bounded AMF0 decoder for FLV script tags (onMetaData). Only the value types that
 * appear in metadata are read; depth, entry count and string length are capped so a
 * hostile tag cannot make it allocate without bound.
 */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Value[] | { [key: string]: Amf0Value };

/** Most nested objects/arrays read. */
export const AMF0_MAX_DEPTH = 8;
/** Most entries read per object or array. */
export const AMF0_MAX_ENTRIES = 256;

export class Amf0Error extends Error {}

class Cursor {
  offset = 0;
  constructor(readonly data: Buffer) {}
  need(n: number): void {
    if (this.offset + n > this.data.length) throw new Amf0Error(`AMF0 value runs past the end of the tag at byte ${this.offset}`);
  }
  u8(): number {
    this.need(1);
    return this.data[this.offset++];
  }
  u16(): number {
    this.need(2);
    const v = this.data.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.data.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }
  utf8(length: number): string {
    this.need(length);
    const v = this.data.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
}

/** Read key/value pairs up to the object-end marker (an empty key, then 0x09). */
function readProperties(cursor: Cursor, depth: number): Record<string, Amf0Value> {
  const out: Record<string, Amf0Value> = Object.create(null);
  for (let i = 0; i <= AMF0_MAX_ENTRIES; i += 1) {
    const key = cursor.utf8(cursor.u16());
    if (key === '') {
      if (cursor.u8() !== 0x09) throw new Amf0Error(`AMF0 object has an empty key at byte ${cursor.offset - 3}`);
      return out;
    }
    out[key] = readValue(cursor, depth + 1);
  }
  throw new Amf0Error(`AMF0 object has more than ${AMF0_MAX_ENTRIES} entries`);
}

function readValue(cursor: Cursor, depth: number): Amf0Value {
  if (depth > AMF0_MAX_DEPTH) throw new Amf0Error('AMF0 nesting too deep');
  const marker = cursor.u8();
  switch (marker) {
    case 0x00:
      return cursor.f64();
    case 0x01:
      return cursor.u8() !== 0;
    case 0x02:
      return cursor.utf8(cursor.u16());
    case 0x03:
      return readProperties(cursor, depth);
    case 0x05:
      return null;
    case 0x06:
      return undefined;
    case 0x08:
      cursor.u32(); // the ECMA array's count is only a hint: read to the end marker
      return readProperties(cursor, depth);
    case 0x0a: {
      const count = cursor.u32();
      if (count > AMF0_MAX_ENTRIES) throw new Amf0Error(`AMF0 array of ${count} entries is over the limit`);
      return Array.from({ length: count }, () => readValue(cursor, depth + 1));
    }
    case 0x0b: {
      const ms = cursor.f64();
      cursor.u16();
      return new Date(ms);
    }
    case 0x0c:
      return cursor.utf8(cursor.u32());
    default:
      throw new Amf0Error(`unsupported AMF0 marker 0x${marker.toString(16)} at byte ${cursor.offset - 1}`);
  }
}

/** Decode the values of a script tag body, e.g. ["onMetaData", {...}]. */
export function decodeAmf0(data: Buffer, maxValues = 4): Amf0Value[] {
  const cursor = new Cursor(data);
  const values: Amf0Value[] = [];
  while (cursor.offset < data.length && values.length < maxValues) values.push(readValue(cursor, 0));
  return values;
}
