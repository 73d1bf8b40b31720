/**
 * The compact template of a rewritten playlist: the playlist's bytes (as received when its
 * line ends are "\n") plus, per URI, a few numbers in typed arrays: where the URI sits in
 * those bytes, which shared head is written in its place (a relay path prefix, mostly one
 * per directory), whether the URI's own bytes follow it, and its hint (node, MAC). So a
 * 4 MB playlist of 83k URIs costs about its own size plus ~40 bytes per URI, not an object
 * per URI. A rendering computes its exact length first and copies straight into one Buffer.
 * Built by rewrite.ts (TemplateBuilder), rendered by renderTemplateSteps.
 */
import { HLS_HINT_PARAM, HINT_MAC_CHARS } from './hint.js';
import { pieceName } from './query.js';

/** Flag bits per URI. */
const COPY = 1; // the URI's own bytes follow the head
const MAC = 2; // the hint carries "~" and the URI's MAC
const SEP_QUERY = 4; // "?" follows
const SEP_AMP = 8; // "&" follows

export interface Template {
  /** The playlist text, one "\n" after each line (UTF-8). */
  body: Buffer;
  /** URIs in the body. */
  count: number;
  /** Byte span of each URI in `body`. */
  start: Int32Array;
  end: Int32Array;
  /** Index into `heads` of what is written in each URI's place. */
  head: Uint32Array;
  flags: Uint8Array;
  /** Index into `nodes` of the hint's node, -1 for a URI that does not come back to the relay. */
  hintNode: Int32Array;
  /** HINT_MAC_CHARS bytes per URI (those flagged MAC). */
  macs: Buffer;
  heads: Buffer[];
  /** ".<node id>" per hint node. */
  nodes: string[];
  /** Node pieces of the relay URIs a viewer's carried piece of the same name replaces (written after the head). */
  pieces: Map<number, string[]>;
  /** The stream id the hints name unless a render names another. */
  streamId: string;
}

/** Collects a template URI by URI; `finish` trims the arrays. */
export class TemplateBuilder {
  private readonly t: Template;
  private readonly headIds = new Map<string, number>();
  private readonly nodeIds = new Map<string, number>();

  constructor(body: Buffer, capacity: number, streamId: string) {
    this.t = {
      body,
      count: 0,
      start: new Int32Array(capacity),
      end: new Int32Array(capacity),
      head: new Uint32Array(capacity),
      flags: new Uint8Array(capacity),
      hintNode: new Int32Array(capacity),
      macs: Buffer.alloc(capacity * HINT_MAC_CHARS),
      heads: [],
      nodes: [],
      pieces: new Map(),
      streamId,
    };
  }

  /**
   * Add the URI at bytes [start, end) of the body (text `uri`), written as `text`, then (when
   * `pieces`) the node pieces, then (when `nodeId`) the carried pieces and the hint.
   */
  add(start: number, end: number, uri: string, text: string, pieces?: string[], nodeId?: string, mac?: string): void {
    const t = this.t;
    const i = t.count;
    t.count += 1;
    t.start[i] = start;
    t.end[i] = end;
    let flags = 0;
    let head = text;
    // The common case: the rewritten text ends with the URI as written (a relative URI under a relay path prefix).
    if (!pieces && text.length >= uri.length) {
      const last = text.charCodeAt(text.length - 1);
      if (text.endsWith(uri)) {
        flags = COPY;
        head = text.slice(0, text.length - uri.length);
      } else if ((last === 63 || last === 38) && text.length > uri.length && text.endsWith(uri, text.length - 1)) {
        flags = COPY | (last === 63 ? SEP_QUERY : SEP_AMP);
        head = text.slice(0, text.length - 1 - uri.length);
      }
    }
    let h = this.headIds.get(head);
    if (h === undefined) {
      h = t.heads.length;
      t.heads.push(Buffer.from(head));
      this.headIds.set(head, h);
    }
    t.head[i] = h;
    if (pieces) t.pieces.set(i, pieces);
    if (nodeId === undefined) {
      t.hintNode[i] = -1;
    } else {
      let n = this.nodeIds.get(nodeId);
      if (n === undefined) {
        n = t.nodes.length;
        t.nodes.push(`.${nodeId}`);
        this.nodeIds.set(nodeId, n);
      }
      t.hintNode[i] = n;
      if (mac !== undefined) {
        flags |= MAC;
        t.macs.write(mac, i * HINT_MAC_CHARS, HINT_MAC_CHARS, 'latin1');
      }
    }
    t.flags[i] = flags;
  }

