/**
 * A tiny strict schema library shared by the engine (config, API input) and the
 * renderer (form validation). Every error names the path of the offending field,
 * e.g. `routes[2].mode: expected "redirect" or "proxy"`. Objects reject unknown keys.
 */

/** A validation failure; `path` is the dotted/indexed field path, `detail` what was wrong. */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
    this.name = 'SchemaError';
  }
}

/** A parser from untrusted data to `T`; `optional`/`withDefault` fields let object() fill defaults. */
export interface Schema<T> {
  parse(value: unknown, path: string): T;
  /** Present when the field may be omitted; returns the value to use (or undefined). */
  readonly whenMissing?: () => T;
  /** What an integer schema accepts, inclusive (read by the metadata tests and the README). */
  readonly range?: { readonly min: number; readonly max: number };
  /** What a oneOf schema accepts (read by the Settings page's selects). */
  readonly choices?: readonly (string | number)[];
  /** A documented field's meaning and unit (see `setting` and `documented`). */
  readonly meta?: FieldMeta;
}

/**
 * What an integer setting counts, written once on its field and shown by the README's
 * configuration reference and the Settings page.
 */
export type Unit =
  | 'ms'
  | 'seconds'
  | 'days'
  | 'bytes'
  | 'percent'
  | 'entries'
  | 'requests'
  | 'sockets'
  | 'connections'
  | 'header fields'
  | 'streams'
  | 'streams per minute'
  | 'streams per second'
  | 'frames per second'
  | 'viewers'
  | 'tags'
  | 'nodes'
  | 'fetches'
  | 'checks'
  | 'failures'
  | 'logins per minute'
  | 'port'
  | 'relative weight'
  | 'bits'
  | 'calls'
  | 'answers'
  | 'records'
  | 'retries'
  | 'bytes per second'
  | 'lines'
  | 'files';

/** A field's documentation: its meaning in one or a few sentences (never its default, which the schema holds), and for an integer its unit. */
export interface FieldMeta {
  readonly doc: string;
  readonly unit?: Unit;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fail(path: string, expected: string, value: unknown): never {
  throw new SchemaError(path, `expected ${expected}, got ${describe(value)}`);
}

export interface StringRules {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** Words used in the error when `pattern` does not match. */
  patternName?: string;
}

export function string(rules: StringRules = {}): Schema<string> {
  const { min = 0, max = 4096, pattern, patternName } = rules;
  return {
    parse(value, path) {
      if (typeof value !== 'string') fail(path, 'a string', value);
      if (value.length < min) throw new SchemaError(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
      if (value.length > max) throw new SchemaError(path, `must be at most ${max} characters`);
      if (pattern && !pattern.test(value)) fail(path, patternName ?? `a string matching ${pattern}`, value);
      return value;
    },
  };
}

export function integer(min: number, max: number): Schema<number> {
  return {
    range: { min, max },
    parse(value, path) {
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, 'an integer', value);
      if (value < min || value > max) fail(path, `an integer from ${min} to ${max}`, value);
      return value;
    },
  };
}

export function boolean(): Schema<boolean> {
  return {
    parse(value, path) {
      if (typeof value !== 'boolean') fail(path, 'true or false', value);
      return value;
    },
  };
}

export function oneOf<const T extends readonly (string | number)[]>(choices: T): Schema<T[number]> {
  const words = choices.map((c) => JSON.stringify(c));
  const expected = words.length === 2 ? `${words[0]} or ${words[1]}` : `one of ${words.join(', ')}`;
  return {
    choices,
    parse(value, path) {
      if (!choices.includes(value as T[number])) fail(path, expected, value);
      return value as T[number];
    },
  };
}

export function array<T>(item: Schema<T>, max: number): Schema<T[]> {
  return {
    parse(value, path) {
      if (!Array.isArray(value)) fail(path, 'an array', value);
      if (value.length > max) throw new SchemaError(path, `must have at most ${max} entries`);
      return value.map((v, i) => item.parse(v, `${path}[${i}]`));
    },
  };
}

/** A field that may be omitted (its key is optional in the parsed type). */
export interface OptionalSchema<T> extends Schema<T> {
  readonly isOptional: true;
}

/** The field may be omitted; it is then absent from the result. */
export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return { parse: (v, p) => inner.parse(v, p), range: inner.range, choices: inner.choices, whenMissing: () => undefined as T, isOptional: true };
}

