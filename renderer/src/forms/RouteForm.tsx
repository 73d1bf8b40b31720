/**
 * Add or edit a route. Every field is checked with the shared route schema as it would
 * be by the engine (messages name the field), plus the checks that need the other routes
 * (a duplicate id or path). Fields this form does not show are kept as they were.
 * "All nodes", the default, means the operator's own nodes: the demo node serves only
 * routes that pick it. The route's warnings (shared/route-nodes.ts: a redirect with locate
 * "first" over several nodes, a route with no node) show as the fields change.
 */
import { useState, type FormEvent } from 'react';
import { LOCATORS, ROUTE_KINDS, ROUTE_MODES, routeSchema, type RouteConfig } from '../../../shared/config.js';
import type { NodeDto, RouteDto, RouteSavedDto } from '../../../shared/dto.js';
import { isDemoNode, routeWarnings, type NodeChoice } from '../../../shared/route-nodes.js';
import { ErrorNotice } from '../components/Notice.js';
import { useApi, useLive } from '../live/LiveContext.js';
import { CheckField, SelectField, TextField } from './fields.js';
import { useSubmission } from './submission.js';
import { fieldErrors, integerOrUndefined, type FieldErrors } from './validate.js';

type Draft = Record<string, unknown>;

export interface RouteFormProps {
  /** The route being edited; undefined adds a new one. */
  route?: RouteDto;
  routes: readonly RouteDto[];
  nodes: readonly NodeDto[];
  /** Called with the route as saved and its warnings. */
  onDone: (route: RouteSavedDto) => void;
}

const NEW_ROUTE: Draft = { id: '', path: '/', kind: 'flv', mode: 'proxy' };

/** "pattern node" per line ↔ the route's static rules. */
function rulesText(route: Draft): string {
  const rules = route.static as { match: string; node: string }[] | undefined;
  return (rules ?? []).map((r) => `${r.match} ${r.node}`).join('\n');
}

function parseRules(text: string): { match: string; node: string }[] | undefined | string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return undefined;
  const rules = lines.map((line) => line.split(/\s+/));
  const bad = rules.findIndex((parts) => parts.length !== 2);
  if (bad >= 0) return `line ${bad + 1}: expected "pattern node", e.g. "live/cam* node1"`;
  return rules.map(([match, node]) => ({ match, node }));
}

/** Checks that need the other routes and nodes. */
function crossErrors(draft: Draft, routes: readonly RouteDto[], editing: RouteDto | undefined): FieldErrors {
  const errors: FieldErrors = {};
  const others = routes.filter((r) => r.id !== editing?.id);
  if (others.some((r) => r.id === draft.id)) errors.id = `a route with id "${String(draft.id)}" exists already`;
  if (others.some((r) => r.path === draft.path)) errors.path = `route "${others.find((r) => r.path === draft.path)?.id}" has this path already`;
  return errors;
}

