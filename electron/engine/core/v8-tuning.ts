/**
 * V8 settings the relay runs with, applied once at start by each entry point (the `relaydeck`
 * CLI and the desktop app's main process) before the engine starts serving.
 *
 * Allocation-site pretenuring is turned off. V8 watches where objects are made, and when many
 * of one site's objects outlive a young-generation collection it makes that site's later objects
 * directly in the old generation. A relay's per-request objects (Node's HTTP/2 request, response
 * and stream, the relay's delivery and session) all die within the request, but a burst of
 * concurrent requests makes them look long-lived, and from then on every request's objects went
 * to the old generation, which filled in seconds: a relay serving HTTP/2 playlists at a moderate
 * rate ran a full mark-compact every few seconds (figures: README, TLS benchmark section).
 * Without it those objects die young, in the cheap collection, as they should.
 */
import v8 from 'node:v8';

/** The V8 flags tuneV8 sets. */
export const RELAY_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/** Apply RELAY_V8_FLAGS to this process's V8 (idempotent). */
export function tuneV8(): void {
  for (const flag of RELAY_V8_FLAGS) v8.setFlagsFromString(flag);
}