/** A field with a default: it may be left out of an input (its key is optional in InputOf, required in the parsed type). */
export interface DefaultedSchema<T> extends Schema<T> {
  readonly hasDefault: true;
}

/** The field may be omitted; then a copy of `value` is used. */
export function withDefault<T>(inner: Schema<T>, value: T): DefaultedSchema<T> {
  return {
    parse: (v, p) => inner.parse(v, p),
    range: inner.range,
    choices: inner.choices,
    whenMissing: () => (typeof value === 'object' && value !== null ? structuredClone(value) : value),
    hasDefault: true,
  };
}

/** `schema` with its documentation attached (keeps `isOptional`, so an optional field stays optional in the parsed type). */
export function documented<S extends Schema<unknown>>(schema: S, meta: FieldMeta): S {
  return { ...schema, meta };
}

/**
 * A configuration setting: the one place its default, unit and meaning are written. The
 * README's configuration reference, the Settings page's hints and the exported DEFAULT_*
 * values are all read from here.
 */
export function setting<T>(inner: Schema<T>, defaultValue: T, meta: FieldMeta): DefaultedSchema<T> {
  return documented(withDefault(inner, defaultValue), meta);
}

/** The value a field gets when it is omitted (a fresh copy; undefined for an `optional` field). Throws for a required field. */
export function defaultOf<T>(field: Schema<T>): T {
  if (!field.whenMissing) throw new Error('the field is required: it has no default');
  return field.whenMissing();
}

type Shape = Record<string, Schema<unknown>>;
/** The keys of `S` whose schema has the marker `M` (isOptional, hasDefault). */
type KeysMarked<S extends Shape, M> = { [K in keyof S]: S[K] extends M ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The fields of `S` with their parsed types, the `Loose` ones optional. */
type FieldsOf<S extends Shape, Loose extends keyof S> = Simplify<{ [K in Exclude<keyof S, Loose>]: Infer<S[K]> } & { [K in Loose]?: Infer<S[K]> }>;
export type ObjectOf<S extends Shape> = FieldsOf<S, KeysMarked<S, { isOptional: true }>>;
/**
 * What `object(shape)` accepts from a caller (an API body, a config file): the fields with a
 * default or marked optional may be left out; a value that is given has its parsed type.
 */
export type InputOf<S extends Shape> = FieldsOf<S, KeysMarked<S, { isOptional: true } | { hasDefault: true }>>;

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** A strict object: unknown keys are rejected, missing keys need `optional`/`withDefault`. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { shape: S } {
  return {
    shape,
    parse(value, path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
      const input = value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) throw new SchemaError(join(path, key), 'unknown key');
      }
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(shape)) {
        const fieldPath = join(path, key);
        if (input[key] === undefined) {
          if (!field.whenMissing) throw new SchemaError(fieldPath, 'is required');
          const filled = field.whenMissing();
          if (filled !== undefined) out[key] = filled;
        } else {
          out[key] = field.parse(input[key], fieldPath);
        }
      }
      return out as ObjectOf<S>;
    },
  };
}

/** Every key of the object shape made optional with no default: for PATCH bodies. */
export function partial<S extends Shape>(base: { shape: S }): Schema<Partial<ObjectOf<S>>> {
  const loose: Shape = {};
  for (const [key, field] of Object.entries(base.shape)) {
    const loosened = optional({ parse: (v, p) => field.parse(v, p), range: field.range, choices: field.choices });
    loose[key] = field.meta ? documented(loosened, field.meta) : loosened;
  }
  return object(loose) as unknown as Schema<Partial<ObjectOf<S>>>;
}
