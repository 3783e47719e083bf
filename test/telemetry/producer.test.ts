// The OTLP-side MetricProducer: one collection per reader, from the registry, in the temporality the reader's
// exporter asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, DataPointType, InstrumentType, type MetricData } from '@opentelemetry/sdk-metrics';
import { RegistryMetricProducer } from '../../src/telemetry/producer.ts';
import { buildResource } from '../../src/telemetry/resource.ts';
import { DeltaTracker } from '../../src/telemetry/delta.ts';
import { knownRegistry, knownRoutes } from './helpers/fixture.ts';

const resource = buildResource({ serviceName: undefined, resourceAttributes: {} }, '1.2.3');

async function collect(p: RegistryMetricProducer): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await p.collect();
  assert.deepEqual(errors, []);
  assert.equal(resourceMetrics.scopeMetrics.length, 1);
  assert.equal(resourceMetrics.scopeMetrics[0].scope.name, 'stunner');
  return new Map(resourceMetrics.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m]));
}

function values(m: MetricData | undefined): Record<string, unknown> {
  assert.ok(m !== undefined);
  return Object.fromEntries(m.dataPoints.map((p) => [Object.values(p.attributes).join('|'), p.value]));
}

test('producer: every gateway family of docs/metrics.md, with its kind', async () => {
  const metrics = await collect(new RegistryMetricProducer({ registry: knownRegistry(), resource, version: '1.2.3' }));
  const kinds = Object.fromEntries([...metrics].map(([name, m]) =>
    [name, m.dataPointType === DataPointType.SUM ? (m.isMonotonic ? 'counter' : 'updown') : DataPointType[m.dataPointType]]));
  assert.deepEqual(kinds, {
    stunner_listener_connections: 'GAUGE',
    stunner_listener_connections_total: 'counter',
    stunner_listener_packets_total: 'counter',
    stunner_listener_bytes_total: 'counter',
    stunner_allocations_active: 'GAUGE',
    stunner_requests_total: 'counter',
    stunner_dropped_packets_total: 'counter',
    stunner_send_dropped_packets_total: 'counter',
    stunner_peer_unreachable_total: 'counter',
    stunner_allocation_duration_seconds: 'HISTOGRAM',
    stunner_cluster_connections: 'GAUGE',
    stunner_cluster_connections_total: 'counter',
    stunner_cluster_packets_total: 'counter',
    stunner_cluster_bytes_total: 'counter',
    stunner_config_reloads_total: 'counter',
    stunner_config_last_reload_successful: 'GAUGE',
    stunner_worker_restarts_total: 'counter',
    stunner_build_info: 'GAUGE',
  });
  assert.deepEqual(values(metrics.get('stunner_cluster_packets_total')), {
    'rx|udp-listener|media-plane': 7, 'tx|udp-listener|media-plane': 8,
    'rx|udp-listener|backup': 0, 'tx|udp-listener|backup': 0,
    'rx|default/tcp-gateway/tcp-listener|media-plane': 0, 'tx|default/tcp-gateway/tcp-listener|media-plane': 5,
  });
  assert.deepEqual(values(metrics.get('stunner_build_info')), { [`1.2.3|${process.version}`]: 1 });
});

test('producer: a cumulative series keeps its start time; the histogram is a snapshot', async () => {
  const registry = knownRegistry();
  const p = new RegistryMetricProducer({ registry, resource, version: 'x' });
  const first = (await collect(p)).get('stunner_allocation_duration_seconds');
  registry.listener('udp-listener').allocationDuration.record(2);
  const second = (await collect(p)).get('stunner_allocation_duration_seconds');
  assert.ok(first && second && first.dataPointType === DataPointType.HISTOGRAM && second.dataPointType === DataPointType.HISTOGRAM);
  assert.deepEqual(first.dataPoints[0].startTime, second.dataPoints[0].startTime);
  assert.equal(first.dataPoints[0].value.count, 3, 'the first collection is not changed by later recording');
  assert.equal(second.dataPoints[0].value.count, 4);
  assert.equal(second.dataPoints[0].value.min, 0.5);
  assert.equal(second.dataPoints[0].value.max, 100_000);
});

test('producer: lowmemory temporality = cumulative counters (observed), delta histogram', async () => {
  const registry = knownRegistry();
  const lowmemory = (t: InstrumentType): AggregationTemporality =>
    t === InstrumentType.HISTOGRAM || t === InstrumentType.COUNTER ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  const p = new RegistryMetricProducer({ registry, resource, version: 'x', temporality: lowmemory });
  await collect(p);
  registry.listener('udp-listener').rxPackets += 1;
  registry.listener('udp-listener').allocationDuration.record(7);
  const m = await collect(p);
  assert.equal(m.get('stunner_listener_packets_total')?.aggregationTemporality, AggregationTemporality.CUMULATIVE);
  assert.equal(values(m.get('stunner_listener_packets_total'))['rx|udp-listener'], 101);
  const h = m.get('stunner_allocation_duration_seconds');
  assert.equal(h?.aggregationTemporality, AggregationTemporality.DELTA);
  assert.ok(h?.dataPointType === DataPointType.HISTOGRAM);
  assert.equal(h.dataPoints[0].value.count, 1);
  assert.equal(h.dataPoints[0].value.sum, 7);
});

test('producer: removed series disappear at the next collection', async () => {
  const registry = knownRegistry();
  const p = new RegistryMetricProducer({ registry, resource, version: 'x' });
  const routes = knownRoutes();
  routes.delete('default/tcp-gateway/tcp-listener');
  registry.retain(routes);
  const m = await collect(p);
  for (const metric of m.values()) {
    for (const point of metric.dataPoints) {
      assert.notEqual(point.attributes.name, 'default/tcp-gateway/tcp-listener', metric.descriptor.name);
    }
  }
});

test('delta tracker: increments, a reset (re-added series) and forgetting unseen series', () => {
  const d = new DeltaTracker();
  const t0: [number, number] = [100, 0];
  const t1: [number, number] = [110, 0];
  const t2: [number, number] = [120, 0];
  const t3: [number, number] = [130, 0];
  const a = { name: 'a' };
  d.begin();
  assert.deepEqual(d.sum('m', a, 10, t0, t1), { value: 10, start: t0 });
  d.end();
  d.begin();
  assert.deepEqual(d.sum('m', a, 15, t0, t2), { value: 5, start: t1 });
  d.end();
  d.begin();
  assert.deepEqual(d.sum('m', a, 3, t2, t3), { value: 3, start: t2 }, 'lower than before: a reset');
  d.end();
  d.begin();
  d.end(); // "a" not reported: forgotten
  d.begin();
  assert.deepEqual(d.sum('m', a, 4, t2, t3), { value: 4, start: t2 }, 'reported again: starts over');
});
