// Static checks of the Grafana dashboards and Prometheus rules: they read only series of the metrics contract,
// use only variables they define, and cover what an operator of the gateway looks at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { CONTRACT_SERIES, SCRAPE_SERIES } from './support/metric-contract.ts';
import { seriesNamesIn } from './support/promql-names.ts';
import { loadDashboards, parseLabelValues, queriesOf, variablesOf } from './support/dashboards.ts';

const RULES_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'rules');
const GRAFANA_BUILTINS = new Set(['__rate_interval', '__interval', '__range', '__interval_ms', '__range_s']);

test('the PromQL name scanner finds misspelt series and ignores functions, labels and keywords', () => {
  assert.deepEqual(seriesNamesIn('sum by (name, direction) (rate(stunner_listener_packets_totl{name=~"$listener"}[5m]))'),
    ['stunner_listener_packets_totl']);
  assert.deepEqual(seriesNamesIn('a / on (job) group_left () b or vector(0) > bool 1'), ['a', 'b']);
  assert.deepEqual(seriesNamesIn('histogram_quantile(0.9, sum by (le) (rate(x_bucket{le="+Inf", code!~"200|401"}[$__rate_interval])))'),
    ['x_bucket']);
});

const dashboards = loadDashboards();

test('there is at least one dashboard and every one has a uid, a title and unique panel ids', () => {
  assert.ok(dashboards.length > 0);
  for (const d of dashboards) {
    assert.ok(d.uid, `${d.file}: uid`);
    assert.ok(d.title, `${d.file}: title`);
    const ids = (d.panels ?? []).map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${d.file}: duplicate panel ids`);
  }
});

for (const d of dashboards) {
  test(`${d.file}: every panel queries through the $datasource variable`, () => {
    assert.ok(variablesOf(d).some((v) => v.name === 'datasource' && v.type === 'datasource'));
    for (const p of d.panels ?? []) {
      if ((p as { type?: string }).type === 'row') continue;
      assert.equal(p.datasource?.uid, '${datasource}', `${d.file}: panel "${p.title}"`);
    }
  });

  test(`${d.file}: queries read only series of the metrics contract`, () => {
    const queries = queriesOf(d);
    assert.ok(queries.length > 0);
    for (const q of queries) {
      for (const name of seriesNamesIn(q.expr)) {
        assert.ok(CONTRACT_SERIES.has(name), `${q.panel} (${q.refId}): "${name}" is not in the metrics contract`);
      }
    }
    for (const v of variablesOf(d).filter((x) => x.type === 'query')) {
      const lv = parseLabelValues(v.query);
      assert.ok(lv, `variable ${v.name}: expected label_values(...), got ${v.query}`);
      for (const name of seriesNamesIn(lv.selector)) assert.ok(CONTRACT_SERIES.has(name), `variable ${v.name}: ${name}`);
    }
  });

  test(`${d.file}: every variable a query uses is defined`, () => {
    const defined = new Set(variablesOf(d).map((v) => v.name));
    const texts = [...queriesOf(d).map((q) => q.expr), ...variablesOf(d).map((v) => v.query)];
    for (const text of texts) {
      for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        assert.ok(defined.has(m[1]) || GRAFANA_BUILTINS.has(m[1]), `$${m[1]} in ${text}`);
      }
    }
  });
}

test('the overview filters by instance, listener (label name) and cluster, and covers the gateway and its runtime', () => {
  const overview = dashboards.find((d) => d.uid === 'stunner-overview');
  assert.ok(overview, 'dashboard uid stunner-overview');
  const vars = new Map(variablesOf(overview).map((v) => [v.name, v]));
  assert.equal(parseLabelValues(vars.get('instance')?.query ?? '')?.label, 'instance');
  assert.equal(parseLabelValues(vars.get('listener')?.query ?? '')?.label, 'name');
  assert.equal(parseLabelValues(vars.get('cluster')?.query ?? '')?.label, 'cluster');
  const used = new Set(queriesOf(overview).flatMap((q) => seriesNamesIn(q.expr)));
  for (const name of ['stunner_listener_connections', 'stunner_cluster_connections', 'stunner_allocations_active',
    'stunner_listener_packets_total', 'stunner_listener_bytes_total', 'stunner_cluster_packets_total',
    'stunner_cluster_bytes_total', 'stunner_requests_total', 'stunner_dropped_packets_total',
    'stunner_allocation_duration_seconds_bucket', 'process_cpu_seconds_total', 'process_resident_memory_bytes',
    'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds_sum']) {
    assert.ok(used.has(name), `the overview shows ${name}`);
  }
  const filtersCluster = queriesOf(overview).filter((q) => q.expr.includes('stunner_cluster_'));
  for (const q of filtersCluster) assert.match(q.expr, /cluster=~"\$cluster"/, q.panel);
});

test('Prometheus rules read only contract series, scrape series and series they record', () => {
  const files = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 2);
  const rules = files.flatMap((f) =>
    (YAML.parse(readFileSync(join(RULES_DIR, f), 'utf8')) as { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] })
      .groups.flatMap((g) => g.rules.map((r) => ({ ...r, file: f }))));
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
  for (const r of rules) {
    for (const name of seriesNamesIn(r.expr)) {
      assert.ok(CONTRACT_SERIES.has(name) || SCRAPE_SERIES.has(name) || recorded.has(name),
        `${r.file} ${r.record ?? r.alert}: "${name}" is neither a contract series nor recorded here`);
    }
  }
  const alerts = new Set(rules.flatMap((r) => (r.alert ? [r.alert] : [])));
  for (const a of ['StunnerGatewayDown', 'StunnerAllocationFailureRatioHigh', 'StunnerUnauthorizedSpike',
    'StunnerForbiddenPeerSpike', 'StunnerPacketDrops', 'StunnerEventLoopLagHigh', 'StunnerAllocationQuotaReached']) {
    assert.ok(alerts.has(a), a);
  }
});
