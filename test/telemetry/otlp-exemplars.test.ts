// Exemplars in the OTLP push, http/protobuf and http/json: each allocation-duration data point carries its buckets'
// exemplars, decoded here by a reader independent of the serializer (helpers/protobuf-reader.ts) and by a real
// OTLP decoder (VictoriaMetrics); the rest of each request is the transformer's own encoding, byte for byte.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, InstrumentType } from '@opentelemetry/sdk-metrics';
import type { StatsRegistry } from '../../src/stats/registry.ts';
import { PROTOBUF_EXEMPLAR_SERIALIZER } from '../../src/telemetry/otlp-exemplars.ts';
import { RegistryMetricProducer } from '../../src/telemetry/producer.ts';
import { buildResource } from '../../src/telemetry/resource.ts';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { startVictoriaMetrics } from '../telemetry-e2e/support/victoria-metrics.ts';
import { until } from '../telemetry-e2e/support/stunnerd.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { OtlpJsonReceiver, metricsOf, type OtlpMetric } from './helpers/otlp-receiver.ts';
import {
  bytesOf, decodeMessage, doubleOf, fixed64Of, messages, stringOf, type Field,
} from './helpers/protobuf-reader.ts';

const A = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const B = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const T0 = 1_700_000_000_123;
const resource = buildResource({ serviceName: undefined, resourceAttributes: {} }, '1.2.3');

/** knownRegistry() with exemplars: udp-listener's (30, 60] bucket A at T0, its +Inf bucket B at T0 + 2 s. */
function registryWithExemplars(t: TestContext): StatsRegistry {
  t.mock.timers.enable({ apis: ['Date'], now: T0 });
  const r = knownRegistry();
  const h = r.listener('udp-listener').allocationDuration;
  h.record(42.5, A);
  t.mock.timers.tick(2000);
  h.record(50_000, B);
  return r;
}

interface DecodedExemplar { timeUnixNano: bigint; value: number | undefined; spanId: string; traceId: string }
interface DecodedPoint { name: string; count: bigint | undefined; exemplars: DecodedExemplar[]; fields: Field[] }

/** The allocation-duration data points of an ExportMetricsServiceRequest, by their `name` label. */
function histogramPoints(body: Uint8Array): DecodedPoint[] {
  const out: DecodedPoint[] = [];
  for (const rm of messages(decodeMessage(body), 1)) {
    for (const scope of messages(rm, 2)) {
      for (const metric of messages(scope, 2)) {
        if (stringOf(metric, 1) !== 'stunner_allocation_duration_seconds') continue;
        for (const dp of messages(messages(metric, 9)[0], 1)) {
          const attrs = new Map(messages(dp, 9).map((kv) => [stringOf(kv, 1), stringOf(messages(kv, 2)[0], 1)]));
          out.push({
            name: attrs.get('name')!,
            count: fixed64Of(dp, 4),
            exemplars: messages(dp, 8).map((e) => ({
              timeUnixNano: fixed64Of(e, 2)!, value: doubleOf(e, 3),
              spanId: Buffer.from(bytesOf(e, 4)!).toString('hex'), traceId: Buffer.from(bytesOf(e, 5)!).toString('hex'),
            })),
            fields: dp,
          });
        }
      }
    }
  }
  return out;
}

const NS = 1_000_000n;

test('OTLP/protobuf serializer: exemplars on their data points, the rest exactly the transformer\'s encoding', async (t) => {
  const registry = registryWithExemplars(t);
  const producer = new RegistryMetricProducer({ registry, resource, version: '1.2.3' });
  const { resourceMetrics } = await producer.collect();
  const ours = PROTOBUF_EXEMPLAR_SERIALIZER.serializeRequest(resourceMetrics)!;
  const theirs = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
  assert.ok(ours.length > theirs.length);

  const points = histogramPoints(ours);
  assert.deepEqual(points.map((p) => [p.name, p.exemplars]), [
    ['udp-listener', [
      { timeUnixNano: BigInt(T0) * NS, value: 42.5, ...A },
      { timeUnixNano: BigInt(T0 + 2000) * NS, value: 50_000, ...B },
    ]],
    ['default/tcp-gateway/tcp-listener', []],
  ]);
  // Without its exemplar fields (8), each data point is the transformer's; so is everything around them.
  const plain = histogramPoints(theirs);
  assert.deepEqual(points.map((p) => p.fields.filter((f) => f.number !== 8)), plain.map((p) => p.fields));
  const outside = (body: Uint8Array): unknown => messages(decodeMessage(body), 1).map((rm) => [
    rm.filter((f) => f.number !== 2),
    messages(rm, 2).map((scope) => [scope.filter((f) => f.number !== 2),
      messages(scope, 2).map((m) => (stringOf(m, 1) === 'stunner_allocation_duration_seconds' ? m.filter((f) => f.number !== 9) : m))]),
  ]);
  assert.deepEqual(outside(ours), outside(theirs));

  // No exemplar anywhere: the transformer's bytes, untouched.
  const none = await new RegistryMetricProducer({ registry: knownRegistry(), resource, version: '1.2.3' }).collect();
  assert.deepEqual(PROTOBUF_EXEMPLAR_SERIALIZER.serializeRequest(none.resourceMetrics),
    ProtobufMetricsSerializer.serializeRequest(none.resourceMetrics));
});

