/**
 * The one parser for IP addresses and CIDRs, used both by the config check (shared/config.ts)
 * and by the relay's matcher (electron/engine/relay/auth/cidr.ts), so whatever validates also works.
 * Pure code with no Node imports: the renderer compiles shared/ too.
 *
 * IPv4-mapped IPv6 ("::ffff:10.0.0.1", "::ffff:a00:1") is IPv4: an address becomes its IPv4
 * form, and a mapped range with a prefix of 96 or more becomes the IPv4 range
 * ("::ffff:127.0.0.0/104" = "127.0.0.0/8"). A mapped address with a prefix under 96 is
 * refused (it would also span non-mapped IPv6 space); every other IPv6 range matches IPv6
 * addresses only, so IPv4 viewers are matched by IPv4 ranges ("0.0.0.0/0", not "::/0").
 */

/** A parsed range: 4 bytes (IPv4) or 16 (IPv6), and the prefix length in bits. */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  /** The text as configured. */
  text: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Dotted-quad IPv4 (no leading zeros, which some parsers read as octal), or undefined. */
function ipv4Bytes(text: string): Uint8Array | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const parts = match.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? NaN : Number(p)));
  return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
}

/** RFC 4291 text form (one "::" at most, an optional dotted IPv4 tail), or undefined. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  let hex = text;
  let tail: Uint8Array | undefined;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    tail = ipv4Bytes(text.slice(lastColon + 1));
    if (!tail || lastColon < 0) return undefined;
    hex = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  if (!groups.every((g) => HEX_GROUP.test(g))) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const value = parseInt(g, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

function isMapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** An IP literal as bytes, IPv4-mapped IPv6 as its 4 IPv4 bytes; undefined when not an address. */
export function parseAddress(text: string): Uint8Array | undefined {
  const bytes = text.includes(':') ? ipv6Bytes(text) : ipv4Bytes(text);
  return bytes && isMapped(bytes) ? bytes.slice(12) : bytes;
}

/**
 * A peer or X-Forwarded-For address as bytes: brackets and an IPv6 zone ("%eth0") are
 * dropped first; undefined when it is no address (such a hop never matches a range).
 */
export function peerAddressBytes(text: string): Uint8Array | undefined {
  return parseAddress(
    text
      .trim()
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/%[^%]*$/, ''),
  );
}

/** Parse "10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104" or a plain address; throws an Error saying why not. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  const raw = addressText.includes(':') ? ipv6Bytes(addressText) : ipv4Bytes(addressText);
  if (!raw) throw new Error(`expected an IPv4 or IPv6 address or CIDR, got "${text}" ("${addressText}" is no IP address)`);
  const max = raw.length * 8;
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) throw new Error(`expected a prefix length after "/" in "${text}"`);
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) throw new Error(`the prefix of "${text}" must be 0 to ${max}`);
  if (!isMapped(raw)) return { bytes: raw, prefix, text };
  if (prefix < 96) throw new Error(`"${text}" is an IPv4-mapped range with a prefix under 96: write the IPv4 range instead (e.g. "0.0.0.0/0")`);
  return { bytes: raw.slice(12), prefix: prefix - 96, text };
}

/** True when `address` (from parseAddress) lies in `cidr`; IPv4 never matches an IPv6 range and back. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (cidr.bytes.length !== address.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((cidr.bytes[i] & mask) !== (address[i] & mask)) return false;
  }
  return true;
}
