/**
 * Issue 11, point 2: the relay's own EMFILE never takes a node down. The relay runs as a
 * child process (`electron/engine/cli.ts serve`) under an open-files limit of 1024; 5000 idle
 * loopback connections use up its descriptors, and proxied requests meanwhile (over
 * connections opened before) find it cannot dial: 503 RELAY_RESOURCES, not counted against
 * the node, and active health checks it cannot make are not counted either. Afterwards all
 * three nodes are still up and, the flood gone, every route is served.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { portOf, request, sleep, waitFor } from '../../helpers/http.js';
import { TestOrigin } from '../../helpers/origin.js';
import { missingTool } from '../../helpers/media.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TOKEN = 'test-token-0123456789abcdef';
const FD_LIMIT = 1024;
const FLOOD_CONNECTIONS = 5000;
/** Connections opened before the flood, reused for the requests made during it. */
const KEPT_CONNECTIONS = 3;
const NODE_IDS = ['a', 'b', 'c'];

interface Answer {
  status: number;
  code?: string;
}

/** One GET over `agent` (a kept-alive connection): status and error code. */
function get(url: string, agent: http.Agent, headers: http.OutgoingHttpHeaders = {}): Promise<Answer & { body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = JSON.parse(body).error?.code;
        } catch {
          /* the node's own answer */
        }
        resolve({ status: res.statusCode ?? 0, code, body });
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on('error', reject);
  });
}

describe('the relay out of file descriptors (EMFILE)', { skip: missingTool('prlimit', 'util-linux') }, () => {
  const origins = NODE_IDS.map(() => new TestOrigin());
  let dir: string;
  let child: ChildProcess;
  let stderr = '';
  let relayUrl = '';
  let adminUrl = '';
  before(async () => {
    // Each answer closes its connection, so every proxied request has to dial the node afresh.
    for (const origin of origins) origin.handler = (_req, res) => res.writeHead(200, { connection: 'close' }).end('ok');
    const urls = await Promise.all(origins.map((o) => o.start()));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-emfile-'));
    const configPath = path.join(dir, 'relay.json');
    await fs.writeFile(
      configPath,
      JSON.stringify({
        // Flood connections send nothing: the relay keeps them (and their descriptors) for the head deadline.
        relay: { port: 0, headerReadTimeoutMs: 60_000 },
        admin: { port: 0, token: TOKEN },
        health: { intervalMs: 200, timeoutMs: 3_000, fails: 2, passes: 1, passiveMaxFails: 3, passiveWindowMs: 60_000 },
        nodes: NODE_IDS.map((id, i) => ({ id, url: urls[i] })),
        routes: NODE_IDS.map((id) => ({ id, path: `/${id}/`, kind: 'file', mode: 'proxy', nodes: [id] })),
      }),
    );
    child = spawn(
      'prlimit',
      [`--nofile=${FD_LIMIT}:${FD_LIMIT}`, process.execPath, '--import', 'tsx', 'electron/engine/cli.ts', 'serve', '--config', configPath],
      {
        cwd: ROOT,
        env: { ...process.env, RELAYDECK_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    await waitFor(() => /admin listening on/.test(stdout) || child.exitCode !== null, 20_000, 'the relay to listen');
    relayUrl = /relay listening on (http:\/\/\S+)/.exec(stdout)?.[1] ?? '';
    adminUrl = /admin listening on (http:\/\/\S+)/.exec(stdout)?.[1] ?? '';
    assert.ok(relayUrl && adminUrl, `the relay started: ${stdout}${stderr}`);
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await Promise.all(origins.map((o) => o.stop()));
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('5000 connections at an fd limit of 1024: proxied requests get 503 RELAY_RESOURCES, no node goes down, all serve afterwards', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: KEPT_CONNECTIONS });
    const flood: net.Socket[] = [];
    const answers: Answer[] = [];
    try {
      // Open the kept connections now: during the flood the relay can accept no new one.
      await Promise.all(Array.from({ length: KEPT_CONNECTIONS }, () => get(`${relayUrl}/healthz`, agent)));
      const connect = () => {
        const socket = net.connect(portOf(relayUrl), '127.0.0.1');
        socket.on('error', () => {});
        flood.push(socket);
      };
      // Most of the flood at once, the rest trickled in so that a descriptor the relay frees is taken again.
      for (let i = 0; i < FLOOD_CONNECTIONS / 2; i += 1) connect();
      const trickle = setInterval(() => {
        for (let i = 0; i < 10 && flood.length < FLOOD_CONNECTIONS; i += 1) connect();
      }, 20);
      try {
        // Proxied requests to every node while the relay is out of descriptors (bounded: 10 s).
        const deadline = Date.now() + 10_000;
        while (flood.length < FLOOD_CONNECTIONS && Date.now() < deadline) {
          const round = await Promise.all(NODE_IDS.map((id) => get(`${relayUrl}/${id}/file`, agent)));
          answers.push(...round);
          await sleep(50); // let the active checks run under the flood too
        }
      } finally {
        clearInterval(trickle);
      }
    } finally {
      flood.forEach((s) => s.destroy());
    }
    const refused = answers.filter((a) => a.status !== 200);
    assert.ok(refused.length >= 5 * NODE_IDS.length, `the relay ran out of descriptors (${refused.length} of ${answers.length} requests refused)`);
    const downLines = stderr.split('\n').filter((line) => /node \w+: up → down/.test(line));
    assert.deepEqual(downLines, [], 'no node went down');
    assert.deepEqual([...new Set(refused.map((a) => `${a.status} ${a.code}`))], ['503 RELAY_RESOURCES']);

    // The flood gone, the relay accepts again: every node up, no failure counted, every route served.
    await waitFor(
      () =>
        request(`${relayUrl}/healthz`).then(
          (a) => a.status === 200,
          () => false,
        ),
      15_000,
      'the relay to accept again',
    );
    agent.destroy();
    const nodes = JSON.parse((await request(`${adminUrl}/api/nodes`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.toString());
    assert.deepEqual(
      nodes.map((n: any) => [n.id, n.status, n.passiveFailures]),
      NODE_IDS.map((id) => [id, 'up', 0]),
    );
    for (const id of NODE_IDS) assert.equal((await request(`${relayUrl}/${id}/file`)).status, 200, `route ${id}`);
  });
});
