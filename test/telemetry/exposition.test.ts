// The Prometheus exposition served at admin.metrics_endpoint, over real HTTP, after known stats values: exact
// names, # TYPE lines, label sets and values of the gateway families; names and types of the runtime families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { PROCESS_INSTANCE_ID } from '../../src/telemetry/resource.ts';
import type { StatsRegistry } from '../../src/stats/registry.ts';
import type { Env } from '../../src/telemetry/env.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';

const EXPECTED_GATEWAY_TEXT = `# HELP stunner_listener_connections Number of active downstream connections at a listener.
# TYPE stunner_listener_connections gauge
stunner_listener_connections{name="udp-listener"} 3
stunner_listener_connections{name="default/tcp-gateway/tcp-listener"} 1
# HELP stunner_listener_connections_total Number of downstream connections at a listener.
# TYPE stunner_listener_connections_total counter
stunner_listener_connections_total{name="udp-listener"} 10
stunner_listener_connections_total{name="default/tcp-gateway/tcp-listener"} 1
# HELP stunner_listener_packets_total Number of datagrams or framed messages received (rx) or sent (tx) at a listener.
# TYPE stunner_listener_packets_total counter
stunner_listener_packets_total{direction="rx",name="udp-listener"} 100
stunner_listener_packets_total{direction="tx",name="udp-listener"} 90
stunner_listener_packets_total{direction="rx",name="default/tcp-gateway/tcp-listener"} 12
stunner_listener_packets_total{direction="tx",name="default/tcp-gateway/tcp-listener"} 0
# HELP stunner_listener_bytes_total Number of bytes received (rx) or sent (tx) at a listener.
# TYPE stunner_listener_bytes_total counter
stunner_listener_bytes_total{direction="rx",name="udp-listener"} 5000
stunner_listener_bytes_total{direction="tx",name="udp-listener"} 4500
stunner_listener_bytes_total{direction="rx",name="default/tcp-gateway/tcp-listener"} 1200
stunner_listener_bytes_total{direction="tx",name="default/tcp-gateway/tcp-listener"} 0
# HELP stunner_allocations_active Number of TURN allocations alive now at a listener.
# TYPE stunner_allocations_active gauge
stunner_allocations_active{name="udp-listener"} 2
stunner_allocations_active{name="default/tcp-gateway/tcp-listener"} 0
# HELP stunner_requests_total Number of STUN/TURN requests answered, by method and response code.
# TYPE stunner_requests_total counter
stunner_requests_total{name="udp-listener",method="allocate",code="200"} 2
stunner_requests_total{name="udp-listener",method="allocate",code="401"} 1
stunner_requests_total{name="udp-listener",method="refresh",code="200"} 1
# HELP stunner_dropped_packets_total Number of datagrams or frames dropped, by reason.
# TYPE stunner_dropped_packets_total counter
stunner_dropped_packets_total{name="udp-listener",reason="malformed"} 1
stunner_dropped_packets_total{name="udp-listener",reason="no_permission"} 2
stunner_dropped_packets_total{name="udp-listener",reason="no_allocation"} 0
stunner_dropped_packets_total{name="udp-listener",reason="forbidden_peer"} 0
stunner_dropped_packets_total{name="udp-listener",reason="rate_limited"} 0
stunner_dropped_packets_total{name="udp-listener",reason="quota"} 0
stunner_dropped_packets_total{name="default/tcp-gateway/tcp-listener",reason="malformed"} 0
stunner_dropped_packets_total{name="default/tcp-gateway/tcp-listener",reason="no_permission"} 0
stunner_dropped_packets_total{name="default/tcp-gateway/tcp-listener",reason="no_allocation"} 0
stunner_dropped_packets_total{name="default/tcp-gateway/tcp-listener",reason="forbidden_peer"} 0
stunner_dropped_packets_total{name="default/tcp-gateway/tcp-listener",reason="rate_limited"} 0
stunner_dropped_packets_total{name="default/tcp-gateway/tcp-listener",reason="quota"} 0
# HELP stunner_send_dropped_packets_total Number of datagrams dropped because the send buffer towards the client or the peer was full.
# TYPE stunner_send_dropped_packets_total counter
stunner_send_dropped_packets_total{name="udp-listener",to="client"} 0
stunner_send_dropped_packets_total{name="udp-listener",to="peer"} 4
stunner_send_dropped_packets_total{name="default/tcp-gateway/tcp-listener",to="client"} 0
stunner_send_dropped_packets_total{name="default/tcp-gateway/tcp-listener",to="peer"} 0
# HELP stunner_peer_unreachable_total Number of ICMP errors (port unreachable, prohibited) reported for datagrams relayed to peers over channels.
# TYPE stunner_peer_unreachable_total counter
stunner_peer_unreachable_total{name="udp-listener",icmp="port_unreachable"} 7
stunner_peer_unreachable_total{name="udp-listener",icmp="prohibited"} 0
stunner_peer_unreachable_total{name="udp-listener",icmp="other"} 0
stunner_peer_unreachable_total{name="default/tcp-gateway/tcp-listener",icmp="port_unreachable"} 0
stunner_peer_unreachable_total{name="default/tcp-gateway/tcp-listener",icmp="prohibited"} 0
stunner_peer_unreachable_total{name="default/tcp-gateway/tcp-listener",icmp="other"} 0
# HELP stunner_allocation_duration_seconds Lifetime of ended TURN allocations at a listener.
# TYPE stunner_allocation_duration_seconds histogram
${histogram('udp-listener', [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3], 100042.5)}
${histogram('default/tcp-gateway/tcp-listener', new Array(15).fill(0), 0)}
# HELP stunner_cluster_connections Number of active upstream connections on behalf of a listener.
# TYPE stunner_cluster_connections gauge
stunner_cluster_connections{name="udp-listener",cluster="media-plane"} 1
stunner_cluster_connections{name="udp-listener",cluster="backup"} 0
stunner_cluster_connections{name="default/tcp-gateway/tcp-listener",cluster="media-plane"} 0
# HELP stunner_cluster_connections_total Number of upstream connections on behalf of a listener.
# TYPE stunner_cluster_connections_total counter
stunner_cluster_connections_total{name="udp-listener",cluster="media-plane"} 4
stunner_cluster_connections_total{name="udp-listener",cluster="backup"} 0
stunner_cluster_connections_total{name="default/tcp-gateway/tcp-listener",cluster="media-plane"} 0
# HELP stunner_cluster_packets_total Number of datagrams received from (rx) or sent to (tx) peers of a cluster on behalf of a listener.
# TYPE stunner_cluster_packets_total counter
stunner_cluster_packets_total{direction="rx",name="udp-listener",cluster="media-plane"} 7
stunner_cluster_packets_total{direction="tx",name="udp-listener",cluster="media-plane"} 8
stunner_cluster_packets_total{direction="rx",name="udp-listener",cluster="backup"} 0
stunner_cluster_packets_total{direction="tx",name="udp-listener",cluster="backup"} 0
stunner_cluster_packets_total{direction="rx",name="default/tcp-gateway/tcp-listener",cluster="media-plane"} 0
stunner_cluster_packets_total{direction="tx",name="default/tcp-gateway/tcp-listener",cluster="media-plane"} 5
# HELP stunner_cluster_bytes_total Number of payload bytes received from (rx) or sent to (tx) peers of a cluster on behalf of a listener.
# TYPE stunner_cluster_bytes_total counter
stunner_cluster_bytes_total{direction="rx",name="udp-listener",cluster="media-plane"} 700
stunner_cluster_bytes_total{direction="tx",name="udp-listener",cluster="media-plane"} 800
stunner_cluster_bytes_total{direction="rx",name="udp-listener",cluster="backup"} 0
stunner_cluster_bytes_total{direction="tx",name="udp-listener",cluster="backup"} 0
stunner_cluster_bytes_total{direction="rx",name="default/tcp-gateway/tcp-listener",cluster="media-plane"} 0
stunner_cluster_bytes_total{direction="tx",name="default/tcp-gateway/tcp-listener",cluster="media-plane"} 500
# HELP stunner_config_reloads_total Number of configuration (re)loads, by result.
# TYPE stunner_config_reloads_total counter
stunner_config_reloads_total{result="success"} 3
stunner_config_reloads_total{result="failure"} 1
# HELP stunner_config_last_reload_successful Whether the last configuration (re)load succeeded (1) or was rejected (0).
# TYPE stunner_config_last_reload_successful gauge
stunner_config_last_reload_successful 0
# HELP stunner_worker_restarts_total Number of dataplane worker threads restarted after they died.
# TYPE stunner_worker_restarts_total counter
stunner_worker_restarts_total 0
# HELP stunner_build_info Always 1; labels carry the gateway version and the Node.js runtime version.
# TYPE stunner_build_info gauge
stunner_build_info{version="1.2.3",runtime_version="${process.version}"} 1
`;

