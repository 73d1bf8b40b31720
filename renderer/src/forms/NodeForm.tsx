/**
 * Add or edit a node: id, URL, weight, enabled, draining. Checked with the shared node
 * schema and the URL rules the engine applies; a node's id cannot change (routes refer to
 * it). Fields this form does not show (health overrides, stream API) are kept.
 */
import { useState, type FormEvent } from 'react';
import { nodeSchema, type NodeConfig } from '../../../shared/config.js';
import type { NodeDto } from '../../../shared/dto.js';
import { ErrorNotice } from '../components/Notice.js';
import { useApi } from '../live/LiveContext.js';
import { CheckField, TextField } from './fields.js';
import { useSubmission } from './submission.js';
import { fieldErrors, integerOrUndefined, nodeUrlError } from './validate.js';

type Draft = Record<string, unknown>;

/** The configuration part of a node as the API shows it (live-state fields dropped). */
export function nodeConfigOf(node: NodeDto): Draft {
  return Object.fromEntries(Object.entries(node).filter(([key]) => Object.hasOwn(nodeSchema.shape, key)));
}

export interface NodeFormProps {
  node?: NodeDto;
  nodes: readonly NodeDto[];
  onDone: (node: NodeDto) => void;
}

export function NodeForm({ node, nodes, onDone }: NodeFormProps) {
  const api = useApi();
  const [draft, setDraft] = useState<Draft>(() => (node ? nodeConfigOf(node) : { id: '', url: 'http://', enabled: true, weight: 1 }));
  const { errors, failure, busy, send } = useSubmission();
  const set = (key: string, value: unknown) => setDraft((d) => ({ ...d, [key]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = fieldErrors(nodeSchema.shape, draft);
    const urlError = typeof draft.url === 'string' ? nodeUrlError(draft.url) : undefined;
    if (!found.url && urlError) found.url = urlError;
    if (!node && nodes.some((n) => n.id === draft.id)) found.id = `a node with id "${String(draft.id)}" exists already`;
    send(
      found,
      () => {
        const body = nodeSchema.parse(draft, '') as NodeConfig;
        return node ? api.replaceNode({ id: node.id, body }) : api.createNode({ body });
      },
      onDone,
    );
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={node ? `Edit node ${node.id}` : 'Add node'}>
      <ErrorNotice error={failure} />
      <div className="form-grid">
        <TextField label="Id" value={String(draft.id ?? '')} onChange={(v) => set('id', v)} error={errors.id} readOnly={node !== undefined} hint={node ? 'routes refer to it: it cannot change' : 'letters, digits, _ - .'} />
        <TextField label="URL" value={String(draft.url ?? '')} onChange={(v) => set('url', v)} error={errors.url} hint="http(s)://host:port[/base], no query" />
        <TextField label="Weight" value={draft.weight === undefined ? '' : String(draft.weight)} onChange={(v) => set('weight', integerOrUndefined(v))} error={errors.weight} hint="1 to 1000; empty = 1" />
      </div>
      <div className="form-grid">
        <CheckField label="Enabled (a disabled node is never chosen)" checked={draft.enabled !== false} onChange={(v) => set('enabled', v)} error={errors.enabled} />
        <CheckField label="Draining (no new sessions; live streams move to other nodes)" checked={draft.draining === true} onChange={(v) => set('draining', v)} error={errors.draining} />
      </div>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {node ? 'Save node' : 'Add node'}
        </button>
      </div>
    </form>
  );
}