/** An OTLP/HTTP receiver keeping each request body as it arrived (gunzipped). */
async function protobufReceiver(): Promise<{ url: string; bodies: Uint8Array[]; close(): Promise<void> }> {
  const bodies: Uint8Array[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      bodies.push(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`,
    bodies,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

test('OTLP/protobuf push, batched 7 points a request, gzip: each exemplar arrives on its own listener\'s point', async (t) => {
  const registry = registryWithExemplars(t);
  // More listeners, so the histogram's points are split over requests; one more exemplar on a later point.
  for (let i = 0; i < 10; i++) registry.listener(`extra-${i}`);
  registry.listener('extra-9').allocationDuration.record(0.25, B);
  const receiver = await protobufReceiver();
  const telemetry = new Telemetry({ registry, logger: capturingLogger().factory, status: new FakeStatus(), version: '1.2.3',
    pushBatchPoints: 7, env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url, OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } });
  try {
    await telemetry.start({ metrics_endpoint: '', healthcheck_endpoint: '' });
    await telemetry.flush();
    assert.ok(receiver.bodies.length > 3, `${receiver.bodies.length} requests`);
    const points = receiver.bodies.flatMap(histogramPoints);
    const withHistogram = receiver.bodies.filter((b) => histogramPoints(b).length > 0).length;
    assert.ok(withHistogram >= 2, `the histogram's 12 points span ${withHistogram} requests`);
    assert.equal(points.length, 12);
    const byName = new Map(points.map((p) => [p.name, p.exemplars]));
    assert.deepEqual(byName.get('udp-listener')?.map((e) => [e.value, e.spanId]), [[42.5, A.spanId], [50_000, B.spanId]]);
    assert.deepEqual(byName.get('extra-9'), [{ timeUnixNano: BigInt(T0 + 2000) * NS, value: 0.25, ...B }]);
    for (const [name, exemplars] of byName) {
      if (name !== 'udp-listener' && name !== 'extra-9') assert.deepEqual(exemplars, [], name);
    }
    assert.equal(points.find((p) => p.name === 'udp-listener')?.count, 5n);
  } finally {
    await telemetry.shutdown();
    await receiver.close();
  }
});

async function jsonPush(registry: StatsRegistry, env: Record<string, string>,
  fn: (push: () => Promise<OtlpMetric[]>) => Promise<void>): Promise<void> {
  const receiver = new OtlpJsonReceiver();
  const endpoint = await receiver.start();
  const telemetry = new Telemetry({ registry, logger: capturingLogger().factory, status: new FakeStatus(), version: '1.2.3',
    env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '3600000', ...env } });
  try {
    await telemetry.start({ metrics_endpoint: '', healthcheck_endpoint: '' });
    await fn(async () => {
      const from = receiver.requests.length;
      await telemetry.flush();
      return metricsOf(await receiver.after(from));
    });
  } finally {
    await telemetry.shutdown();
    await receiver.close();
  }
}

function jsonExemplars(metrics: OtlpMetric[]): Record<string, unknown> {
  const m = metrics.find((x) => x.name === 'stunner_allocation_duration_seconds');
  const points = (m?.histogram?.dataPoints ?? []) as unknown as { attributes: { value: { stringValue: string } }[];
    exemplars?: unknown[] }[];
  return Object.fromEntries(points.map((p) => [p.attributes[0].value.stringValue, p.exemplars ?? []]));
}

