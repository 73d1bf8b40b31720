/**
 * The fleet's shared document as a part of the config: every section except the local ones
 * (FLEET_LOCAL_SECTIONS: tls, admin, logs, app, demo, fleet) and, in `relay`, every key except
 * the local ones (FLEET_LOCAL_RELAY_KEYS: host, port, publicUrl, listenBacklog). Pure: splitting
 * a config into its shared part, putting a shared part back beside a relay's local sections
 * (the result is validated by the caller with parseConfig) and comparing parts.
 */
import { isDeepStrictEqual } from 'node:util';
import { FLEET_LOCAL_RELAY_KEYS, FLEET_LOCAL_SECTIONS, type RelayDeckConfig } from '../../../shared/config.js';

type Doc = Record<string, unknown>;
type LocalSection = (typeof FLEET_LOCAL_SECTIONS)[number];
type LocalRelayKey = (typeof FLEET_LOCAL_RELAY_KEYS)[number];

/** What the fleet shares: the config without the local sections and the local keys of `relay`. */
export type SharedPart = Omit<RelayDeckConfig, LocalSection | 'relay'> & { relay: Omit<RelayDeckConfig['relay'], LocalRelayKey> };

const LOCAL_SECTIONS: ReadonlySet<string> = new Set(FLEET_LOCAL_SECTIONS);
const LOCAL_RELAY_KEYS: ReadonlySet<string> = new Set(FLEET_LOCAL_RELAY_KEYS);

function isObject(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The shared part of `config` (a deep copy). */
export function sharedPartOf(config: RelayDeckConfig): SharedPart {
  const out: Doc = {};
  for (const [key, value] of Object.entries(config)) {
    if (LOCAL_SECTIONS.has(key)) continue;
    if (key === 'relay') {
      const relay: Doc = {};
      for (const [relayKey, relayValue] of Object.entries(value as Doc)) if (!LOCAL_RELAY_KEYS.has(relayKey)) relay[relayKey] = structuredClone(relayValue);
      out.relay = relay;
    } else out[key] = structuredClone(value);
  }
  return out as SharedPart;
}

/** The local part of `config`: the local sections and the local keys of `relay` (a deep copy). */
export function localPartOf(config: RelayDeckConfig): Doc {
  const out: Doc = {};
  for (const [key, value] of Object.entries(config)) {
    if (LOCAL_SECTIONS.has(key)) out[key] = structuredClone(value);
    else if (key === 'relay') {
      const relay: Doc = {};
      for (const [relayKey, relayValue] of Object.entries(value as Doc)) if (LOCAL_RELAY_KEYS.has(relayKey)) relay[relayKey] = structuredClone(relayValue);
      out.relay = relay;
    }
  }
  return out;
}

/**
 * A whole config document (still to be validated with parseConfig): the local sections and
 * local relay keys of `local`, everything else from `shared`. A section `shared` lacks takes
 * its defaults (the shared document is the whole shared config); local sections or local relay
 * keys found in `shared` are ignored (they never travel through the fleet). A `shared` that is
 * not an object gives a document without shared sections, and parseConfig then fills defaults:
 * callers check the shape first (decodeSharedDocument in shared-config.ts).
 */
export function mergeSharedPart(local: RelayDeckConfig, shared: unknown): Doc {
  const out: Doc = {};
  const source = isObject(shared) ? shared : {};
  for (const [key, value] of Object.entries(source)) {
    if (LOCAL_SECTIONS.has(key)) continue;
    if (key === 'relay' && isObject(value)) {
      const relay: Doc = {};
      for (const [relayKey, relayValue] of Object.entries(value)) if (!LOCAL_RELAY_KEYS.has(relayKey)) relay[relayKey] = structuredClone(relayValue);
      out.relay = relay;
    } else out[key] = structuredClone(value);
  }
  for (const [key, value] of Object.entries(local)) {
    if (LOCAL_SECTIONS.has(key)) out[key] = structuredClone(value);
    else if (key === 'relay') {
      const relay: Doc = isObject(out.relay) ? out.relay : {};
      for (const relayKey of FLEET_LOCAL_RELAY_KEYS) relay[relayKey] = (value as Doc)[relayKey];
      out.relay = relay;
    }
  }
  return out;
}

/** True when `a` and `b` share the same shared part (a change between them must go through the fleet). */
export function sameSharedPart(a: RelayDeckConfig, b: RelayDeckConfig): boolean {
  return isDeepStrictEqual(sharedPartOf(a), sharedPartOf(b));
}

/** True when `a` and `b` have the same local sections and local relay keys. */
export function sameLocalPart(a: RelayDeckConfig, b: RelayDeckConfig): boolean {
  return isDeepStrictEqual(localPartOf(a), localPartOf(b));
}