  finish(): Template {
    const t = this.t;
    const n = t.count;
    if (n === t.start.length) return t; // the usual case: the capacity was the URI count
    // Copies, not views: the spare capacity is given back.
    return {
      ...t,
      start: t.start.slice(0, n),
      end: t.end.slice(0, n),
      head: t.head.slice(0, n),
      flags: t.flags.slice(0, n),
      hintNode: t.hintNode.slice(0, n),
      macs: Buffer.from(t.macs.subarray(0, n * HINT_MAC_CHARS)),
    };
  }
}

/** Bytes a template holds beyond its body (which is the fetch's own when the line ends were "\n"). */
export function templateBytes(t: Template, bodyShared: boolean): number {
  let bytes = (bodyShared ? 0 : t.body.length) + t.count * (4 * 4 + 1 + HINT_MAC_CHARS);
  for (const head of t.heads) bytes += head.length + 16;
  for (const pieces of t.pieces.values()) for (const piece of pieces) bytes += piece.length + 16;
  return bytes;
}

/** URIs rendered between two pauses of a sliced render (slices.ts). */
const URIS_PER_STEP = 4_096;
/** Shorter runs are copied by a loop: cheaper than a Buffer.copy call for the few bytes between URIs. */
const LOOP_COPY_MAX_BYTES = 64;

/** Copy src[from, to) to out at `at`; the bytes copied. */
function copy(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  const n = to - from;
  if (n > LOOP_COPY_MAX_BYTES) return Buffer.prototype.copy.call(src, out, at, from, to);
  for (let k = 0; k < n; k += 1) out[at + k] = src[from + k];
  return n;
}

/**
 * Render for one viewer, straight into one Buffer of the exact length: `carry` (raw pieces,
 * e.g. ["token=abc"]) goes into every relay URI after the node's pieces (replacing a node
 * piece of the same name), the hint last, naming `streamId` (default: the template's).
 * Pauses (yields) every URIS_PER_STEP URIs.
 */
export function* renderTemplateSteps(t: Template, carry: readonly string[], carryNames: ReadonlySet<string>, streamId = t.streamId): Generator<void, Buffer> {
  let carriedText = '';
  for (const piece of carry) carriedText += `${piece}&`;
  // Carried pieces and the hint's head, per node: one run to copy.
  const tails = t.nodes.map((node) => Buffer.from(`${carriedText}${HLS_HINT_PARAM}=${streamId}${node}`));
  const kept = new Map<number, Buffer>();
  for (const [i, pieces] of t.pieces) {
    let text = '';
    for (const piece of pieces) if (!(carry.length && carryNames.has(pieceName(piece)))) text += `${piece}&`;
    kept.set(i, Buffer.from(text));
  }
  const { body, count, start, end, head, flags, hintNode, macs, heads } = t;
  let length = body.length;
  for (let i = 0; i < count; i += 1) {
    const f = flags[i];
    const n = hintNode[i];
    length += heads[head[i]].length - (f & COPY ? 0 : end[i] - start[i]) + (f & (SEP_QUERY | SEP_AMP) ? 1 : 0);
    if (n >= 0) length += tails[n].length + (f & MAC ? 1 + HINT_MAC_CHARS : 0);
  }
  for (const piece of kept.values()) length += piece.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  let cursor = 0;
  for (let i = 0; i < count; i += 1) {
    if (i % URIS_PER_STEP === URIS_PER_STEP - 1) yield;
    const f = flags[i];
    at += copy(body, cursor, start[i], out, at);
    const h = heads[head[i]];
    at += copy(h, 0, h.length, out, at);
    if (f & COPY) at += copy(body, start[i], end[i], out, at);
    cursor = end[i];
    if (f & SEP_QUERY) out[at++] = 63;
    else if (f & SEP_AMP) out[at++] = 38;
    const piece = kept.get(i);
    if (piece) at += copy(piece, 0, piece.length, out, at);
    const n = hintNode[i];
    if (n >= 0) {
      at += copy(tails[n], 0, tails[n].length, out, at);
      if (f & MAC) {
        out[at++] = 126; // "~"
        at += copy(macs, i * HINT_MAC_CHARS, (i + 1) * HINT_MAC_CHARS, out, at);
      }
    }
  }
  at += copy(body, cursor, body.length, out, at);
  if (at !== length) throw new Error(`template render wrote ${at} of ${length} bytes`);
  return out;
}
