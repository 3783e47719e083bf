// Static checks of the Grafana dashboards and Prometheus rules: every target goes to a data source variable of its
// type and is checked in that type's language (PromQL against the metrics contract, TraceQL against the spans
// stunnerd sends), they use only variables they define, and cover what an operator of the gateway looks at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { CONTRACT_SERIES, SCRAPE_SERIES } from './support/metric-contract.ts';
import { seriesNamesIn } from './support/promql-names.ts';
import { loadDashboards, panelsOf, parseLabelValues, queriesOf, targetsOf, variablesOf } from './support/dashboards.ts';
import type { Dashboard, DashboardTarget } from './support/dashboards.ts';
import { checkTraceQL } from './support/traceql-check.ts';
import { SPAN_NAMES } from './support/trace-contract.ts';
import { ALLOCATION_SPAN, SPAN_NAMES as TRACER_SPAN_NAMES } from '../../src/telemetry/turn-tracer.ts';

const RULES_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'rules');
const GRAFANA_BUILTINS = new Set(['__rate_interval', '__interval', '__range', '__interval_ms', '__range_s']);
/** Panel types that hold no queries. */
const QUERYLESS_PANELS = new Set(['row', 'text']);
/** How a target of each data source type is checked; a type missing here fails the test rather than going unchecked. */
const TARGET_CHECKS: Record<string, (t: DashboardTarget) => string[]> = {
  prometheus: ({ target: t }) => {
    if (!t.expr?.trim()) return ['no PromQL in expr'];
    return seriesNamesIn(t.expr).filter((n) => !CONTRACT_SERIES.has(n)).map((n) => `"${n}" is not in the metrics contract`);
  },
  tempo: ({ target: t }) => [
    ...(t.queryType === 'traceql' ? [] : [`queryType ${t.queryType}: expected traceql`]),
    ...(['traces', 'spans'].includes(t.tableType ?? '') ? [] : [`tableType ${t.tableType}: expected traces or spans`]),
    ...(Number.isInteger(t.limit) && t.limit! > 0 ? [] : ['limit: a positive number of traces']),
    ...(t.exemplar === undefined ? [] : ['exemplar is a Prometheus option']),
    ...checkTraceQL(t.query ?? ''),
  ],
};

/** The `${name}` a data source uid refers to, if it is a variable. */
function variableIn(uid: string | undefined): string | undefined {
  return /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(uid ?? '')?.[1];
}

function datasourceVariables(d: Dashboard): Map<string, string> {
  return new Map(variablesOf(d).filter((v) => v.type === 'datasource').map((v) => [v.name, v.query]));
}

test('the PromQL name scanner finds misspelt series and ignores functions, labels and keywords', () => {
  assert.deepEqual(seriesNamesIn('sum by (name, direction) (rate(stunner_listener_packets_totl{name=~"$listener"}[5m]))'),
    ['stunner_listener_packets_totl']);
  assert.deepEqual(seriesNamesIn('a / on (job) group_left () b or vector(0) > bool 1'), ['a', 'b']);
  assert.deepEqual(seriesNamesIn('histogram_quantile(0.9, sum by (le) (rate(x_bucket{le="+Inf", code!~"200|401"}[$__rate_interval])))'),
    ['x_bucket']);
});

const dashboards = loadDashboards();

