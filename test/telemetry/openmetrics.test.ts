// OpenMetrics 1.0 text with exemplars: the writer's exact lines, canonical `le` values, the content negotiation
// (Accept header and q-values), and the endpoint over real HTTP. That a real parser reads it all: a real Prometheus
// scraping it with exemplar storage (prometheus-exemplars.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ValueType } from '@opentelemetry/api';
import { StatsRegistry } from '../../src/stats/registry.ts';
import { DROP } from '../../src/stats/listener-stats.ts';
import { ExpositionWriter, PROMETHEUS_TEXT } from '../../src/telemetry/exposition-writer.ts';
import { OPENMETRICS_TEXT, canonicalNumber, openMetricsHeader } from '../../src/telemetry/openmetrics-text.ts';
import { negotiateFormat } from '../../src/telemetry/openmetrics-accept.ts';
import { writeRegistryText } from '../../src/telemetry/registry-text.ts';
import { writeMetricsText } from '../../src/telemetry/prometheus-text.ts';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
/** What Prometheus 2.53 sends by default (scrape_protocols: OpenMetrics 1.0.0, 0.0.1, text 0.0.4). */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,'
  + 'text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

const EXPECTED = `# TYPE stunner_listener_connections gauge
# HELP stunner_listener_connections Number of active downstream connections at a listener.
stunner_listener_connections{name="udp"} 1
# TYPE stunner_listener_connections_total unknown
# HELP stunner_listener_connections_total Number of downstream connections at a listener.
stunner_listener_connections_total{name="udp"} 2
# TYPE stunner_listener_packets counter
# HELP stunner_listener_packets Number of datagrams or framed messages received (rx) or sent (tx) at a listener.
stunner_listener_packets_total{direction="rx",name="udp"} 10
stunner_listener_packets_total{direction="tx",name="udp"} 9
# TYPE stunner_listener_bytes counter
# UNIT stunner_listener_bytes bytes
# HELP stunner_listener_bytes Number of bytes received (rx) or sent (tx) at a listener.
stunner_listener_bytes_total{direction="rx",name="udp"} 1000
stunner_listener_bytes_total{direction="tx",name="udp"} 900
# TYPE stunner_allocations_active gauge
# HELP stunner_allocations_active Number of TURN allocations alive now at a listener.
stunner_allocations_active{name="udp"} 1
# TYPE stunner_requests counter
# HELP stunner_requests Number of STUN/TURN requests answered, by method and response code.
stunner_requests_total{name="udp",method="allocate",code="200"} 1
# TYPE stunner_dropped_packets counter
# HELP stunner_dropped_packets Number of datagrams or frames dropped, by reason.
stunner_dropped_packets_total{name="udp",reason="malformed"} 1
stunner_dropped_packets_total{name="udp",reason="no_permission"} 0
stunner_dropped_packets_total{name="udp",reason="no_allocation"} 0
stunner_dropped_packets_total{name="udp",reason="forbidden_peer"} 0
stunner_dropped_packets_total{name="udp",reason="rate_limited"} 0
stunner_dropped_packets_total{name="udp",reason="quota"} 0
# TYPE stunner_send_dropped_packets counter
# HELP stunner_send_dropped_packets Number of datagrams dropped because the send buffer towards the client or the peer was full.
stunner_send_dropped_packets_total{name="udp",to="client"} 0
stunner_send_dropped_packets_total{name="udp",to="peer"} 0
# TYPE stunner_peer_unreachable counter
# HELP stunner_peer_unreachable Number of ICMP errors (port unreachable, prohibited) reported for datagrams relayed to peers over channels.
stunner_peer_unreachable_total{name="udp",icmp="port_unreachable"} 0
stunner_peer_unreachable_total{name="udp",icmp="prohibited"} 0
stunner_peer_unreachable_total{name="udp",icmp="other"} 0
# TYPE stunner_allocation_duration_seconds histogram
# UNIT stunner_allocation_duration_seconds seconds
# HELP stunner_allocation_duration_seconds Lifetime of ended TURN allocations at a listener.
stunner_allocation_duration_seconds_bucket{name="udp",le="1.0"} 1
stunner_allocation_duration_seconds_bucket{name="udp",le="5.0"} 1
stunner_allocation_duration_seconds_bucket{name="udp",le="10.0"} 1
stunner_allocation_duration_seconds_bucket{name="udp",le="30.0"} 1
stunner_allocation_duration_seconds_bucket{name="udp",le="60.0"} 2 # {trace_id="${TRACE}",span_id="${SPAN}"} 42.25 1700000000.123
stunner_allocation_duration_seconds_bucket{name="udp",le="120.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="300.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="600.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="1200.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="1800.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="3600.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="7200.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="14400.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="43200.0"} 2
stunner_allocation_duration_seconds_bucket{name="udp",le="+Inf"} 3 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 100000 1700000001.500
stunner_allocation_duration_seconds_sum{name="udp"} 100042.75
stunner_allocation_duration_seconds_count{name="udp"} 3
# TYPE stunner_cluster_connections gauge
# HELP stunner_cluster_connections Number of active upstream connections on behalf of a listener.
stunner_cluster_connections{name="udp",cluster="media"} 0
# TYPE stunner_cluster_connections_total unknown
# HELP stunner_cluster_connections_total Number of upstream connections on behalf of a listener.
stunner_cluster_connections_total{name="udp",cluster="media"} 0
# TYPE stunner_cluster_packets counter
# HELP stunner_cluster_packets Number of datagrams received from (rx) or sent to (tx) peers of a cluster on behalf of a listener.
stunner_cluster_packets_total{direction="rx",name="udp",cluster="media"} 0
stunner_cluster_packets_total{direction="tx",name="udp",cluster="media"} 3
# TYPE stunner_cluster_bytes counter
# UNIT stunner_cluster_bytes bytes
# HELP stunner_cluster_bytes Number of payload bytes received from (rx) or sent to (tx) peers of a cluster on behalf of a listener.
stunner_cluster_bytes_total{direction="rx",name="udp",cluster="media"} 0
stunner_cluster_bytes_total{direction="tx",name="udp",cluster="media"} 300
# TYPE stunner_config_reloads counter
# HELP stunner_config_reloads Number of configuration (re)loads, by result.
stunner_config_reloads_total{result="success"} 0
stunner_config_reloads_total{result="failure"} 0
# TYPE stunner_config_last_reload_successful gauge
# HELP stunner_config_last_reload_successful Whether the last configuration (re)load succeeded (1) or was rejected (0).
stunner_config_last_reload_successful 1
# TYPE stunner_worker_restarts counter
# HELP stunner_worker_restarts Number of dataplane worker threads restarted after they died.
stunner_worker_restarts_total 0
# TYPE stunner_build_info gauge
# HELP stunner_build_info Always 1; labels carry the gateway version and the Node.js runtime version.
stunner_build_info{version="1.2.3",runtime_version="${process.version}"} 1
# EOF
`;

