/**
 * Field types and bounds the config sections share: ids, ports, host names, CIDRs (checked by
 * the one parser the relay matches with, shared/cidr.ts), and the most nodes and routes a
 * config may hold.
 */
import { parseCidr } from '../cidr.js';
import { integer, SchemaError, string, type Schema } from '../schema.js';

/** Most nodes a config may hold (bounds every per-node map). */
export const MAX_NODES = 256;
/** Most routes a config may hold (bounds every per-route map). */
export const MAX_ROUTES = 1_024;

export const HOUR_MS = 3_600_000;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const id = () => string({ min: 1, max: 64, pattern: ID_PATTERN, patternName: 'an id of letters, digits, "_", "-" or "."' });
export const port = () => integer(0, 65_535);
export const host = () => string({ min: 1, max: 255, pattern: /^[A-Za-z0-9.:[\]-]+$/, patternName: 'a host name or IP address' });
/** A duration from 0 (usually "off") to `max`, ms. */
export const ms = (max: number) => integer(0, max);

/**
 * An IPv4/IPv6 address or CIDR ("10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104"), checked
 * by the parser the relay matches with (shared/cidr.ts), so every value that validates works.
 */
export const cidr = (): Schema<string> => {
  const text = string({ min: 2, max: 64 });
  return {
    parse(value, path) {
      const parsed = text.parse(value, path);
      try {
        parseCidr(parsed);
      } catch (error) {
        throw new SchemaError(path, (error as Error).message);
      }
      return parsed;
    },
  };
};
