/**
 * Add or edit a node: id, URL, weight, enabled, draining, as ListForm fields. Checked with
 * the shared node schema and the URL rules the engine applies; a node's id cannot change
 * (routes refer to it). Fields this form does not show (health overrides, stream API) are kept.
 */
import { nodeSchema, type NodeConfig } from '../../../shared/config.js';
import type { NodeDto } from '../../../shared/dto.js';
import { useApi } from '../live/LiveContext.js';
import { ListForm, type Draft, type FormSection } from './ListForm.js';
import { fieldErrors, nodeUrlError, type FieldErrors } from './validate.js';

/** The configuration part of a node as the API shows it (live-state fields dropped). */
export function nodeConfigOf(node: NodeDto): Draft {
  return Object.fromEntries(Object.entries(node).filter(([key]) => Object.hasOwn(nodeSchema.shape, key)));
}

const NEW_NODE: Draft = { id: '', url: 'http://', enabled: true, weight: 1 };

export interface NodeFormProps {
  /** The node being edited; undefined adds a new one. */
  node?: NodeDto;
  nodes: readonly NodeDto[];
  onDone: (node: NodeDto) => void;
  onCancel?: () => void;
}

function nodeSections(editing: boolean): FormSection[] {
  return [
    {
      fields: [
        { kind: 'text', key: 'id', label: 'Id', readOnly: editing, hint: editing ? 'routes refer to it: it cannot change' : 'letters, digits, _ - .' },
        { kind: 'text', key: 'url', label: 'URL', hint: 'http(s)://host:port[/base], no query' },
        { kind: 'integer', key: 'weight', label: 'Weight', hint: '1 to 1000; empty = 1' },
      ],
    },
    {
      fields: [
        { kind: 'check', key: 'enabled', label: 'Enabled (a disabled node is never chosen)', checked: (v) => v !== false },
        { kind: 'check', key: 'draining', label: 'Draining (no new sessions; live streams move to other nodes)', checked: (v) => v === true },
      ],
    },
  ];
}

/** The schema's messages, the URL rules, and a new id that is taken. */
function nodeErrors(draft: Draft, nodes: readonly NodeDto[], editing: NodeDto | undefined): FieldErrors {
  const found = fieldErrors(nodeSchema.shape, draft);
  const urlError = typeof draft.url === 'string' ? nodeUrlError(draft.url) : undefined;
  if (!found.url && urlError) found.url = urlError;
  if (!editing && nodes.some((n) => n.id === draft.id)) found.id = `a node with id "${String(draft.id)}" exists already`;
  return found;
}

export function NodeForm({ node, nodes, onDone, onCancel }: NodeFormProps) {
  const api = useApi();
  return (
    <ListForm
      label={node ? `Edit node ${node.id}` : 'Add node'}
      submitText={node ? 'Save node' : 'Add node'}
      initial={node ? nodeConfigOf(node) : NEW_NODE}
      sections={nodeSections(node !== undefined)}
      validate={(draft) => nodeErrors(draft, nodes, node)}
      send={(draft) => {
        const body = nodeSchema.parse(draft, '') as NodeConfig;
        return node ? api.replaceNode({ id: node.id, body }) : api.createNode({ body });
      }}
      onDone={onDone}
      onCancel={onCancel}
    />
  );
}
