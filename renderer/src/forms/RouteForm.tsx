/**
 * Add or edit a route, as ListForm fields. Every field is checked with the shared route
 * schema as it would be by the engine (messages name the field), plus the checks that need
 * the other routes (route-draft.ts). Fields this form does not show are kept as they were.
 * "All nodes", the default, means the operator's own nodes: the demo node serves only
 * routes that pick it. The route's warnings (shared/route-nodes.ts: a redirect with locate
 * "first" over several nodes, a route with no node) show as the fields change. The
 * admission part (the route's JWT viewer tokens, webhook and viewer limits) is edited as
 * flat fields (admission-sections.ts, admission-draft.ts), each with the schema's doc as its hint.
 */
import {
  DEFAULT_CORS_EXPOSE_HEADERS,
  DEFAULT_CORS_ORIGINS,
  LOCATORS,
  ROUTE_KINDS,
  ROUTE_MODES,
  routeSchema,
  type RouteConfig,
} from '../../../shared/config.js';
import type { NodeDto, RouteDto, RouteSavedDto } from '../../../shared/dto.js';
import { isDemoNode, routeWarnings, type NodeChoice } from '../../../shared/route-nodes.js';
import { useApi, useLive } from '../live/LiveContext.js';
import { admissionErrorsByField } from './admission-draft.js';
import { ADMISSION_SECTIONS } from './admission-sections.js';
import { CheckField } from './fields.js';
import { ListForm, type Draft, type FormContext, type FormSection } from './ListForm.js';
import { EMPTY_LIST_TEXT, listText, routeCandidate, routeDraftOf, routeErrors } from './route-draft.js';

export interface RouteFormProps {
  /** The route being edited; undefined adds a new one. */
  route?: RouteDto;
  routes: readonly RouteDto[];
  nodes: readonly NodeDto[];
  /** Called with the route as saved and its warnings. */
  onDone: (route: RouteSavedDto) => void;
  onCancel?: () => void;
}

const options = <T extends string | number>(values: readonly T[], label: (value: T) => string = String) =>
  values.map((value) => ({ value, label: label(value) }));

/** Id, path, kind, mode, status, locator, its option, and the offline wait. */
const MAIN_FIELDS: FormSection = {
  fields: [
    { kind: 'text', key: 'id', label: 'Id', hint: 'letters, digits, _ - .' },
    { kind: 'text', key: 'path', label: 'Path prefix', hint: 'starts and ends with "/", e.g. /live/' },
    { kind: 'select', key: 'kind', label: 'Kind', options: options(ROUTE_KINDS) },
    {
      kind: 'select',
      key: 'mode',
      label: 'Mode',
      options: options(ROUTE_MODES, (m) => (m === 'redirect' ? 'redirect (302/307 to the node)' : 'proxy (stream through the relay)')),
    },
    { kind: 'select', key: 'status', label: 'Redirect status', options: options([302, 307]), fallback: 302 },
    { kind: 'select', key: 'locate', label: 'Find the node by', options: options(LOCATORS), fallback: 'first' },
    {
      kind: 'select',
      key: 'leastLoadBy',
      label: 'Least load by',
      options: [
        { value: 'viewers', label: 'viewers' },
        { value: 'mbps', label: 'Mbit/s' },
      ],
      fallback: 'viewers',
      when: (draft) => draft.locate === 'least-load',
    },
    {
      kind: 'integer',
      key: 'offlineWaitMs',
      label: 'Offline wait, ms',
      hint: 'flv fan-out: how long a viewer waits for an offline stream; empty = 0 (fast 404)',
    },
  ],
};

const SWITCHES: FormSection = {
  fields: [
    { kind: 'check', key: 'stripPrefix', label: 'Strip the prefix before building the node URL', checked: (v) => v === true },
    { kind: 'check', key: 'fanout', label: 'FLV fan-out (one upstream pull per stream)', checked: (v) => v !== false },
    { kind: 'check', key: 'gopCache', label: 'GOP cache (late joiners start at once)', checked: (v) => v !== false },
  ],
};

