/**
 * What the playlist renderer (render.ts) keeps about one fetched playlist: its parse (or why
 * it could not be parsed) and the templates and renderings memoized for viewers. It lives as
 * long as the fetch it describes (the cache entry) and goes with it; the fetch itself is only
 * transport and sharing (fetch.ts). The memo holds at most MEMO_BUDGET_FACTOR times the
 * playlist's raw bytes, which the playlist cache counts (fetch.ts PLAYLIST_FOOTPRINT_FACTOR).
 */
import type { RelayError } from '../../core/errors.js';
import type { SharedFetch } from './fetch.js';
import type { Playlist } from './playlist.js';

/**
 * Memoized templates and renderings of a playlist may hold this many times its raw bytes:
 * room for the template and at least one rendering (each up to about twice the raw bytes
 * when every line is a URI and gains the relay's hint), so viewers without carried
 * parameters never re-render.
 */
export const MEMO_BUDGET_FACTOR = 5;

export class PlaylistState {
  /** The parsed playlist (or why it could not be parsed), once parsed. */
  parsed: Playlist | RelayError | undefined;
  /** Templates and renderings for viewers, with their size in characters. */
  readonly memo = new Map<string, { value: unknown; chars: number }>();
  memoChars = 0;

  constructor(private readonly fetch: SharedFetch) {}

  /** Characters the memo may hold: MEMO_BUDGET_FACTOR times the raw body. */
  get memoBudget(): number {
    return this.fetch.retainedBytes * MEMO_BUDGET_FACTOR;
  }
}

const states = new WeakMap<SharedFetch, PlaylistState>();

/** The renderer's state of `fetch` (made on first use; it goes when the fetch goes). */
export function playlistState(fetch: SharedFetch): PlaylistState {
  let state = states.get(fetch);
  if (!state) {
    state = new PlaylistState(fetch);
    states.set(fetch, state);
  }
  return state;
}