/** Expected histogram lines for the allocation-duration buckets (cumulative counts as given). */
function histogram(name: string, cumulative: number[], sum: number): string {
  const le = ['1', '5', '10', '30', '60', '120', '300', '600', '1200', '1800', '3600', '7200', '14400', '43200', '+Inf'];
  const n = `stunner_allocation_duration_seconds`;
  return [
    ...le.map((b, i) => `${n}_bucket{name="${name}",le="${b}"} ${cumulative[i]}`),
    `${n}_sum{name="${name}"} ${sum}`,
    `${n}_count{name="${name}"} ${cumulative[cumulative.length - 1]}`,
  ].join('\n');
}

const RUNTIME_TYPES: Record<string, string> = {
  process_cpu_seconds_total: 'counter',
  process_cpu_user_seconds_total: 'counter',
  process_cpu_system_seconds_total: 'counter',
  process_start_time_seconds: 'gauge',
  process_resident_memory_bytes: 'gauge',
  process_virtual_memory_bytes: 'gauge',
  process_heap_bytes: 'gauge',
  process_open_fds: 'gauge',
  process_max_fds: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_eventloop_utilization: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_heap_size_total_bytes: 'gauge',
  nodejs_external_memory_bytes: 'gauge',
  nodejs_active_resources: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
  nodejs_version_info: 'gauge',
};

