/**
 * Sparse saving: a change made from the UI or the API is written into the config file as a
 * patch of the document on disk, not as the whole config with every default filled in. What
 * the operator wrote stays as written (key order included); only the paths whose effective
 * value changed are set, removed or appended:
 * - a changed setting is set in place (a key the file did not have is appended to its object);
 * - a setting changed back to its default value stays explicit: the file records what the
 *   operator chose, and an explicit value does not follow a later change of the default;
 * - a route or node (any list of objects with an `id`) is matched by id: an added one is
 *   appended with only the fields that differ from the defaults, a removed one is removed, an
 *   edited one gets only its changed fields;
 * - other lists (CIDRs, tokens, keys, ...) are replaced whole when they change, and a section
 *   the file did not have (e.g. `demo` when the demo is installed) is written whole.
 * The result is checked: parsing it must give exactly the config being saved, else the full
 * config is written instead (never a file that means something else).
 */
import { isDeepStrictEqual } from 'node:util';
import { parseConfig, type RelayDeckConfig } from '../../../shared/config.js';

type Doc = Record<string, unknown>;

function isObject(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A list whose items are objects with distinct string ids (routes, nodes). */
function isIdList(value: unknown): value is Doc[] {
  if (!Array.isArray(value) || !value.every((item) => isObject(item) && typeof item.id === 'string')) return false;
  return new Set(value.map((item) => (item as Doc).id)).size === value.length;
}

/** A copy of `value`; the items of a new route or node list are queued in `fresh` for default pruning. */
function freshCopy(value: unknown, fresh: Doc[]): unknown {
  const copy = structuredClone(value);
  if (isIdList(copy)) fresh.push(...copy);
  return copy;
}

/** `raw` (as written, may be undefined) patched so it means `next` where it meant `base`. */
function patch(raw: unknown, base: unknown, next: unknown, fresh: Doc[]): unknown {
  if (isDeepStrictEqual(base, next)) return raw;
  if (base === undefined) return freshCopy(next, fresh);
  if (isObject(next) && isObject(base) && (raw === undefined || isObject(raw))) {
    const out: Doc = { ...(raw ?? {}) };
    for (const key of Object.keys(out)) if (!(key in next)) delete out[key];
    for (const key of Object.keys(next)) {
      const value = patch(out[key], base[key], next[key], fresh);
      if (value === undefined) delete out[key];
      else out[key] = value;
    }
    return out;
  }
  if (isIdList(next) && isIdList(base) && isIdList(raw)) {
    return next.map((item) => {
      const was = raw.find((r) => r.id === item.id);
      const baseItem = base.find((b) => b.id === item.id);
      if (was && baseItem) return patch(was, baseItem, item, fresh);
      const added = structuredClone(item);
      fresh.push(added);
      return added;
    });
  }
  return Array.isArray(next) || isObject(next) ? freshCopy(next, fresh) : next;
}

/** Drop from `object` (inside `doc`) every key whose absence still parses to `target`: its default. */
function pruneDefaults(doc: Doc, object: Doc, target: RelayDeckConfig): void {
  for (const key of Object.keys(object)) {
    const value = object[key];
    delete object[key];
    let same: boolean;
    try {
      same = isDeepStrictEqual(parseConfig(doc), target);
    } catch {
      same = false;
    }
    if (same) continue;
    object[key] = value;
    if (isObject(value)) pruneDefaults(doc, value, target);
  }
}

/**
 * The document to write for `next`, given the document on disk (`raw`, undefined when there
 * is none or it is unusable). Keys keep their order; unchanged parts are kept as written.
 */
export function sparseDocument(raw: Doc | undefined, next: RelayDeckConfig): Doc {
  let start: Doc = {};
  let base: RelayDeckConfig;
  try {
    base = parseConfig(raw ?? {});
    start = raw ?? {};
  } catch {
    base = parseConfig({});
  }
  const fresh: Doc[] = [];
  const doc = (patch(structuredClone(start), base, next, fresh) ?? {}) as Doc;
  for (const object of fresh) pruneDefaults(doc, object, next);
  try {
    if (isDeepStrictEqual(parseConfig(doc), next)) return doc;
  } catch {
    // fall through: the full config is always right
  }
  return structuredClone(next) as unknown as Doc;
}

/** The indentation of a JSON text (its first indented line), two spaces when it has none. */
export function indentOf(text: string): string {
  return /\n([ \t]+)["{[\]}]/.exec(text)?.[1] ?? '  ';
}
