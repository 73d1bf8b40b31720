/**
 * Sparse config saving (issue 12 point 8): a change from the API patches the hand-written file
 * instead of rewriting it with every default. A route mode switch changes one line's value,
 * an added node appends only its given fields, a setting set back to its default stays
 * explicit, a removed route is removed, and a SIGHUP-style reload of the file as it is on disk
 * does not rewrite it.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readConfigFile } from '../../../electron/engine/config/store.js';
import { Engine } from '../../../electron/engine/engine.js';
import { HttpApiClient } from '../../helpers/api-client.js';

const TOKEN = 'sparse-token-0123456789abcdef';

/** A hand-written config: 38 lines, in the operator's own key order, few defaults spelled out. */
const HAND_WRITTEN = `{
  "admin": {
    "token": "${TOKEN}",
    "port": 0
  },
  "relay": {
    "port": 0,
    "shutdownGraceMs": 0
  },
  "health": {
    "intervalMs": 0
  },
  "nodes": [
    {
      "id": "edge-a",
      "url": "http://127.0.0.1:9"
    },
    {
      "url": "http://127.0.0.1:10",
      "id": "edge-b",
      "weight": 3
    }
  ],
  "routes": [
    {
      "id": "live",
      "path": "/live/",
      "kind": "flv",
      "mode": "redirect"
    },
    {
      "id": "vod",
      "path": "/vod/",
      "kind": "file",
      "mode": "proxy"
    }
  ]
}
`;

/** Lines of `after` that differ from `before` at the same index, as [index, before, after]. */
function changedLines(before: string, after: string): [number, string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  const out: [number, string, string][] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) if (a[i] !== b[i]) out.push([i, a[i], b[i]]);
  return out;
}

describe('sparse config saving', () => {
  let dir: string;
  let file: string;
  let engine: Engine;
  let api: HttpApiClient;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-sparse-'));
    file = path.join(dir, 'config.json');
    await fs.writeFile(file, HAND_WRITTEN, { mode: 0o600 });
    assert.equal(HAND_WRITTEN.trimEnd().split('\n').length, 38);
    engine = await Engine.start({ config: await readConfigFile(file), configPath: file });
    api = new HttpApiClient(engine.adminUrl, TOKEN);
  });
  after(async () => {
    await engine.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a route mode switch through the API changes exactly one line, its value', async () => {
    const answer = await api.call('PATCH', '/api/routes/live', { mode: 'proxy' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const saved = await fs.readFile(file, 'utf8');
    assert.deepEqual(changedLines(HAND_WRITTEN, saved), [[28, '      "mode": "redirect"', '      "mode": "proxy"']]);
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  });

  it('an added node appends only its given fields; nothing else moves', async () => {
    const before = await fs.readFile(file, 'utf8');
    const answer = await api.call('POST', '/api/nodes', { id: 'edge-c', url: 'http://127.0.0.1:11', draining: true });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const saved = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(saved.nodes[2], { id: 'edge-c', url: 'http://127.0.0.1:11', draining: true });
    assert.deepEqual(Object.keys(saved), ['admin', 'relay', 'health', 'nodes', 'routes'], 'no default section was added');
    assert.deepEqual(saved.nodes.slice(0, 2), JSON.parse(before).nodes, 'the hand-written nodes keep their fields and key order');
    assert.deepEqual(Object.keys(saved.nodes[1]), ['url', 'id', 'weight']);
  });

  it('a setting changed, then set back to its default, stays explicit (the operator chose it)', async () => {
    assert.equal((await api.call('PATCH', '/api/settings', { relay: { maxSessions: 50 } })).status, 200);
    let saved = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(saved.relay, { port: 0, shutdownGraceMs: 0, maxSessions: 50 });
    assert.equal((await api.call('PATCH', '/api/settings', { relay: { maxSessions: 10_000 } })).status, 200);
    saved = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(saved.relay, { port: 0, shutdownGraceMs: 0, maxSessions: 10_000 });
    assert.equal(saved.flv, undefined, 'untouched sections stay implicit');
  });

  it('a removed route is removed; the file still means the running config', async () => {
    assert.equal((await api.call('DELETE', '/api/routes/vod')).status, 200);
    const saved = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual(saved.routes, [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }]);
    assert.deepEqual(await readConfigFile(file), engine.config);
  });

  it('a reload of the file as it is on disk (SIGHUP) does not rewrite it', async () => {
    const hand = (await fs.readFile(file, 'utf8')).replace('"port": 0,\n    "shutdownGraceMs": 0', '"port": 0, "shutdownGraceMs": 0');
    await fs.writeFile(file, hand);
    await engine.replaceConfig(await readConfigFile(file));
    assert.equal(await fs.readFile(file, 'utf8'), hand, 'byte for byte');
  });
});