test('the TraceQL checker finds misspelt spans, attributes and keywords, and a query not on stunnerd\'s spans', () => {
  assert.deepEqual(checkTraceQL('{resource.service.name="stunner" && name="turn.allocation" && duration > 5m} | select(span.turn.listener)'), []);
  assert.deepEqual(checkTraceQL('{resource.service.name="stunner" && kind=server && span.turn.response.code >= 400}'), []);
  assert.deepEqual(checkTraceQL('{resource.service.name="stunner" && name=~"turn\\.(Allocate|Refresh)"}'), []);
  const cases: [string, RegExp][] = [
    ['{resource.service.name="stunner" && name="turn.alocation"}', /no stunnerd span is named so/],
    ['{resource.service.name="stunner" && name=~"turn\\.Alloc"}', /no stunnerd span is named so/],
    ['{resource.service.name="stunner" && span.turn.listner="a"}', /span.turn.listner: not an attribute/],
    ['{resource.service.name="stunner" && .turn.listener="a"}', /name the attribute's scope/],
    ['{resource.service.name="stunner" && nmae="turn.allocation"}', /"nmae" is not a TraceQL/],
    ['{resource.service.name="stunner" && kind=sever}', /kind = sever: expected one of/],
    ['{resource.service.name="stunner" && status=error', /unbalanced brackets/],
    ['{name="turn.allocation"}', /selects resource.service.name = "stunner"/],
    ['resource.service.name="stunner"', /starts with a spanset selector/],
  ];
  for (const [query, problem] of cases) {
    assert.ok(checkTraceQL(query).some((p) => problem.test(p)), `${query}: ${checkTraceQL(query).join('; ')}`);
  }
});

test('the span names the dashboards may query are the ones the tracer makes', () => {
  assert.deepEqual([...SPAN_NAMES].sort(), [...Object.values(TRACER_SPAN_NAMES), ALLOCATION_SPAN].sort());
});

test('there is at least one dashboard and every one has a uid, a title and unique panel ids', () => {
  assert.ok(dashboards.length > 0);
  for (const d of dashboards) {
    assert.ok(d.uid, `${d.file}: uid`);
    assert.ok(d.title, `${d.file}: title`);
    // Panels inside collapsed rows count: Grafana moves them to the top level when the row opens.
    const ids = panelsOf(d).map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${d.file}: duplicate panel ids`);
  }
});

for (const d of dashboards) {
  test(`${d.file}: every panel queries through a data source variable of its data source's type`, () => {
    const variables = datasourceVariables(d);
    assert.equal(variables.get('datasource'), 'prometheus', 'a $datasource variable of type prometheus');
    for (const p of panelsOf(d)) {
      if (QUERYLESS_PANELS.has(p.type ?? '')) {
        assert.equal(p.targets?.length ?? 0, 0, `${d.file}: ${p.type} "${p.title}" has targets`);
        continue;
      }
      const type = p.datasource?.type ?? '';
      const variable = variableIn(p.datasource?.uid);
      assert.ok(variable !== undefined && variables.get(variable) === type,
        `${d.file}: panel "${p.title}": data source ${JSON.stringify(p.datasource)} is not a variable of type ${type}`);
      assert.ok((p.targets ?? []).length > 0, `${d.file}: panel "${p.title}" has no targets`);
      for (const t of p.targets ?? []) {
        assert.deepEqual(t.datasource ?? p.datasource, p.datasource, `${d.file}: "${p.title}" ${t.refId}: another data source`);
      }
    }
  });

  test(`${d.file}: every target is valid for its data source type (PromQL on the contract, TraceQL on stunnerd's spans)`, () => {
    const targets = targetsOf(d);
    assert.ok(targets.length > 0);
    for (const t of targets) {
      const check = TARGET_CHECKS[t.datasource.type ?? ''];
      assert.ok(check, `${t.panel} (${t.refId}): no check for data source type "${t.datasource.type}"`);
      assert.deepEqual(check(t), [], `${t.panel} (${t.refId})`);
    }
    assert.ok(queriesOf(d).length > 0, 'PromQL queries');
    for (const v of variablesOf(d).filter((x) => x.type === 'query')) {
      const lv = parseLabelValues(v.query);
      assert.ok(lv, `variable ${v.name}: expected label_values(...), got ${v.query}`);
      for (const name of seriesNamesIn(lv.selector)) assert.ok(CONTRACT_SERIES.has(name), `variable ${v.name}: ${name}`);
    }
  });

  test(`${d.file}: every variable a query uses is defined`, () => {
    const defined = new Set(variablesOf(d).map((v) => v.name));
    const texts = [...targetsOf(d).flatMap((t) => [t.target.expr ?? '', t.target.query ?? '']), ...variablesOf(d).map((v) => v.query)];
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

test('the overview shows exemplars of the allocation lifetime, once per panel and only from _bucket series', () => {
  const overview = dashboards.find((d) => d.uid === 'stunner-overview')!;
  const queries = queriesOf(overview);
  const lifetime = queries.filter((q) => q.exemplar && seriesNamesIn(q.expr).includes('stunner_allocation_duration_seconds_bucket'));
  assert.equal(lifetime.length, 1, 'one target of the allocation lifetime asks for exemplars');
  const byPanel = new Map<string, number>();
  for (const q of queries.filter((x) => x.exemplar)) {
    // Exemplars sit on a histogram's _bucket series; every exemplar target of a panel draws the same ones again.
    assert.ok(seriesNamesIn(q.expr).every((n) => n.endsWith('_bucket')), `${q.panel} (${q.refId}): exemplars of ${q.expr}`);
    byPanel.set(q.panel, (byPanel.get(q.panel) ?? 0) + 1);
  }
  for (const [panel, n] of byPanel) assert.equal(n, 1, `${panel}: ${n} targets ask for the same exemplars`);
});

test('the overview ends with a collapsed Traces row: TraceQL on the $traces (Tempo) variable, allocations and errors', () => {
  const overview = dashboards.find((d) => d.uid === 'stunner-overview')!;
  assert.equal(datasourceVariables(overview).get('traces'), 'tempo');
  const rows = (overview.panels ?? []).filter((p) => p.type === 'row');
  const traces = rows.at(-1)!;
  assert.equal(traces.title, 'Traces');
  assert.equal(traces.collapsed, true, 'collapsed: its queries run only when someone opens it');
  assert.equal(overview.panels!.at(-1), traces, 'nothing after the collapsed row (a collapsed row keeps its panels inside)');
  const bottom = Math.max(...overview.panels!.filter((p) => p !== traces).map((p) => p.gridPos!.y + p.gridPos!.h));
  assert.equal(traces.gridPos!.y, bottom, 'the row sits right below the last panel');
  const inside = traces.panels ?? [];
  for (const p of inside) assert.ok(p.gridPos!.y > traces.gridPos!.y, `${p.title} below the row`);
  const queries = inside.flatMap((p) => (p.targets ?? []).map((t) => ({ ...t, datasource: t.datasource ?? p.datasource })));
  assert.ok(queries.length >= 2);
  for (const q of queries) assert.deepEqual(q.datasource, { type: 'tempo', uid: '${traces}' });
  assert.ok(queries.some((q) => /\bname="turn\.allocation"/.test(q.query ?? '')), 'the turn.allocation spans');
  assert.ok(queries.some((q) => /span\.turn\.response\.code\s*>=\s*400/.test(q.query ?? '')), 'error responses');
  const note = inside.find((p) => p.type === 'text')?.options?.content ?? '';
  assert.match(note, /jaeger/i, 'the note says what works with Jaeger');
  assert.match(note, /exemplarTraceIdDestinations/);
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
    'StunnerForbiddenPeerSpike', 'StunnerPacketDrops', 'StunnerSendCongested', 'StunnerEventLoopLagHigh', 'StunnerAllocationQuotaReached']) {
    assert.ok(alerts.has(a), a);
  }
});
