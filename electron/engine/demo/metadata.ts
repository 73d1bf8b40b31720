/**
 * The demo stream's onMetaData tag, written fresh: the clip file's own metadata says
 * "duration: 8 s", which would make a player treat the live loop as a short file.
 * A minimal AMF0 writer (strings and numbers in an ECMA array) is all that needs.
 */

function amfString(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(3 + body.length);
  out[0] = 0x02;
  out.writeUInt16BE(body.length, 1);
  body.copy(out, 3);
  return out;
}

function amfNumber(value: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = 0x00;
  out.writeDoubleBE(value, 1);
  return out;
}

function propertyName(name: string): Buffer {
  const body = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(2 + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, 2);
  return out;
}

/** A complete FLV script tag (timestamp 0) carrying `onMetaData` with numeric properties. */
export function metadataTag(properties: Record<string, number>): Buffer {
  const entries = Object.entries(properties);
  const arrayHead = Buffer.alloc(5);
  arrayHead[0] = 0x08; // ECMA array
  arrayHead.writeUInt32BE(entries.length, 1);
  const body = Buffer.concat([
    amfString('onMetaData'),
    arrayHead,
    ...entries.flatMap(([name, value]) => [propertyName(name), amfNumber(value)]),
    Buffer.from([0x00, 0x00, 0x09]), // object end
  ]);
  const tag = Buffer.alloc(11 + body.length + 4);
  tag[0] = 18;
  tag.writeUIntBE(body.length, 1, 3);
  body.copy(tag, 11);
  tag.writeUInt32BE(11 + body.length, 11 + body.length);
  return tag;
}
