/**
 * The shipped Grafana dashboard (build/monitoring/grafana-dashboard.json) is a valid Grafana
 * JSON model: it parses, picks its Prometheus data source through a variable, every panel has
 * a unique id, a place on the grid and PromQL targets on that data source, and it covers what
 * issue 16 point 7 lists. That the metrics it names are the relay's own is checked against a
 * running relay (tests/integration/fleet/grafana-dashboard.test.ts), and that its PromQL runs
 * on a real Prometheus in tests/integration/fleet/prometheus.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricNamesOf, readDashboard } from '../../helpers/monitoring.js';

const dashboard = readDashboard();

test('the dashboard is a Grafana JSON model with a Prometheus data source variable', () => {
  assert.equal(typeof dashboard.title, 'string');
  assert.match(String(dashboard.uid), /^[A-Za-z0-9_-]{1,40}$/, 'a uid Grafana accepts (at most 40 characters)');
  assert.equal(typeof dashboard.schemaVersion, 'number');
  assert.equal(dashboard.id, null, 'no instance id: importable anywhere');
  const variables = dashboard.templating.list;
  const datasource = variables.find((v) => v.type === 'datasource');
  assert.ok(datasource, 'a data source variable');
  assert.equal(datasource.query, 'prometheus');
  for (const variable of variables.filter((v) => v.type === 'query')) {
    assert.deepEqual(variable.datasource, { type: 'prometheus', uid: `\${${String(datasource.name)}}` }, `variable ${String(variable.name)}`);
  }
});

test('every panel has a unique id, a grid place and PromQL targets on the data source variable', () => {
  const ids = new Set<number>();
  assert.ok(dashboard.panels.length >= 10);
  for (const panel of dashboard.panels) {
    assert.ok(Number.isInteger(panel.id) && !ids.has(panel.id), `panel "${panel.title}": a unique id`);
    ids.add(panel.id);
    assert.ok(['stat', 'timeseries'].includes(panel.type), `panel "${panel.title}": type ${panel.type}`);
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `panel "${panel.title}": inside the 24-column grid`);
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel "${panel.title}"`);
    assert.ok(panel.targets.length > 0, `panel "${panel.title}": has targets`);
    assert.equal(new Set(panel.targets.map((t) => t.refId)).size, panel.targets.length, `panel "${panel.title}": unique refIds`);
    for (const target of panel.targets) {
      assert.deepEqual(target.datasource, panel.datasource, `panel "${panel.title}" ${target.refId}`);
      assert.ok(metricNamesOf(target.expr).length > 0, `panel "${panel.title}" ${target.refId} reads a metric: ${target.expr}`);
      let depth = 0;
      for (const c of target.expr) {
        depth += c === '(' ? 1 : c === ')' ? -1 : 0;
        assert.ok(depth >= 0, `balanced parentheses: ${target.expr}`);
      }
      assert.equal(depth, 0, `balanced parentheses: ${target.expr}`);
    }
  }
});

test('it shows what issue 16 asks: viewers per relay and in all, streams, Mbit/s in and out, refusals, node health, webhook and JWT counters', () => {
  const names = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNamesOf(t.expr))));
  for (const metric of [
    'relaydeck_flv_viewers',
    'relaydeck_hls_viewers',
    'relaydeck_node_mbps_in',
    'relaydeck_node_mbps_out',
    'relaydeck_limit_refusals_total',
    'relaydeck_node_up',
    'relaydeck_webhook_questions_total',
    'relaydeck_jwt_checks_total',
  ]) {
    assert.ok(names.has(metric), metric);
  }
  const byRelay = dashboard.panels.flatMap((p) => p.targets).filter((t) => /by \(relay\b/.test(t.expr));
  assert.ok(
    byRelay.some((t) => t.expr.includes('relaydeck_flv_viewers')),
    'viewers split by relay',
  );
  assert.ok(
    dashboard.panels.some((p) => p.type === 'stat' && p.targets.some((t) => /^\(sum\(relaydeck_flv_viewers/.test(t.expr))),
    'a total of viewers',
  );
});

test('metricNamesOf reads metric names, not functions, labels or ranges', () => {
  assert.deepEqual(metricNamesOf('sum by (relay, code) (rate(relaydeck_errors_total{relay=~"$relay",code!="X"}[$__rate_interval]))'), [
    'relaydeck_errors_total',
  ]);
  assert.deepEqual(metricNamesOf('(sum(a_b{x="y"}) or vector(0)) + count(up)'), ['a_b', 'up']);
});