async function started(registry: StatsRegistry, env: Env = {}): Promise<{ t: Telemetry; url: string }> {
  const t = new Telemetry({ registry, logger: capturingLogger().factory, status: new FakeStatus(), env, version: '1.2.3' });
  const errors = await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
  assert.deepEqual(errors, []);
  const port = t.address('admin.metrics_endpoint')?.port;
  assert.ok(port !== undefined && port > 0);
  return { t, url: `http://127.0.0.1:${port}/metrics` };
}

function gatewayPart(text: string): string {
  const i = text.indexOf('# HELP stunner_');
  assert.ok(i >= 0, 'no stunner_ families in the scrape');
  return text.slice(i);
}

/** Every `# TYPE name type` of a scrape. */
function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    assert.ok(!out.has(m[1]), `family ${m[1]} appears twice`);
    out.set(m[1], m[2]);
  }
  return out;
}

async function provokeGc(): Promise<void> {
  // Minor GCs (scavenges) come with allocation; the gc PerformanceObserver reports them asynchronously.
  const keep: number[][] = [];
  for (let i = 0; i < 200; i++) keep.push(new Array<number>(50_000).fill(i));
  keep.length = 0;
  await new Promise((resolve) => setTimeout(resolve, 100));
}

test('exposition: gateway families are exact after known stats values', async () => {
  const { t, url } = await started(knownRegistry());
  try {
    const res = await get(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(gatewayPart(res.body), EXPECTED_GATEWAY_TEXT);
  } finally {
    await t.shutdown();
  }
});

test('exposition: the families are exactly target_info, the runtime families and the gateway families', async () => {
  const { t, url } = await started(knownRegistry());
  try {
    await provokeGc();
    const res = await get(url);
    const got = types(res.body);
    const want = new Map<string, string>([['target_info', 'gauge'], ...Object.entries(RUNTIME_TYPES),
      ...types(EXPECTED_GATEWAY_TEXT)]);
    assert.deepEqual(Object.fromEntries(got), Object.fromEntries(want));
    assert.doesNotMatch(res.body, /otel_scope/, 'no otel_scope_* labels or families');
    assert.doesNotMatch(res.body, /^# UNIT/m, 'no OpenMetrics UNIT lines in text format 0.0.4');
    assert.match(res.body, /^nodejs_gc_duration_seconds_bucket\{kind="(minor|major|incremental|weakcb)",le="0\.001"\} \d+$/m);
    assert.match(res.body, new RegExp(`^nodejs_version_info\\{version="${process.version.replace(/\./g, '\\.')}",`
      + `major="\\d+",minor="\\d+",patch="\\d+"\\} 1$`, 'm'));
    assert.match(res.body, /^nodejs_active_resources\{type="TCPServerWrap"\} [1-9]\d*$/m);
    const cpu = Number(/^process_cpu_seconds_total (\S+)$/m.exec(res.body)?.[1]);
    const user = Number(/^process_cpu_user_seconds_total (\S+)$/m.exec(res.body)?.[1]);
    const system = Number(/^process_cpu_system_seconds_total (\S+)$/m.exec(res.body)?.[1]);
    assert.ok(cpu > 0 && Math.abs(cpu - user - system) < 1e-6, `cpu ${cpu} = user ${user} + system ${system}`);
    const start = Number(/^process_start_time_seconds (\S+)$/m.exec(res.body)?.[1]);
    assert.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 5, 'start time near now - uptime');
  } finally {
    await t.shutdown();
  }
});

test('exposition: target_info carries the resource (service name/version/instance id, OTEL_RESOURCE_ATTRIBUTES)', async () => {
  const env = { OTEL_SERVICE_NAME: 'edge-turn', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=rtc' };
  const { t, url } = await started(knownRegistry(), env);
  try {
    const { body } = await get(url);
    const line = /^target_info\{(.*)\} 1$/m.exec(body)?.[1] ?? '';
    for (const pair of ['service_name="edge-turn"', 'service_version="1.2.3"',
      `service_instance_id="${PROCESS_INSTANCE_ID}"`, 'deployment_environment="prod"', 'team="rtc"']) {
      assert.ok(line.includes(pair), `${pair} in target_info{${line}}`);
    }
  } finally {
    await t.shutdown();
  }
});

test('exposition: gzip when the scraper accepts it, same content; HEAD has no body', async () => {
  const { t, url } = await started(knownRegistry());
  try {
    const zipped = await get(url, { 'accept-encoding': 'gzip' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(gatewayPart(zipped.body), EXPECTED_GATEWAY_TEXT);
    const head = await get(url, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const other = await get(url.replace('/metrics', '/other'));
    assert.equal(other.status, 404);
  } finally {
    await t.shutdown();
  }
});

test('exposition: label values are escaped (quote, backslash, newline)', async () => {
  const registry = knownRegistry();
  registry.listener('we"ird\\name\nx').connections = 7;
  const { t, url } = await started(registry);
  try {
    const { body } = await get(url);
    assert.match(body, /^stunner_listener_connections\{name="we\\"ird\\\\name\\nx"\} 7$/m);
  } finally {
    await t.shutdown();
  }
});

test('exposition: counters are live, read at each scrape', async () => {
  const registry = knownRegistry();
  const { t, url } = await started(registry);
  try {
    registry.listener('udp-listener').rxPackets += 5;
    registry.cluster('udp-listener', 'media-plane').txBytes += 1000;
    const { body } = await get(url);
    assert.match(body, /^stunner_listener_packets_total\{direction="rx",name="udp-listener"\} 105$/m);
    assert.match(body, /^stunner_cluster_bytes_total\{direction="tx",name="udp-listener",cluster="media-plane"\} 1800$/m);
  } finally {
    await t.shutdown();
  }
});
