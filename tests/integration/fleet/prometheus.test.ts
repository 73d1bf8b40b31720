/**
 * Monitoring with real tools (issue 16 point 7): Debian's prometheus scrapes three relays with
 * a config made from the shipped example (build/monitoring/prometheus.yml: its job, bearer
 * token file and relabels; only the targets, the interval and the token file's path
 * replaced), while real FLV viewers watch, a different number on each relay. Through
 * Prometheus's HTTP API: the PromQL sum of the viewer gauge equals the true total, follows it
 * when viewers leave, and every relay's series carry its `relay` label.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { waitFor } from '../../helpers/http.js';
import { freePort, missingTool } from '../../helpers/media.js';
import { readDashboard, withAllSelected } from '../../helpers/monitoring.js';
import { startRelay, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';

const EXAMPLE = fileURLToPath(new URL('../../../build/monitoring/prometheus.yml', import.meta.url));
const skip = missingTool('prometheus', 'prometheus');
if (skip) console.log(`# skipping the Prometheus suite: ${skip}`);

/** The shipped example with the test's targets, a 1 s interval and the token file's path. */
function testPrometheusConfig(example: string, targets: string[], tokenFile: string): string {
  const list = /( *)- targets:\n((?:\1 {4}- .*\n)+)/;
  const match = list.exec(example);
  assert.ok(match, 'the example lists its targets one per line under "- targets:"');
  const indent = `${match[1]}    `;
  let config = example.replace(list, `${match[1]}- targets:\n${targets.map((t) => `${indent}- ${t}\n`).join('')}`);
  config = config.replace(/(scrape_interval|evaluation_interval): \S+/g, '$1: 1s').replace(/scrape_timeout: \S+/g, 'scrape_timeout: 1s');
  assert.match(config, /credentials_file: \S+/, 'the example reads the admin token from a file');
  return config.replace(/credentials_file: \S+/, `credentials_file: ${tokenFile}`);
}

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

