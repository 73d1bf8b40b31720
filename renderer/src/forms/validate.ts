/**
 * Form validation with the shared schema (shared/schema.ts): each field is parsed on its
 * own so every bad field gets its own message, worded exactly as the engine words it. The
 * engine validates again; its "body.FIELD: ..." errors are mapped back to the field.
 */
import type { ApiError } from '../../../shared/api.js';
import { SchemaError, type Schema } from '../../../shared/schema.js';

/** Messages by field name; empty when the draft is valid. */
export type FieldErrors = Record<string, string>;

type Shape = Record<string, Schema<unknown>>;

/** Check every field of `draft` against its schema in `shape`; unknown keys are reported too. */
export function fieldErrors(shape: Shape, draft: Record<string, unknown>): FieldErrors {
  const errors: FieldErrors = {};
  for (const [key, field] of Object.entries(shape)) {
    const value = draft[key];
    if (value === undefined) {
      if (!field.whenMissing) errors[key] = 'is required';
      continue;
    }
    try {
      field.parse(value, key);
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      errors[error.path.split(/[.[]/)[0] || key] = error.path === key ? error.detail : `${error.path}: ${error.detail}`;
    }
  }
  for (const key of Object.keys(draft)) if (!(key in shape) && draft[key] !== undefined) errors[key] = 'unknown field';
  return errors;
}

/** "body.path: expected ..." → { path: "expected ..." }; undefined for errors that name no field. */
export function fieldErrorFromApi(error: ApiError): FieldErrors | undefined {
  const match = /^body\.([A-Za-z]+)(\S*): (.*)$/s.exec(error.message);
  if (!match) return undefined;
  return { [match[1]]: match[2] ? `${match[1]}${match[2]}: ${match[3]}` : match[3] };
}

export const hasErrors = (errors: FieldErrors) => Object.keys(errors).length > 0;

/** An input's text as an integer field value: "" → undefined (the default applies). */
export function integerOrUndefined(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : trimmed;
}

/** The checks parseConfig makes on a node URL (shared/config.ts), for the form. */
export function nodeUrlError(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `expected an absolute http:// or https:// URL, got "${url}"`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `expected http:// or https://, got "${parsed.protocol}"`;
  if (parsed.search || parsed.hash || url.includes('#')) return 'must not have a query or fragment';
  if (parsed.username || parsed.password) return 'must not hold credentials';
  return undefined;
}
