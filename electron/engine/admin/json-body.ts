/**
 * Reading an admin API request body as JSON: bounded in size (admin.maxBodyBytes) and in
 * nesting (ADMIN_MAX_JSON_DEPTH, checked by one linear scan before JSON.parse, so a body of
 * 100,000 brackets is a 400 and never reaches the recursive code that would overflow the
 * stack: validation, cloning, audit masking).
 */
import type { IncomingMessage } from 'node:http';
import { RelayError } from '../core/errors.js';

/** Deepest array/object nesting accepted in an admin API body (a whole config needs about 6). */
export const ADMIN_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);

/** The deepest bracket nesting of JSON text, brackets inside strings not counted; stops past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (OPENERS.has(c)) {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (CLOSERS.has(c)) depth -= 1;
  }
  return deepest;
}

/** The request body parsed as JSON; undefined when empty. Errors are 413 / 400 RelayErrors. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new RelayError('BODY_TOO_LARGE', `request body exceeds admin.maxBodyBytes (${maxBytes})`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  if (jsonDepth(text, ADMIN_MAX_JSON_DEPTH) > ADMIN_MAX_JSON_DEPTH) {
    throw new RelayError('BAD_REQUEST', `body: nested deeper than ${ADMIN_MAX_JSON_DEPTH} arrays/objects`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RelayError('BAD_CONFIG', `body: not valid JSON: ${(error as Error).message}`);
  }
}
