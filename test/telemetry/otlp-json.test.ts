// OTLP/JSON push (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) into a real HTTP receiver that decodes the JSON:
// the same names and values as the scrape, the resource, headers, gzip, and delta temporality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { PROCESS_INSTANCE_ID } from '../../src/telemetry/resource.ts';
import type { StatsRegistry } from '../../src/stats/registry.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';
import {
  OtlpJsonReceiver, attributeValue, metricsOf, only, otlpSamples, scrapeSamples, type OtlpMetric,
} from './helpers/otlp-receiver.ts';

async function withPush(registry: StatsRegistry, env: Record<string, string>,
  fn: (t: Telemetry, receiver: OtlpJsonReceiver, metricsUrl: string) => Promise<void>): Promise<void> {
  const receiver = new OtlpJsonReceiver();
  const endpoint = await receiver.start();
  const t = new Telemetry({
    registry, logger: capturingLogger().factory, status: new FakeStatus(), version: '1.2.3',
    // A long interval: pushes happen when the test flushes.
    env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '3600000', ...env },
  });
  try {
    assert.deepEqual(await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' }), []);
    const port = t.address('admin.metrics_endpoint')?.port;
    await fn(t, receiver, `http://127.0.0.1:${port}/metrics`);
  } finally {
    await t.shutdown();
    await receiver.close();
  }
}

async function push(t: Telemetry, receiver: OtlpJsonReceiver): Promise<OtlpMetric[]> {
  const from = receiver.requests.length;
  await t.flush();
  return metricsOf(await receiver.after(from));
}

test('OTLP/JSON: the pushed gateway series equal the scrape, name for name and value for value', async () => {
  await withPush(knownRegistry(), {}, async (t, receiver, metricsUrl) => {
    const pushed = await push(t, receiver);
    const scraped = scrapeSamples((await get(metricsUrl)).body);
    const pushedGateway = only(otlpSamples(pushed), 'stunner_');
    assert.deepEqual(Object.fromEntries(pushedGateway), Object.fromEntries(only(scraped, 'stunner_')));
    assert.equal(pushedGateway.get('stunner_cluster_bytes_total{direction="tx",name="udp-listener",cluster="media-plane"}'), 800);

    // Runtime metrics: the same family names as the scrape (values move between collections).
    const runtimeNames = new Set(pushed.map((m) => m.name).filter((n) => !n.startsWith('stunner_')));
    const scrapedFamilies = new Set([...(await get(metricsUrl)).body.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1])
      .filter((n) => !n.startsWith('stunner_') && n !== 'target_info'));
    for (const n of runtimeNames) assert.ok(scrapedFamilies.has(n), `pushed ${n} is a scraped family`);
    for (const n of ['process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
      assert.ok(runtimeNames.has(n), `${n} pushed`);
    }
  });
});

test('OTLP/JSON: metric kinds, temporality, units and the resource', async () => {
  await withPush(knownRegistry(), { OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=stunner-0' }, async (t, receiver) => {
    const from = receiver.requests.length;
    await t.flush();
    const requests = await receiver.after(from);
    const metrics = metricsOf(requests);
    const byName = new Map(metrics.map((m) => [m.name, m]));
    const CUMULATIVE = 2;
    const packets = byName.get('stunner_listener_packets_total');
    assert.equal(packets?.sum?.isMonotonic, true);
    assert.equal(packets?.sum?.aggregationTemporality, CUMULATIVE);
    assert.equal(packets?.unit, '{packet}');
    assert.equal(byName.get('stunner_listener_bytes_total')?.unit, 'By');
    assert.ok(byName.get('stunner_listener_connections')?.gauge, 'connections is a gauge');
    const duration = byName.get('stunner_allocation_duration_seconds');
    assert.equal(duration?.unit, 's');
    assert.equal(duration?.histogram?.aggregationTemporality, CUMULATIVE);
    assert.deepEqual(duration?.histogram?.dataPoints[0].explicitBounds,
      [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200]);

    const resource = Object.fromEntries(requests[0].body.resourceMetrics[0].resource.attributes
      .map((a) => [a.key, attributeValue(a.value)]));
    assert.equal(resource['service.name'], 'stunner');
    assert.equal(resource['service.version'], '1.2.3');
    assert.equal(resource['service.instance.id'], PROCESS_INSTANCE_ID);
    assert.equal(resource['k8s.pod.name'], 'stunner-0');
    // No scope attributes turn into labels: the scope is only the instrumentation scope object.
    assert.equal(requests[0].body.resourceMetrics[0].scopeMetrics.some((s) => s.scope.name === 'stunner'), true);
  });
});

test('OTLP/JSON: OTEL_EXPORTER_OTLP_HEADERS and _COMPRESSION=gzip reach the collector', async () => {
  const env = { OTEL_EXPORTER_OTLP_HEADERS: 'x-scope-orgid=tenant%201', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip' };
  await withPush(knownRegistry(), env, async (t, receiver) => {
    const from = receiver.requests.length;
    await t.flush();
    const [first] = await receiver.after(from);
    assert.equal(first.headers['x-scope-orgid'], 'tenant 1');
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.equal(first.headers['content-type'], 'application/json');
  });
});

test('OTLP/JSON: delta temporality sends increments since the previous push', async () => {
  const registry = knownRegistry();
  await withPush(registry, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }, async (t, receiver) => {
    const first = otlpSamples(await push(t, receiver));
    assert.equal(first.get('stunner_listener_packets_total{direction="rx",name="udp-listener"}'), 100);
    registry.listener('udp-listener').rxPackets += 7;
    registry.listener('udp-listener').allocationDuration.record(3);
    const metrics = await push(t, receiver);
    const second = otlpSamples(metrics);
    assert.equal(second.get('stunner_listener_packets_total{direction="rx",name="udp-listener"}'), 7);
    assert.equal(second.get('stunner_listener_packets_total{direction="tx",name="udp-listener"}'), 0);
    assert.equal(second.get('stunner_allocation_duration_seconds_count{name="udp-listener"}'), 1);
    assert.equal(second.get('stunner_allocation_duration_seconds_bucket{name="udp-listener",le="5"}'), 1);
    assert.equal(second.get('stunner_allocation_duration_seconds_bucket{name="udp-listener",le="1"}'), 0);
    // Gauges stay gauges: the current value, not a difference.
    assert.equal(second.get('stunner_listener_connections{name="udp-listener"}'), 3);
    const DELTA = 1;
    assert.equal(metrics.find((m) => m.name === 'stunner_listener_packets_total')?.sum?.aggregationTemporality, DELTA);
  });
});
