/** `nodes[]`: the media nodes (configuration only; live state lives in the engine). */
import { boolean, documented, integer, object, oneOf, optional, partial, setting, string } from '../schema.js';
import { healthSettingsSchema } from './health.js';
import { id } from './fields.js';

export const NODE_API_TYPES = ['nms', 'srs', 'mediamtx', 'zlm', 'head', 'relaydeck'] as const;

/** How to ask a node which streams it holds. */
export const nodeApiSchema = object({
  type: documented(oneOf(NODE_API_TYPES), {
    doc: '"nms" (node-media-server v4), "srs", "mediamtx", "zlm" (ZLMediaKit), "head" (HEAD the stream URL) or "relaydeck" (another RelayDeck relay: a parent tier).',
  }),
  url: documented(optional(string({ min: 1, max: 2048 })), { doc: "Base URL of the API when it is not the node URL (e.g. MediaMTX's API port)." }),
  username: documented(optional(string({ min: 1, max: 256 })), { doc: 'nms: API user name.' }),
  password: documented(optional(string({ min: 1, max: 256 })), { doc: 'nms: API password.' }),
  secret: documented(optional(string({ min: 1, max: 256 })), { doc: 'zlm: the API secret.' }),
  token: documented(optional(string({ min: 1, max: 512 })), { doc: "relaydeck: the parent relay's admin token (its admin URL goes in `url`)." }),
});

/** A media node: configuration only (live state lives in the engine). */
export const nodeSchema = object({
  id: documented(id(), { doc: 'Unique id, referenced by routes.' }),
  url: documented(string({ min: 1, max: 2048 }), { doc: 'Base URL of the node, http or https, no query or fragment, e.g. http://10.0.0.5:8000.' }),
  enabled: setting(boolean(), true, { doc: 'A disabled node is never chosen.' }),
  weight: setting(integer(1, 1_000), 1, { unit: 'relative weight', doc: 'Relative weight for balancing locators.' }),
  draining: setting(boolean(), false, {
    doc: 'Draining: no new sessions go to the node; its live FLV streams move to other nodes that hold them (what no node takes ends at relay.drainDeadlineMs), other sessions continue.',
  }),
  health: documented(optional(partial(healthSettingsSchema)), { doc: 'Per-node overrides of the `health` defaults.' }),
  hookSecret: documented(optional(string({ min: 16, max: 256 })), {
    doc: "Secret the node's publish hooks send (query `secret` or `Authorization: Bearer`) to tell the stream registry what it publishes; without it the node's hooks are refused.",
  }),
  api: documented(optional(nodeApiSchema), { doc: 'The node\'s stream-list API, for routes with locate "probe".' }),
});

export const nodePatchSchema = partial(nodeSchema);
