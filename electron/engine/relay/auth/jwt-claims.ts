/**
 * What a verified JWT's claims allow (routes[].auth.jwt.scopeClaim) and how it is labelled
 * (labelClaim). The scope claim holds an object `{ "paths": [...], "streams": [...] }` (each a
 * list or a single string), or, in short, a string or list of strings that are all paths. A
 * path ending in "/" is a prefix of the request paths it allows, any other path one exact
 * request path (so "/live/cam1" never allows "/live/cam10.flv"); a stream is a stream key
 * ("live/cam1"). Pure functions: the verifier parses a token's scope once, when it verifies
 * the signature, and matches it against every request the token comes with.
 */
import type { JwtAuthConfig } from '../../../../shared/config.js';

/** Most paths plus streams one scope claim may list. */
export const MAX_SCOPE_ENTRIES = 256;
/** Longest label kept from the label claim, characters. */
export const MAX_JWT_LABEL_CHARS = 64;

/** A token's scope: "any" (no claim, and the route does not require one) or its paths and streams. */
export type JwtScope = 'any' | { paths: readonly string[]; streams: readonly string[] };

/** The request a token is checked for: its path in normal form and its stream key. */
export interface JwtTarget {
  path: string;
  streamKey: string;
}

function stringList(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 1_024))
    throw new Error(`"${name}" must be a string or a list of non-empty strings`);
  return list as string[];
}

/**
 * The scope of a verified payload; throws an Error saying what is wrong with the claim (the
 * verifier answers it as AUTH_INVALID). Undefined claim: "any" unless the route requires one.
 */
export function scopeOf(payload: Record<string, unknown>, jwt: Pick<JwtAuthConfig, 'scopeClaim' | 'scopeRequired'>): JwtScope {
  const claim = Object.hasOwn(payload, jwt.scopeClaim) ? payload[jwt.scopeClaim] : undefined;
  if (claim === undefined) {
    if (jwt.scopeRequired) throw new Error(`it has no "${jwt.scopeClaim}" claim saying what it may watch, and the route requires one`);
    return 'any';
  }
  let scope: { paths: string[]; streams: string[] };
  if (typeof claim === 'string' || Array.isArray(claim)) scope = { paths: stringList(claim, jwt.scopeClaim), streams: [] };
  else if (typeof claim === 'object' && claim !== null) {
    const { paths, streams } = claim as { paths?: unknown; streams?: unknown };
    scope = {
      paths: paths === undefined ? [] : stringList(paths, `${jwt.scopeClaim}.paths`),
      streams: streams === undefined ? [] : stringList(streams, `${jwt.scopeClaim}.streams`),
    };
  } else throw new Error(`its "${jwt.scopeClaim}" claim must be an object { paths, streams }, a path or a list of paths`);
  if (scope.paths.length + scope.streams.length > MAX_SCOPE_ENTRIES)
    throw new Error(`its "${jwt.scopeClaim}" claim lists more than ${MAX_SCOPE_ENTRIES} entries`);
  return scope;
}

/** Whether `scope` allows the request. */
export function scopeAllows(scope: JwtScope, target: JwtTarget): boolean {
  if (scope === 'any') return true;
  for (const path of scope.paths) {
    if (path.endsWith('/') ? target.path.startsWith(path) : target.path === path) return true;
  }
  return scope.streams.includes(target.streamKey);
}

/** The viewer's label from the label claim: a string, control characters removed, at most MAX_JWT_LABEL_CHARS; else undefined. */
export function labelOf(payload: Record<string, unknown>, labelClaim: string): string | undefined {
  if (!labelClaim || !Object.hasOwn(payload, labelClaim)) return undefined;
  const value = payload[labelClaim];
  if (typeof value !== 'string') return undefined;
  const clean = value.replace(/[\x00-\x1f\x7f]/g, '').slice(0, MAX_JWT_LABEL_CHARS);
  return clean.length > 0 ? clean : undefined;
}
