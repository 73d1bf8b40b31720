/**
 * IPv4 and IPv6 CIDR matching (and plain addresses). IPv4-mapped IPv6 addresses
 * ("::ffff:10.0.0.1") match IPv4 ranges.
 */
import { isIP } from 'node:net';

export interface Cidr {
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

function ipv4Bytes(address: string): Uint8Array | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return Uint8Array.from(parts);
}

function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = address;
  const out = new Uint8Array(16);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tailV4: Uint8Array | undefined;
  if (v4) {
    tailV4 = ipv4Bytes(v4[1]);
    if (!tailV4) return undefined;
    text = `${text.slice(0, -v4[1].length)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  groups.forEach((g, i) => {
    const value = parseInt(g, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  });
  if (tailV4) out.set(tailV4, 12);
  return out;
}

/** The bytes of an address (IPv4-mapped IPv6 becomes IPv4), or undefined. */
export function addressBytes(address: string): Uint8Array | undefined {
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const kind = isIP(plain);
  if (kind === 4) return ipv4Bytes(plain);
  if (kind !== 6) return undefined;
  const bytes = ipv6Bytes(plain);
  if (bytes && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

/** Parse "10.0.0.0/8", "2001:db8::/32" or a plain address; throws with the reason. */
export function parseCidr(text: string): Cidr {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined) throw new Error(`"${text}" is not a CIDR`);
  const bytes = addressBytes(address);
  if (!bytes) throw new Error(`"${address}" is not an IPv4 or IPv6 address`);
  const max = bytes.length * 8;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`prefix of "${text}" must be 0 to ${max}`);
  return { bytes, prefix, text };
}

export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (cidr.bytes.length !== address.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((cidr.bytes[i] & mask) !== (address[i] & mask)) return false;
  }
  return true;
}

export function matchesAny(cidrs: readonly Cidr[], address: string): boolean {
  const bytes = addressBytes(address);
  return bytes !== undefined && cidrs.some((c) => cidrContains(c, bytes));
}