test('OTLP/JSON push: exemplars with hex trace and span ids, time as a decimal string of nanoseconds', async (t) => {
  await jsonPush(registryWithExemplars(t), {}, async (push) => {
    assert.deepEqual(jsonExemplars(await push()), {
      'udp-listener': [
        { timeUnixNano: `${T0}000000`, asDouble: 42.5, ...A },
        { timeUnixNano: `${T0 + 2000}000000`, asDouble: 50_000, ...B },
      ],
      'default/tcp-gateway/tcp-listener': [],
    });
  });
});

test('OTLP delta temporality: a push carries only the exemplars recorded since the previous one', async () => {
  // The wall clock, not a mocked one: the interval starts at the previous collection's (real) time.
  const registry = knownRegistry();
  const h = registry.listener('udp-listener').allocationDuration;
  h.record(42.5, A);
  await jsonPush(registry, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }, async (push) => {
    assert.deepEqual((jsonExemplars(await push())['udp-listener'] as { spanId: string }[]).map((e) => e.spanId), [A.spanId],
      'the first interval: all');
    await new Promise((r) => setTimeout(r, 5));
    const recordedAt = Date.now();
    h.record(3, B);
    // Exemplar times are milliseconds: a collection starting in the millisecond B was recorded in would count B as
    // recorded while it ran, and the next push would carry it again (by design: rather twice than never).
    await new Promise((r) => setTimeout(r, 5));
    const second = jsonExemplars(await push());
    assert.deepEqual(second['default/tcp-gateway/tcp-listener'], []);
    const [e, ...more] = second['udp-listener'] as { timeUnixNano: string; asDouble: number }[];
    assert.deepEqual([{ ...e, timeUnixNano: undefined }, more], [{ timeUnixNano: undefined, asDouble: 3, ...B }, []]);
    const ms = Number(BigInt(e.timeUnixNano) / NS);
    assert.ok(ms >= recordedAt && ms < recordedAt + 1000, `exemplar time ${ms} vs ${recordedAt}`);
    assert.deepEqual(jsonExemplars(await push()), { 'udp-listener': [], 'default/tcp-gateway/tcp-listener': [] });
  });
  // Cumulative keeps them all (the producer, without HTTP).
  const p = new RegistryMetricProducer({ registry, resource, version: '1.2.3',
    temporality: (i) => (i === InstrumentType.HISTOGRAM ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA) });
  const { resourceMetrics } = await p.collect();
  const m = resourceMetrics.scopeMetrics[0].metrics.find((x) => x.descriptor.name === 'stunner_allocation_duration_seconds');
  assert.equal((m?.dataPoints[0] as { exemplars?: unknown[] }).exemplars?.length, 2);
});

test('VictoriaMetrics decodes the OTLP/protobuf push that carries exemplars: the histogram stored as scraped',
  { timeout: 60_000 }, async () => {
    const vm = await startVictoriaMetrics();
    const registry = knownRegistry();
    registry.listener('udp-listener').allocationDuration.record(42.5, A);
    const telemetry = new Telemetry({ registry, logger: capturingLogger().factory, status: new FakeStatus(),
      version: '1.2.3', env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: vm.otlpUrl, OTEL_METRIC_EXPORT_INTERVAL: '3600000' } });
    try {
      await telemetry.start({ metrics_endpoint: '', healthcheck_endpoint: '' });
      await telemetry.flush();
      const series = await until('the histogram in VictoriaMetrics', 20_000, async () => {
        const s = await vm.exportSeries('{__name__=~"stunner_allocation_duration_seconds_(count|sum)"}');
        return s.length >= 4 ? s : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n${vm.log()}`);
      });
      const got = Object.fromEntries(series.map((s) => [`${s.metric.__name__}/${s.metric.name}`, s.values.at(-1)]));
      assert.deepEqual(got, {
        'stunner_allocation_duration_seconds_count/udp-listener': 4,
        'stunner_allocation_duration_seconds_sum/udp-listener': 100_042.5 + 42.5,
        'stunner_allocation_duration_seconds_count/default/tcp-gateway/tcp-listener': 0,
        'stunner_allocation_duration_seconds_sum/default/tcp-gateway/tcp-listener': 0,
      });
      assert.doesNotMatch(vm.log(), /cannot (parse|unmarshal)/i);
    } finally {
      await telemetry.shutdown();
      await vm.stop();
    }
  });
