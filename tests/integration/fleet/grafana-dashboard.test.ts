/**
 * The shipped Grafana dashboard names only metrics a relay exports: every metric in every
 * panel's PromQL is read from a running relay's /metrics (its "# TYPE" lines), or is one of
 * the series Prometheus makes itself per target (`up`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exportedMetricNames, metricNamesOf, PROMETHEUS_OWN_SERIES, readDashboard } from '../../helpers/monitoring.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

let relay: StartedRelay;
before(async () => {
  relay = await startRelay({
    nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }],
    routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
  });
});
after(() => relay?.stop());

test("every panel's PromQL names metrics the relay exports", async () => {
  const answer = await relay.api.call<string>('GET', '/metrics');
  assert.equal(answer.status, 200);
  const exported = exportedMetricNames(answer.body);
  assert.ok(exported.size > 40, `the relay exports its metrics (${exported.size})`);
  const missing: string[] = [];
  for (const panel of readDashboard().panels) {
    for (const target of panel.targets) {
      for (const name of metricNamesOf(target.expr)) if (!exported.has(name) && !PROMETHEUS_OWN_SERIES.has(name)) missing.push(`${panel.title}: ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('/metrics needs the admin token, and its series carry the relay label (host-port when alone)', async () => {
  assert.equal((await relay.api.call('GET', '/metrics', undefined, null)).status, 401);
  const text = (await relay.api.call<string>('GET', '/metrics')).body;
  const relayId = relay.engine.relayId;
  assert.match(relayId, new RegExp(`-${new URL(relay.relayUrl).port}$`));
  const samples = text.split('\n').filter((line) => line.startsWith('relaydeck_'));
  assert.ok(samples.length > 20);
  for (const line of samples) assert.ok(line.includes(`relay="${relayId}"`), line);
});