describe('Prometheus scrapes three relays with the shipped config', { skip }, () => {
  const origin = new LiveFlvOrigin({ fps: 25, gopFrames: 25 });
  const relays: StartedRelay[] = [];
  const viewers: FlvTestViewer[][] = [];
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';
  let dir = '';

  async function query(expr: string): Promise<PromVector[]> {
    const answer = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await answer.json()) as { status: string; error?: string; data: { result: PromVector[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error ?? ''}`);
    return body.data.result;
  }

  before(async () => {
    origin.streams.add('/live/cam2.flv');
    const url = await origin.start();
    const config = (relayId: string) => ({
      fleet: { relayId },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    // Two with a fleet.relayId, one without (its label is then host-port).
    relays.push(...(await Promise.all([startRelay(config('relay-a')), startRelay(config('relay-b')), startRelay(config(''))])));
    // Different viewer counts per relay: 3, 4 + 2 on two streams, 1.
    const plan: string[][] = [['cam1', 'cam1', 'cam1'], ['cam1', 'cam1', 'cam1', 'cam1', 'cam2', 'cam2'], ['cam2']];
    for (const [i, streams] of plan.entries()) {
      viewers.push(await Promise.all(streams.map((name) => new FlvTestViewer(`${relays[i].relayUrl}/live/${name}.flv`, false).open())));
    }
    await waitFor(() => viewers.flat().every((v) => v.firstKeyframeAt > 0), 10_000, 'every viewer to play');

    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-prometheus-'));
    const tokenFile = path.join(dir, 'admin-token');
    await fs.writeFile(tokenFile, TEST_TOKEN, { mode: 0o600 });
    const configFile = path.join(dir, 'prometheus.yml');
    const targets = relays.map((r) => new URL(r.adminUrl).host);
    await fs.writeFile(configFile, testPrometheusConfig(await fs.readFile(EXAMPLE, 'utf8'), targets, tokenFile));
    if (!missingTool('promtool', 'prometheus')) {
      const check = spawnSync('promtool', ['check', 'config', configFile], { encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`);
    }
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.setEncoding('utf8').on('data', (text: string) => (promLog = (promLog + text).slice(-4000)));
    await waitFor(
      async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.status === 200 || prometheus!.exitCode !== null,
      20_000,
      'prometheus to be ready',
    );
    assert.equal(prometheus.exitCode, null, `prometheus exited: ${promLog}`);
  });

  after(async () => {
    viewers.flat().forEach((v) => v.close());
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all(relays.map((r) => r.stop()));
    await origin.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('scrapes every relay through the example job, with the admin token from the file', async () => {
    const targets = await waitFor(
      async () => {
        const answer = (await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: { health: string; labels: Record<string, string>; lastError: string }[] };
        };
        const active = answer.data.activeTargets;
        return active.length === 3 && active.every((t) => t.health === 'up') ? active : undefined;
      },
      15_000,
      `three healthy targets (${promLog})`,
    );
    for (const target of targets) {
      assert.equal(target.labels.job, 'relaydeck');
      assert.equal(target.labels.fleet, 'live', 'the example static labels are kept');
    }
  });

  it('the PromQL sum of viewers over the relays equals the true total, per relay by its `relay` label', async () => {
    const truth = relays.map((relay) => relay.engine);
    const expected = new Map(relays.map((relay, i) => [relay.engine.relayId, viewers[i].length]));
    assert.deepEqual([...expected.keys()].slice(0, 2), ['relay-a', 'relay-b']);
    assert.match(truth[2].relayId, /-\d+$/, 'alone without fleet.relayId: host-port');
    const total = viewers.flat().length;
    assert.equal(total, 10);
    const apiTotal = (await Promise.all(relays.map((r) => r.api.call('GET', '/api/streams')))).flatMap((a) => a.body).reduce((n, s) => n + s.viewers, 0);
    assert.equal(apiTotal, total, 'the relays themselves count every viewer');

    await waitFor(async () => Number((await query('sum(relaydeck_flv_viewers)'))[0]?.value[1]) === total, 15_000, 'Prometheus to see every viewer');
    const byRelay = await query('sum by (relay) (relaydeck_flv_viewers{job="relaydeck"})');
    assert.deepEqual(new Map(byRelay.map((r) => [r.metric.relay, Number(r.value[1])])), expected);

    // Every relay's series carry its own relay label (and only one relay per scrape target).
    const labels = await query('count by (relay, instance) (relaydeck_relay_info)');
    assert.deepEqual(new Map(labels.map((r) => [r.metric.instance, r.metric.relay])), new Map(relays.map((r) => [new URL(r.adminUrl).host, r.engine.relayId])));
    const unlabelled = await query('count({job="relaydeck", relay="", __name__=~"relaydeck_.*"})');
    assert.equal(unlabelled.length, 0, 'no relaydeck series without a relay label');

    // Viewers leave relay B: the sum follows.
    viewers[1].splice(0, 4).forEach((v) => v.close());
    await waitFor(async () => Number((await query('sum(relaydeck_flv_viewers)'))[0]?.value[1]) === total - 4, 15_000, 'the sum to drop by 4');
    const after = await query('sum by (relay) (relaydeck_flv_viewers)');
    assert.equal(Number(after.find((r) => r.metric.relay === 'relay-b')?.value[1]), 2);
  });

  it("every PromQL of the shipped Grafana dashboard runs on Prometheus, and its viewer total is the relays' total", async () => {
    const total = viewers.flat().length;
    for (const panel of readDashboard().panels) {
      for (const target of panel.targets) await query(withAllSelected(target.expr)); // status "success", or the query names the panel
    }
    const viewersPanel = readDashboard().panels.find((p) => p.title === 'Viewers');
    assert.ok(viewersPanel);
    const [sample] = await query(withAllSelected(viewersPanel.targets[0].expr));
    assert.equal(Number(sample.value[1]), total);
    const [up] = await query(withAllSelected(readDashboard().panels.find((p) => p.title === 'Relays up')!.targets[0].expr));
    assert.equal(Number(up.value[1]), 3);
  });
});