function smallRegistry(): StatsRegistry {
  const r = new StatsRegistry();
  const udp = r.listener('udp');
  udp.connectionOpened();
  udp.connectionsTotal = 2;
  udp.rxPackets = 10;
  udp.rxBytes = 1000;
  udp.txPackets = 9;
  udp.txBytes = 900;
  udp.allocationsActive = 1;
  udp.countRequest('allocate', 200);
  udp.drops[DROP.malformed] = 1;
  const media = r.cluster('udp', 'media');
  media.txPackets = 3;
  media.txBytes = 300;
  return r;
}

async function text(write: (w: ExpositionWriter) => Promise<void>, format = OPENMETRICS_TEXT): Promise<string> {
  const parts: string[] = [];
  const w = new ExpositionWriter((c) => void parts.push(c), { format });
  await write(w);
  await w.end();
  return parts.join('');
}

test('OpenMetrics: the gateway families, exact: counters named without _total (unless a gauge has that name), units, '
  + 'canonical le, exemplars, # EOF',
  async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_123 });
    const r = smallRegistry();
    const h = r.listener('udp').allocationDuration;
    h.record(0.5);
    h.record(42.25, { traceId: TRACE, spanId: SPAN });
    t.mock.timers.tick(1377);
    h.record(100_000, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
    assert.equal(await text((w) => writeRegistryText(r, '1.2.3', w)), EXPECTED);
  });

