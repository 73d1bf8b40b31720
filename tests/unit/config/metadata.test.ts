/**
 * Each setting's default, unit and meaning are written once, as metadata on its schema field
 * (shared/config/*.ts), and everything else reads them: the README's reference, the Settings
 * page, the DEFAULT_* values. These tests pin that every field carries them, that they agree
 * with the schema, and that no default is written a second time.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as config from '../../../shared/config.js';
import { HLS_RESERVED_PARAMS, parseConfig, REFERENCE_SECTIONS, referenceRows } from '../../../shared/config.js';
import { SchemaError, type Schema } from '../../../shared/schema.js';
import { HLS_HINT_PARAM } from '../../../electron/engine/relay/hls/hint.js';
import { HLS_SESSION_PARAM } from '../../../electron/engine/relay/hls/viewer-sessions.js';
import { renderSections } from '../../../build/config-reference.mjs';
import { choicesOf, metaOf, unitOf } from '../../../renderer/src/pages/settings-fields.js';
import { ALL_FIELDS } from '../../../renderer/src/pages/settings-values.js';

const CONFIG_DIR = fileURLToPath(new URL('../../../shared/config/', import.meta.url));
/** Sections that are a top-level key of the file (the others sit in lists: nodes[], routes[].auth, ...). */
const TOP_SECTIONS = REFERENCE_SECTIONS.filter((section) => /^[a-z]+$/.test(section.path));
const fields = REFERENCE_SECTIONS.flatMap((section) =>
  Object.entries(section.schema.shape).map(([key, field]) => ({ name: `${section.path}.${key}`, key, field, section })),
);

function errorOf(run: () => unknown): SchemaError {
  try {
    run();
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  assert.fail('expected a SchemaError');
}

describe('config metadata', () => {
  it('the reference covers every section of the file, nested lists included', () => {
    assert.deepEqual(
      REFERENCE_SECTIONS.map((s) => s.path),
      [
        'relay',
        'tls',
        'tls.certificates[]',
        'tls.acme',
        'admin',
        'flv',
        'hls',
        'health',
        'locator',
        'webhooks',
        'logs',
        'logs.access',
        'logs.sessions',
        'fleet',
        'app',
        'demo',
        'nodes[]',
        'nodes[].api',
        'routes[]',
        'routes[].auth',
        'routes[].auth.webhook',
        'routes[].auth.jwt',
        'routes[].limits',
        'routes[].static[]',
      ],
    );
    assert.deepEqual(
      TOP_SECTIONS.map((s) => s.path).sort(),
      Object.keys(config.configSchema.shape)
        .filter((k) => k !== 'nodes' && k !== 'routes')
        .sort(),
    );
  });

  it('every field has a one-line meaning, and every integer a unit', () => {
    const undocumented = fields.filter(({ field }) => !field.meta?.doc.trim()).map((f) => f.name);
    assert.deepEqual(undocumented, [], 'fields without a doc');
    const unitless = fields.filter(({ field }) => field.range && !field.meta?.unit).map((f) => f.name);
    assert.deepEqual(unitless, [], 'integer fields without a unit');
    assert.ok(fields.length > 100, `${fields.length} fields`);
  });

  it('no doc restates its default (the schema holds it, and the reference prints it)', () => {
    const restated = fields.filter(({ field }) => /\bDefault:? (\d|"|'|\[|none|true|false|unset)/.test(field.meta?.doc ?? '')).map((f) => f.name);
    assert.deepEqual(restated, []);
  });

  it("every default validates against its own field's schema", () => {
    for (const { name, field } of fields) {
      if (!field.whenMissing || (field as { isOptional?: boolean }).isOptional) continue;
      const value = field.whenMissing();
      assert.deepEqual(field.parse(value, name), value, name);
    }
  });

  it("a value outside an integer setting's range is refused, naming the field and the range", () => {
    let checked = 0;
    for (const section of TOP_SECTIONS) {
      for (const [key, field] of Object.entries(section.schema.shape) as [string, Schema<unknown>][]) {
        if (!field.range) continue;
        for (const bad of [field.range.min - 1, field.range.max + 1]) {
          const error = errorOf(() => parseConfig({ [section.path]: { [key]: bad } }));
          assert.equal(error.message, `${section.path}.${key}: expected an integer from ${field.range.min} to ${field.range.max}, got ${bad}`);
        }
        checked += 1;
      }
    }
    assert.ok(checked >= 50, `${checked} integer settings`);
  });

  it('the generated README reference has a row for every setting, with its default and unit', () => {
    const markdown = renderSections(config);
    for (const section of REFERENCE_SECTIONS) {
      const table = markdown.slice(markdown.indexOf(`#### \`${section.path}\``)).split('\n\n#### ')[0];
      for (const row of referenceRows(section)) assert.match(table, new RegExp(`^\\| \`${row.key}\` \\|`, 'm'), `${section.path}.${row.key}`);
    }
    assert.match(markdown, /^\| `connectTimeoutMs` \| `30000` ms \| Time allowed to open the TCP connection to a node\. \|$/m);
    assert.match(markdown, /^\| `gopCacheMaxBytes` \| `8388608` bytes \(8 MiB\) \| /m);
    assert.match(markdown, /^\| `token` \| optional \| /m);
    assert.match(markdown, /^\| `id` \| required \| /m);
  });

  it('the DEFAULT_* values are read from the schema, never written as a literal', () => {
    for (const file of readdirSync(CONFIG_DIR)) {
      const text = readFileSync(CONFIG_DIR + file, 'utf8');
      assert.doesNotMatch(text, /export const DEFAULT_\w+(: [^=]+)? = [\d'"[-]/, file);
    }
    assert.equal(config.DEFAULT_CONNECT_TIMEOUT_MS, config.relaySettingsSchema.shape.connectTimeoutMs.whenMissing?.());
    assert.deepEqual(config.DEFAULT_HLS_CARRY_PARAMS, config.hlsSettingsSchema.shape.carryParams.whenMissing?.());
  });

  it("the relay's hint and viewer-session parameters are ones the config refuses to carry", () => {
    assert.deepEqual(HLS_RESERVED_PARAMS, [HLS_HINT_PARAM, HLS_SESSION_PARAM]);
    assert.equal(
      errorOf(() => parseConfig({ hls: { carryParams: ['sign', HLS_HINT_PARAM] } })).message,
      `hls.carryParams[1]: "${HLS_HINT_PARAM}" is reserved by the relay and LL-HLS`,
    );
  });

  it("the Settings page reads each field's meaning, unit and choices from the schema", () => {
    for (const field of ALL_FIELDS) assert.ok(metaOf(field)?.doc, `${field.section}.${field.key} has a doc`);
    for (const field of ALL_FIELDS.filter((f) => f.type === 'choice')) assert.ok(choicesOf(field).length >= 2, `${field.section}.${field.key} has choices`);
    assert.deepEqual(choicesOf(ALL_FIELDS.find((f) => f.key === 'proxyEngine')!), ['native', 'http-proxy-3']);
    assert.equal(unitOf(ALL_FIELDS.find((f) => f.key === 'connectTimeoutMs')!), 'ms');
    assert.equal(unitOf(ALL_FIELDS.find((f) => f.key === 'playlistCachePercent')!), '%');
    assert.equal(unitOf(ALL_FIELDS.find((f) => f.key === 'carryParams')!), 'comma-separated');
  });
});