export function RouteForm({ route, routes, nodes, onDone }: RouteFormProps) {
  const api = useApi();
  const { relay } = useLive();
  const choice: NodeChoice = { nodeIds: nodes.map((n) => n.id), demoInstalled: Boolean(relay?.demo) };
  const [draft, setDraft] = useState<Draft>(() => ({ ...(route ?? NEW_ROUTE) }));
  const [rules, setRules] = useState(() => rulesText(route ?? NEW_ROUTE));
  const { errors, failure, busy, send } = useSubmission();
  const set = (key: string, value: unknown) => setDraft((d) => ({ ...d, [key]: value }));
  const selected = draft.nodes as string[] | undefined;
  const warnings = routeWarnings({ id: String(draft.id || 'new'), mode: draft.mode as RouteConfig['mode'], locate: (draft.locate as RouteConfig['locate']) ?? 'first', nodes: selected }, choice);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsedRules = parseRules(rules);
    const candidate: Draft = { ...draft, static: typeof parsedRules === 'string' ? undefined : parsedRules };
    const found = { ...fieldErrors(routeSchema.shape, candidate), ...crossErrors(candidate, routes, route) };
    if (typeof parsedRules === 'string') found.static = parsedRules;
    send(
      found,
      () => {
        const body = routeSchema.parse(candidate, '') as RouteConfig;
        return route ? api.replaceRoute({ id: route.id, body }) : api.createRoute({ body });
      },
      onDone,
    );
  };

  const toggleNode = (id: string, on: boolean) => {
    const current = selected ?? [];
    set('nodes', on ? [...current, id] : current.filter((n) => n !== id));
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={route ? `Edit route ${route.id}` : 'Add route'}>
      <ErrorNotice error={failure} />
      <div className="form-grid">
        <TextField label="Id" value={String(draft.id ?? '')} onChange={(v) => set('id', v)} error={errors.id} hint="letters, digits, _ - ." />
        <TextField label="Path prefix" value={String(draft.path ?? '')} onChange={(v) => set('path', v)} error={errors.path} hint='starts and ends with "/", e.g. /live/' />
        <SelectField label="Kind" value={draft.kind as string} options={ROUTE_KINDS.map((k) => ({ value: k, label: k }))} onChange={(v) => set('kind', v)} error={errors.kind} />
        <SelectField label="Mode" value={draft.mode as string} options={ROUTE_MODES.map((m) => ({ value: m, label: m === 'redirect' ? 'redirect (302/307 to the node)' : 'proxy (stream through the relay)' }))} onChange={(v) => set('mode', v)} error={errors.mode} />
        <SelectField label="Redirect status" value={(draft.status as number) ?? 302} options={[302, 307].map((s) => ({ value: s, label: String(s) }))} onChange={(v) => set('status', v)} error={errors.status} />
        <SelectField label="Find the node by" value={(draft.locate as string) ?? 'first'} options={LOCATORS.map((l) => ({ value: l, label: l }))} onChange={(v) => set('locate', v)} error={errors.locate} />
        {draft.locate === 'least-load' && (
          <SelectField label="Least load by" value={(draft.leastLoadBy as string) ?? 'viewers'} options={[{ value: 'viewers', label: 'viewers' }, { value: 'mbps', label: 'Mbit/s' }]} onChange={(v) => set('leastLoadBy', v)} error={errors.leastLoadBy} />
        )}
        <TextField
          label="Offline wait, ms"
          value={draft.offlineWaitMs === undefined ? '' : String(draft.offlineWaitMs)}
          onChange={(v) => set('offlineWaitMs', integerOrUndefined(v))}
          error={errors.offlineWaitMs}
          hint="flv fan-out: how long a viewer waits for an offline stream; empty = 0 (fast 404)"
        />
      </div>
      <fieldset className="nodes-pick">
        <legend>Nodes</legend>
        <CheckField
          label={choice.demoInstalled ? 'All your nodes (in config order; not the demo node)' : 'All nodes (in config order)'}
          checked={selected === undefined}
          onChange={(all) => set('nodes', all ? undefined : [])}
        />
        {selected !== undefined &&
          nodes.map((n) => (
            <CheckField key={n.id} label={`${n.id} (${isDemoNode(choice, n.id) ? 'built-in demo node' : n.url})`} checked={selected.includes(n.id)} onChange={(on) => toggleNode(n.id, on)} />
          ))}
        {errors.nodes && (
          <small className="field-error" role="alert">
            {errors.nodes}
          </small>
        )}
      </fieldset>
      <div className="form-grid">
        <CheckField label="Strip the prefix before building the node URL" checked={draft.stripPrefix === true} onChange={(v) => set('stripPrefix', v)} error={errors.stripPrefix} />
        <CheckField label="FLV fan-out (one upstream pull per stream)" checked={draft.fanout !== false} onChange={(v) => set('fanout', v)} error={errors.fanout} />
        <CheckField label="GOP cache (late joiners start at once)" checked={draft.gopCache !== false} onChange={(v) => set('gopCache', v)} error={errors.gopCache} />
      </div>
      {draft.locate === 'static' && (
        <div className={`field ${errors.static ? 'invalid' : ''}`}>
          <label htmlFor="static-rules">Static rules, one "pattern node" per line ("*" matches anything)</label>
          <textarea id="static-rules" rows={4} value={rules} onChange={(e) => setRules(e.target.value)} spellCheck={false} />
          {errors.static && (
            <small className="field-error" role="alert">
              {errors.static}
            </small>
          )}
        </div>
      )}
      {warnings.length > 0 && (
        <div className="notice warn" role="note" data-testid="route-form-warnings">
          {warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {route ? 'Save route' : 'Add route'}
        </button>
      </div>
    </form>
  );
}
