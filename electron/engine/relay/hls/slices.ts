/**
 * Long synchronous work cut into slices: a parse, rewrite or render of a large playlist is
 * written as a generator that pauses (yields) every few thousand lines; `drain` runs it in
 * one go (small playlists), `runSliced` runs it a slice at a time and lets the event loop
 * serve other viewers between slices, so a 4 MB playlist never stalls the relay for its
 * whole parse.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Longest a slice runs before the event loop gets a turn, ms. */
export const SLICE_MS = 8;

/** Run steps to the end at once. */
export function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Run steps a slice of about SLICE_MS at a time, yielding to the event loop between slices. */
export async function runSliced<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const until = performance.now() + SLICE_MS;
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (performance.now() >= until) break;
    }
    await nextTurn();
  }
}
