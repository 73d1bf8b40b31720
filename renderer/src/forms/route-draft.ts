/**
 * The route form's draft, apart from React: the static rules edited as text ("pattern node"
 * per line) and turned back into the route's rules, the CORS lists edited as comma-separated
 * text, the admission part (webhook and limits, admission-draft.ts) as flat fields, and every
 * check made before sending (the shared route schema, the rules' shape, a duplicate id or
 * path, credentials with "*"), each message under the field it names.
 */
import { corsCredentialsProblem, DEFAULT_CORS_ORIGINS, routeSchema } from '../../../shared/config.js';
import type { RouteDto } from '../../../shared/dto.js';
import { admissionDraftOf, admissionErrors, admissionErrorsByField, withAdmission } from './admission-draft.js';
import type { Draft } from './ListForm.js';
import { fieldErrors, type FieldErrors } from './validate.js';

/** A new route as the form starts it. */
export const NEW_ROUTE: Draft = { id: '', path: '/', kind: 'flv', mode: 'proxy' };

/** The route's CORS list fields, edited as text (listText, parseList). */
export const CORS_LIST_FIELDS = ['corsOrigins', 'corsExposeHeaders'] as const;
/** The text that stands for an empty list (empty text means "the default"). */
export const EMPTY_LIST_TEXT = 'none';

/** A list as the form shows it: comma-separated, EMPTY_LIST_TEXT for an empty one, '' when absent. */
export function listText(list: readonly string[] | undefined): string {
  if (list === undefined) return '';
  return list.length === 0 ? EMPTY_LIST_TEXT : list.join(', ');
}

/** The text back as a list: undefined when empty (the default applies), [] for EMPTY_LIST_TEXT; commas or spaces separate. */
export function parseList(text: string): string[] | undefined {
  const items = text.split(/[\s,]+/).filter(Boolean);
  if (items.length === 0) return undefined;
  return items.length === 1 && items[0] === EMPTY_LIST_TEXT ? [] : items;
}

/**
 * The draft of `route` (a new one when undefined), its static rules as text under `static`,
 * its CORS lists as text, its webhook and limits as flat fields ("webhook.url", "limits.maxViewers").
 */
export function routeDraftOf(route: RouteDto | undefined): Draft {
  const start: Draft = { ...(route ?? NEW_ROUTE) };
  delete start.limits;
  const rules = start.static as { match: string; node: string }[] | undefined;
  for (const key of CORS_LIST_FIELDS) start[key] = listText(start[key] as string[] | undefined);
  return { ...start, ...admissionDraftOf(route), static: (rules ?? []).map((r) => `${r.match} ${r.node}`).join('\n') };
}

/** The rules text as rules: undefined when empty, a message naming the bad line otherwise. */
export function parseRules(text: string): { match: string; node: string }[] | undefined | string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return undefined;
  const rules = lines.map((line) => line.split(/\s+/));
  const bad = rules.findIndex((parts) => parts.length !== 2);
  if (bad >= 0) return `line ${bad + 1}: expected "pattern node", e.g. "live/cam* node1"`;
  return rules.map(([match, node]) => ({ match, node }));
}

/** The route the draft stands for (rules and CORS lists parsed, webhook and limits nested), and the rules' message when they do not parse. */
export function routeCandidate(draft: Draft): { candidate: Draft; rulesError?: string } {
  const lists: Draft = {};
  for (const key of CORS_LIST_FIELDS) lists[key] = parseList(String(draft[key] ?? ''));
  const route = withAdmission(draft);
  const parsed = parseRules(String(draft.static ?? ''));
  if (typeof parsed === 'string') return { candidate: { ...route, ...lists, static: undefined }, rulesError: parsed };
  return { candidate: { ...route, ...lists, static: parsed } };
}

/** Every message for the draft, by field: the schema's, the rules', and the checks that need the other routes. */
export function routeErrors(draft: Draft, routes: readonly RouteDto[], editing: RouteDto | undefined): FieldErrors {
  const { candidate, rulesError } = routeCandidate(draft);
  // The admission fields' own checks name each bad field; the whole-route check would name only the first under "auth" or "limits".
  const errors = { ...admissionErrorsByField(fieldErrors(routeSchema.shape, candidate)), ...admissionErrors(draft) };
  const others = routes.filter((r) => r.id !== editing?.id);
  if (others.some((r) => r.id === candidate.id)) errors.id = `a route with id "${String(candidate.id)}" exists already`;
  const samePath = others.find((r) => r.path === candidate.path);
  if (samePath) errors.path = `route "${samePath.id}" has this path already`;
  if (rulesError) errors.static = rulesError;
  const origins = (candidate.corsOrigins as string[] | undefined) ?? DEFAULT_CORS_ORIGINS;
  const credentials = corsCredentialsProblem({ corsOrigins: origins, corsCredentials: candidate.corsCredentials === true });
  if (credentials && !errors.corsCredentials) errors.corsCredentials = credentials;
  return errors;
}
