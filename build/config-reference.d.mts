/** Types of build/config-reference.mjs for the TypeScript that imports it (tests/unit/config/metadata.test.ts). */

/** The reference's Markdown, between its begin and end markers, from a loaded shared/config module (its REFERENCE_SECTIONS and referenceRows). */
export function renderSections(config: typeof import('../shared/config.js')): string;