test('OpenMetrics: SDK families: target as an info family, counters, histograms without exemplars', async () => {
  const point = { startTime: [1, 0] as [number, number], endTime: [2, 0] as [number, number] };
  const rm: ResourceMetrics = {
    resource: resourceFromAttributes({ 'service.name': 'stunner' }),
    scopeMetrics: [{ scope: { name: 'stunner.runtime' }, metrics: [
      { descriptor: { name: 'process_cpu_seconds_total', unit: 's', description: 'CPU "time".', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true,
        dataPoints: [{ ...point, attributes: {}, value: 1.5 }] },
      { descriptor: { name: 'app.events', unit: '{event}', description: '', valueType: ValueType.INT },
        aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true,
        dataPoints: [{ ...point, attributes: { kind: 'a' }, value: 3 }] },
      { descriptor: { name: 'nodejs_gc_duration_seconds', unit: 's', description: 'GC.', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [{ ...point, attributes: { kind: 'minor' }, value: {
          buckets: { boundaries: [0.001, 0.01, 1, 5], counts: [1, 2, 0, 0, 1] }, sum: 7.5, count: 4, min: 0, max: 7 } }] },
    ] }],
  };
  assert.equal(await text((w) => writeMetricsText(rm, w)), `# TYPE target info
# HELP target Target metadata
target_info{service_name="stunner"} 1
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds CPU \\"time\\".
process_cpu_seconds_total 1.5
# TYPE app_events counter
# HELP app_events app_events
app_events_total{kind="a"} 3
# TYPE nodejs_gc_duration_seconds histogram
# UNIT nodejs_gc_duration_seconds seconds
# HELP nodejs_gc_duration_seconds GC.
nodejs_gc_duration_seconds_bucket{kind="minor",le="0.001"} 1
nodejs_gc_duration_seconds_bucket{kind="minor",le="0.01"} 3
nodejs_gc_duration_seconds_bucket{kind="minor",le="1.0"} 3
nodejs_gc_duration_seconds_bucket{kind="minor",le="5.0"} 3
nodejs_gc_duration_seconds_bucket{kind="minor",le="+Inf"} 4
nodejs_gc_duration_seconds_sum{kind="minor"} 7.5
nodejs_gc_duration_seconds_count{kind="minor"} 4
# EOF
`);
  // The same in text 0.0.4: as before, no UNIT, no exemplars, no EOF, the quote in HELP unescaped.
  const plain = await text((w) => writeMetricsText(rm, w), PROMETHEUS_TEXT);
  assert.match(plain, /^# HELP target_info Target metadata\n# TYPE target_info gauge\n/);
  assert.match(plain, /^# HELP process_cpu_seconds_total CPU "time"\.\n# TYPE process_cpu_seconds_total counter$/m);
  assert.match(plain, /^nodejs_gc_duration_seconds_bucket\{kind="minor",le="1"\} 3$/m);
  assert.doesNotMatch(plain, /# (UNIT|EOF)/);
});

test('OpenMetrics: canonical numbers for le (Go %g with .0), units only where the name ends in their word', () => {
  const cases: [number, string][] = [[0, '0.0'], [0.001, '0.001'], [0.0001, '0.0001'], [0.00001, '1e-05'], [1e-10, '1e-10'],
    [0.95, '0.95'], [1, '1.0'], [1.7, '1.7'], [10, '10.0'], [43200, '43200.0'], [100000, '100000.0'], [1e6, '1e+06'],
    [1234567, '1.234567e+06'], [1e23, '1e+23'], [1.1e23, '1.1e+23'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [-2.5, '-2.5']];
  for (const [v, want] of cases) assert.equal(canonicalNumber(v), want, String(v));
  assert.equal(openMetricsHeader('x_latency', 'gauge', 'h', 's'), '# TYPE x_latency gauge\n# HELP x_latency h\n',
    'no UNIT where the name does not end in _seconds');
  assert.equal(openMetricsHeader('x_seconds_total', 'counter', 'h', 's'),
    '# TYPE x_seconds counter\n# UNIT x_seconds seconds\n# HELP x_seconds h\n');
  assert.equal(openMetricsHeader('x_packets_total', 'counter', 'a\\b\nc', '{packet}'),
    '# TYPE x_packets counter\n# HELP x_packets a\\\\b\\nc\n');
  assert.equal(openMetricsHeader('x_build_info', 'gauge', 'h'), '# TYPE x_build_info gauge\n# HELP x_build_info h\n');
  // A counter whose family name a gauge already has: unknown, under its sample name.
  const families = new Set<string>();
  assert.equal(openMetricsHeader('x_conns', 'gauge', 'g', '', families), '# TYPE x_conns gauge\n# HELP x_conns g\n');
  assert.equal(openMetricsHeader('x_conns_total', 'counter', 'c', '', families),
    '# TYPE x_conns_total unknown\n# HELP x_conns_total c\n');
  assert.equal(openMetricsHeader('y_total', 'counter', 'c', '', families), '# TYPE y counter\n# HELP y c\n');
  assert.deepEqual([...families], ['x_conns', 'x_conns_total', 'y']);
});

test('content negotiation: OpenMetrics when asked for by name with the higher or equal q, else text 0.0.4', () => {
  const om = OPENMETRICS_TEXT.contentType;
  const plain = PROMETHEUS_TEXT.contentType;
  const cases: [string | undefined, string][] = [
    [undefined, plain],
    ['', plain],
    ['*/*', plain],
    ['text/plain', plain],
    [PROMETHEUS_ACCEPT, om],
    // Prometheus 3's default, with escaping parameters.
    ['application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,'
      + 'text/plain;version=0.0.4;q=0.3,*/*;q=0.2', om],
    ['application/openmetrics-text', om],
    ['Application/OpenMetrics-Text; Version="1.0.0"', om],
    ['application/openmetrics-text;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.5', plain],
    ['application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.5', om],
    ['text/plain;version=0.0.4;q=0.5,application/openmetrics-text;q=0.5', om],
    ['application/openmetrics-text;q=0', plain],
    ['application/openmetrics-text;version=0.0.1', plain],
    ['application/openmetrics-text;version=2.0.0;q=1,text/plain;q=0.1', plain],
    ['text/plain;q=0,*/*;q=1,application/openmetrics-text;q=0.1', om],
    ['text/*;q=0.2,application/openmetrics-text;q=0.1', plain],
    ['application/openmetrics-text;q=0.1,*/*;q=0.2', plain],
    ['application/openmetrics-text;q=0.9,text/plain;q=0.1,*/*;q=1', om],
    ['application/json, application/openmetrics-text;q=0.4', om],
  ];
  for (const [accept, want] of cases) assert.equal(negotiateFormat(accept).contentType, want, `Accept: ${accept}`);
});

test('endpoint: Prometheus\'s Accept gets OpenMetrics (gzip too, same text), others text 0.0.4; Vary names Accept',
  async () => {
    const registry = knownRegistry();
    registry.listener('udp-listener').allocationDuration.record(2.5, { traceId: TRACE, spanId: SPAN });
    const t = new Telemetry({ registry, logger: capturingLogger().factory, status: new FakeStatus(), env: {}, version: '1.2.3' });
    try {
      await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
      const url = `http://127.0.0.1:${t.address('admin.metrics_endpoint')?.port}/metrics`;
      const om = await get(url, { accept: PROMETHEUS_ACCEPT });
      assert.equal(om.status, 200);
      assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      assert.equal(om.headers.vary, 'accept, accept-encoding');
      assert.ok(om.body.endsWith('\n# EOF\n'), 'ends with # EOF');
      assert.equal(om.body.match(/^# EOF$/gm)?.length, 1);
      assert.match(om.body, new RegExp(`^stunner_allocation_duration_seconds_bucket\\{name="udp-listener",le="5\\.0"\\} 2 `
        + `# \\{trace_id="${TRACE}",span_id="${SPAN}"\\} 2\\.5 \\d+\\.\\d{3}$`, 'm'));
      assert.match(om.body, /^# TYPE target info$/m);
      assert.match(om.body, /^# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n/m);
      // Every family once (the spec: names unique), counters without _total but for the two whose gauge has that name.
      const families = [...om.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
      assert.equal(new Set(families).size, families.length, 'no family name twice');
      assert.deepEqual(families.filter((f) => f.endsWith('_total')),
        ['stunner_listener_connections_total', 'stunner_cluster_connections_total']);
      assert.match(om.body, /^# TYPE stunner_listener_connections gauge$/m);
      assert.match(om.body, /^# TYPE stunner_listener_connections_total unknown$/m);

      const zipped = await get(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      assert.equal(zipped.headers['content-type'], om.headers['content-type']);
      const gatewayPart = (s: string): string => s.slice(s.indexOf('# TYPE stunner_'));
      assert.equal(gatewayPart(zipped.body), gatewayPart(om.body));

      for (const accept of [undefined, '*/*', 'text/plain;version=0.0.4']) {
        const plain = await get(url, accept === undefined ? {} : { accept });
        assert.equal(plain.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8', `Accept: ${accept}`);
        assert.doesNotMatch(plain.body, /# EOF|# \{trace_id/);
        assert.match(plain.body, /^stunner_allocation_duration_seconds_bucket\{name="udp-listener",le="5"\} 2$/m);
      }
      const head = await get(url, { accept: PROMETHEUS_ACCEPT }, 'HEAD');
      assert.equal(head.headers['content-type'], om.headers['content-type']);
      assert.equal(head.body, '');
    } finally {
      await t.shutdown();
    }
  });
