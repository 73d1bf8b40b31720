/** The configuration schema, split per section under shared/config/; this module is the one importers use. */
export * from './config/index.js';
