/**
 * The headless command as a user runs it: `relaydeck serve` prints the real addresses,
 * creates a per-user config on first run, refuses a bad config file without touching it,
 * and on SIGTERM ends streams cleanly and exits 0; `serve --help` and `sign --help` print
 * their usage; `sign` without --config uses the default file and names it when missing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestOrigin, streamingHandler } from '../../helpers/origin.js';
import { request, waitFor } from '../../helpers/http.js';
import { parseConfig } from '../../../shared/config.js';

const BIN = fileURLToPath(new URL('../../../electron/bin/relaydeck.mjs', import.meta.url));

function runServe(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCommand(['serve', ...args], env);
}

function runCommand(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const addresses = async () => {
    await waitFor(() => /admin listening on/.test(stdout) || child.exitCode !== null, 15000, 'listening lines');
    const relay = /relay listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    const admin = /admin listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    return { relay: relay!, admin: admin! };
  };
  return { child, exited, addresses, output: () => ({ stdout, stderr }) };
}

describe('relaydeck serve', () => {
  const origin = new TestOrigin();
  let dir: string;
  before(async () => {
    await origin.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-cli-'));
  });
  after(() => origin.stop());

  it('prints the real ports, serves, and stops cleanly on SIGTERM with streams ended', async () => {
    origin.handler = streamingHandler(Buffer.alloc(500, 1), 20);
    const configPath = path.join(dir, 'serve.json');
    await fs.writeFile(
      configPath,
      JSON.stringify({
        relay: { port: 0 },
        admin: { port: 0 },
        nodes: [{ id: 'a', url: `http://127.0.0.1:${origin.port}` }],
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', fanout: false }],
      }),
    );
    const run = runServe(['--config', configPath]);
    const { relay, admin } = await run.addresses();
    assert.match(relay, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.match(admin, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const saved = JSON.parse(await fs.readFile(configPath, 'utf8'));
    assert.ok(saved.admin.token.length >= 16, 'a token was generated and saved');
    assert.equal((await fs.stat(configPath)).mode & 0o777, 0o600);

    let complete: boolean | undefined;
    let viewerError: Error | undefined;
    let streaming = false;
    const streamDone = new Promise<void>((resolve) => {
      const req = http.get(`${relay}/live/cam1.flv`, { agent: false }, (res) => {
        res.once('data', () => (streaming = true));
        res.resume();
        res.on('error', () => {});
        res.on('close', () => {
          complete = res.complete;
          resolve();
        });
      });
      req.on('error', (error) => {
        viewerError = error;
        resolve();
      });
    });
    const state = () =>
      `viewer error: ${viewerError?.message}; relaydeck exit code ${run.child.exitCode}, signal ${run.child.signalCode}; stderr:\n${run.output().stderr}`;
    // The viewer has stream bytes (the origin's other connections may be health checks).
    await waitFor(() => streaming || viewerError !== undefined, 5000, 'the stream to reach the viewer');
    assert.equal(viewerError, undefined, state());
    assert.ok(
      origin.requests.some((r) => r.url === '/live/cam1.flv'),
      'pulled from the origin',
    );
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output().stderr);
    await streamDone;
    assert.equal(complete, true, 'the chunked stream was ended cleanly, not cut');
    await origin.waitAllClosed(1000);
  });

  it('creates a per-user config with defaults when --config is not given', async () => {
    const home = path.join(dir, 'home');
    // Port 0 cannot be asked for without a config, so pre-seed nothing and accept the default ports if free.
    const run = runServe([], { RELAYDECK_HOME: home });
    const { relay } = await run.addresses().catch(() => ({ relay: undefined }));
    const file = path.join(home, 'config.json');
    const created = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.equal(created.relay, undefined, 'defaults stay implicit (sparse saving)');
    assert.equal(parseConfig(created).relay.port, 8090);
    assert.ok(created.admin.token);
    if (relay) {
      assert.equal((await request(`${relay}/nothing`)).status, 404);
      run.child.kill('SIGINT');
      assert.equal(await run.exited, 0);
    } else {
      // the default ports were taken on this machine: the failure must say so and exit 1
      assert.equal(await run.exited, 1);
      assert.match(run.output().stderr, /EADDRINUSE/);
    }
  });

  it('exits 2 with the field path on a bad config file, leaving the file untouched', async () => {
    const configPath = path.join(dir, 'bad.json');
    const text = '{"relay":{"port":0},"routes":[{"id":"r","path":"/r/","kind":"flv","mode":"sideways"}]}';
    await fs.writeFile(configPath, text);
    const run = runServe(['--config', configPath]);
    assert.equal(await run.exited, 2);
    assert.match(run.output().stderr, /routes\[0\]\.mode: expected "redirect" or "proxy", got "sideways"/);
    assert.equal(await fs.readFile(configPath, 'utf8'), text);
    assert.equal(run.output().stdout, '');
  });

  it('runs as `npx relaydeck` from the project, as the README says', async () => {
    const { execFile } = await import('node:child_process');
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const out = await new Promise<string>((resolve, reject) =>
      execFile('npx', ['--no-install', 'relaydeck', '--version'], { cwd: root, timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(stderr || error.message)) : resolve(stdout),
      ),
    );
    assert.match(out.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('`serve --help` and `sign --help` print their usage and exit 0', async () => {
    for (const [command, usage] of [
      ['serve', /^Usage: relaydeck serve \[--config FILE\]/],
      ['sign', /^Usage: relaydeck sign --route ID --path PATH --ttl DURATION/],
    ] as const) {
      const run = runCommand([command, '--help']);
      assert.equal(await run.exited, 0, run.output().stderr);
      assert.match(run.output().stdout, usage);
      assert.match(run.output().stdout, /--config FILE/);
    }
  });

  it('`sign` without --config reads the default file, and names it when it is missing (no raw ENOENT)', async () => {
    const home = path.join(dir, 'sign-home');
    const missing = runCommand(['sign', '--route', 'live', '--path', '/live/a.flv', '--ttl', '1h'], { RELAYDECK_HOME: home });
    assert.equal(await missing.exited, 2);
    const file = path.join(home, 'config.json');
    assert.ok(missing.output().stderr.includes(`no config file at ${file} (the default; give --config FILE)`), missing.output().stderr);
    assert.doesNotMatch(missing.output().stderr, /ENOENT/);

    await fs.mkdir(home, { recursive: true });
    await fs.writeFile(
      file,
      JSON.stringify({
        relay: { port: 8090 },
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', auth: { keys: [{ id: 'k1', secret: 'sign-default-secret-0001' }] } }],
      }),
    );
    const signed = runCommand(['sign', '--route', 'live', '--path', '/live/a.flv', '--ttl', '1h'], { RELAYDECK_HOME: home });
    assert.equal(await signed.exited, 0, signed.output().stderr);
    assert.match(signed.output().stdout, /^http:\/\/127\.0\.0\.1:8090\/live\/a\.flv\?sign=\d+-/);
  });

  it('exits 2 on unknown arguments with the usage', async () => {
    const run = runServe(['--bogus']);
    assert.equal(await run.exited, 2);
    assert.match(run.output().stderr, /unknown argument "--bogus"/);
  });
});