/** CORS: which web origins may read the route's answers, with credentials or not, and which headers they may read. */
const CORS_FIELDS: FormSection = {
  fields: [
    {
      kind: 'text',
      key: 'corsOrigins',
      label: 'CORS origins',
      hint: `"*" for any origin, or origins as browsers send them (https://player.example.com), separated by commas; "${EMPTY_LIST_TEXT}" for no origin; empty = ${listText(DEFAULT_CORS_ORIGINS)}`,
    },
    {
      kind: 'check',
      key: 'corsCredentials',
      label: 'CORS: allow credentials (cookies, HTTP auth)',
      hint: 'needs listed origins, not "*": the allowed origin is echoed',
      checked: (v) => v === true,
    },
    {
      kind: 'text',
      key: 'corsExposeHeaders',
      label: 'CORS exposed headers',
      hint: `response headers a player's script may read, separated by commas; "${EMPTY_LIST_TEXT}" for none; empty = ${listText(DEFAULT_CORS_EXPOSE_HEADERS)}`,
    },
  ],
};

/** "All nodes", or the nodes ticked. */
function NodesPick({ draft, errors, set, nodes, choice }: FormContext & { nodes: readonly NodeDto[]; choice: NodeChoice }) {
  const selected = draft.nodes as string[] | undefined;
  const toggle = (id: string, on: boolean) => set('nodes', on ? [...(selected ?? []), id] : (selected ?? []).filter((n) => n !== id));
  return (
    <fieldset className="nodes-pick">
      <legend>Nodes</legend>
      <CheckField
        label={choice.demoInstalled ? 'All your nodes (in config order; not the demo node)' : 'All nodes (in config order)'}
        checked={selected === undefined}
        onChange={(all) => set('nodes', all ? undefined : [])}
      />
      {selected !== undefined &&
        nodes.map((n) => (
          <CheckField
            key={n.id}
            label={`${n.id} (${isDemoNode(choice, n.id) ? 'built-in demo node' : n.url})`}
            checked={selected.includes(n.id)}
            onChange={(on) => toggle(n.id, on)}
          />
        ))}
      {errors.nodes && (
        <small className="field-error" role="alert">
          {errors.nodes}
        </small>
      )}
    </fieldset>
  );
}

/** The static rules, edited as text; only with locate "static". */
function StaticRules({ draft, errors, set }: FormContext) {
  if (draft.locate !== 'static') return null;
  return (
    <div className={`field ${errors.static ? 'invalid' : ''}`}>
      <label htmlFor="static-rules">Static rules, one "pattern node" per line ("*" matches anything)</label>
      <textarea id="static-rules" rows={4} value={String(draft.static ?? '')} onChange={(e) => set('static', e.target.value)} spellCheck={false} />
      {errors.static && (
        <small className="field-error" role="alert">
          {errors.static}
        </small>
      )}
    </div>
  );
}

function Warnings({ draft, choice }: { draft: Draft; choice: NodeChoice }) {
  const warnings = routeWarnings(
    {
      id: String(draft.id || 'new'),
      mode: draft.mode as RouteConfig['mode'],
      locate: (draft.locate as RouteConfig['locate']) ?? 'first',
      nodes: draft.nodes as string[] | undefined,
    },
    choice,
  );
  if (warnings.length === 0) return null;
  return (
    <div className="notice warn" role="note" data-testid="route-form-warnings">
      {warnings.map((w) => (
        <p key={w}>{w}</p>
      ))}
    </div>
  );
}

export function RouteForm({ route, routes, nodes, onDone, onCancel }: RouteFormProps) {
  const api = useApi();
  const { relay } = useLive();
  const choice: NodeChoice = { nodeIds: nodes.map((n) => n.id), demoInstalled: Boolean(relay?.demo) };
  const sections: FormSection[] = [
    MAIN_FIELDS,
    { render: (context) => <NodesPick {...context} nodes={nodes} choice={choice} /> },
    SWITCHES,
    { render: (context) => <StaticRules {...context} /> },
    CORS_FIELDS,
    ...ADMISSION_SECTIONS,
  ];
  return (
    <ListForm
      label={route ? `Edit route ${route.id}` : 'Add route'}
      submitText={route ? 'Save route' : 'Add route'}
      initial={routeDraftOf(route)}
      sections={sections}
      validate={(draft) => routeErrors(draft, routes, route)}
      send={(draft) => {
        const body = routeSchema.parse(routeCandidate(draft).candidate, '') as RouteConfig;
        return route ? api.replaceRoute({ id: route.id, body }) : api.createRoute({ body });
      }}
      onDone={onDone}
      onCancel={onCancel}
      footer={(draft) => <Warnings draft={draft} choice={choice} />}
      engineErrors={admissionErrorsByField}
    />
  );
}
