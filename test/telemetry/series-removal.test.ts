// Series of a listener or cluster removed by a reconfiguration (registry.retain) disappear from the next scrape
// and from the next OTLP push; renamed ones appear under the new name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { knownRegistry, knownRoutes, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';
import { OtlpJsonReceiver, metricsOf, only, otlpSamples, scrapeSamples } from './helpers/otlp-receiver.ts';

const TCP = 'default/tcp-gateway/tcp-listener';

function seriesMentioning(samples: Map<string, number>, text: string): string[] {
  return [...samples.keys()].filter((k) => k.includes(text));
}

test('series removal: retain() drops a listener and a cluster from /metrics and from the next push', async () => {
  const registry = knownRegistry();
  const receiver = new OtlpJsonReceiver();
  const endpoint = await receiver.start();
  const t = new Telemetry({
    registry, logger: capturingLogger().factory, status: new FakeStatus(),
    env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '3600000' },
  });
  try {
    await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
    const url = `http://127.0.0.1:${t.address('admin.metrics_endpoint')?.port}/metrics`;
    const pushNow = async (): Promise<Map<string, number>> => {
      const from = receiver.requests.length;
      await t.flush();
      return only(otlpSamples(metricsOf(await receiver.after(from))), 'stunner_');
    };

    const before = only(scrapeSamples((await get(url)).body), 'stunner_');
    const pushedBefore = await pushNow();
    assert.ok(seriesMentioning(before, TCP).length > 0);
    assert.ok(seriesMentioning(before, 'cluster="backup"').length > 0);
    assert.ok(seriesMentioning(pushedBefore, TCP).length > 0);

    // Reconfiguration: the TCP listener is gone, udp-listener no longer routes to "backup",
    // and a listener appears under a new name.
    const routes = knownRoutes();
    routes.delete(TCP);
    routes.set('udp-listener', ['media-plane']);
    routes.set('renamed-listener', ['media-plane']);
    registry.retain(routes);
    registry.listener('renamed-listener').rxPackets = 1;
    registry.cluster('renamed-listener', 'media-plane').txPackets = 2;

    const after = only(scrapeSamples((await get(url)).body), 'stunner_');
    const pushedAfter = await pushNow();
    for (const [label, samples] of [['scrape', after], ['push', pushedAfter]] as const) {
      assert.deepEqual(seriesMentioning(samples, TCP), [], `${label}: no series of the removed listener`);
      assert.deepEqual(seriesMentioning(samples, 'cluster="backup"'), [], `${label}: no series of the removed route`);
      assert.equal(samples.get('stunner_listener_packets_total{direction="rx",name="renamed-listener"}'), 1, label);
      assert.equal(samples.get('stunner_cluster_packets_total{direction="tx",name="renamed-listener",cluster="media-plane"}'),
        2, label);
      assert.equal(samples.get('stunner_cluster_bytes_total{direction="tx",name="udp-listener",cluster="media-plane"}'), 800,
        `${label}: kept series keep their values`);
    }
    assert.deepEqual(Object.fromEntries(pushedAfter), Object.fromEntries(after), 'push and scrape agree after the change');
  } finally {
    await t.shutdown();
    await receiver.close();
  }
});

// Why the gateway metrics come from a MetricProducer and not from observable instruments: with cumulative
// temporality the SDK keeps exporting a series that a callback stopped observing. If this ever fails, the SDK
// changed and the comment in src/telemetry/producer.ts is out of date.
test('series removal: sdk-metrics observable instruments keep series that are no longer observed', async () => {
  class Reader extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  const names = new Set(['a', 'b']);
  provider.getMeter('t').createObservableGauge('g').addCallback((o) => {
    for (const name of names) o.observe(1, { name });
  });
  const observed = async (): Promise<string[]> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics[0].metrics[0].dataPoints.map((p) => String(p.attributes.name));
  };
  assert.deepEqual(await observed(), ['a', 'b']);
  names.delete('b');
  assert.deepEqual(await observed(), ['a', 'b'], 'the removed series "b" is still exported');
  await provider.shutdown();
});
