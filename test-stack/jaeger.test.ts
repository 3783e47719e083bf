// Jaeger v2 as the stack tests run it (helpers/jaeger.ts): it starts on loopback, takes a span over OTLP/HTTP and
// its query API returns it, and a collector's otlp exporter reaches it over OTLP/gRPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { until } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startCollector, type Collector } from './helpers/collector.ts';
import { startJaeger, type Jaeger } from './helpers/jaeger.ts';

/** One span as OTLP/JSON (hex ids, nanosecond times as strings). */
function otlpSpan(service: string, name: string): { body: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{
        scope: { name: 'stack-test' },
        spans: [{ traceId, spanId: randomBytes(8).toString('hex'), name, kind: 2,
          startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now),
          attributes: [{ key: 'turn.transport', value: { stringValue: 'udp' } }] }],
      }],
    }],
  });
  return { body, traceId };
}

async function post(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 200, await res.text());
}

test('Jaeger stores a span sent over OTLP/HTTP and its query API returns it', { timeout: 120_000 }, async () => {
  let jaeger: Jaeger | undefined;
  try {
    jaeger = await startJaeger();
    const j = jaeger;
    assert.deepEqual((await j.services()).filter((s) => s === 'stack-smoke'), []);
    const { body, traceId } = otlpSpan('stack-smoke', 'Allocate');
    await post(`${j.otlpHttpUrl}/v1/traces`, body);
    const traces = await until('the span in Jaeger', 20_000, async () => {
      const found = await j.traces('stack-smoke');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(traces.length, 1);
    assert.equal(traces[0].traceID, traceId);
    assert.equal(traces[0].spans[0].operationName, 'Allocate');
    assert.deepEqual(traces[0].spans[0].tags.find((tag) => tag.key === 'turn.transport')?.value, 'udp');
    assert.equal((await j.trace(traceId))?.spans.length, 1);
    assert.ok((await j.services()).includes('stack-smoke'));
  } finally {
    await jaeger?.stop();
  }
});

test('a collector forwards spans to Jaeger over OTLP/gRPC', { timeout: 120_000 }, async () => {
  let jaeger: Jaeger | undefined;
  let collector: Collector | undefined;
  try {
    jaeger = await startJaeger();
    collector = await startCollector({ config: { yaml: [
      'receivers: {otlp: {protocols: {http: {endpoint: "localhost:4318"}}}}',
      'processors: {batch: {timeout: 200ms}}',
      'exporters: {otlp/jaeger: {endpoint: "${env:JAEGER_OTLP_GRPC}", tls: {insecure: true}}}',
      'service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [otlp/jaeger]}}}',
    ].join('\n') }, env: { JAEGER_OTLP_GRPC: jaeger.otlpGrpcEndpoint } });
    const { body, traceId } = otlpSpan('stack-via-collector', 'ChannelBind');
    await post(`${collector.otlpHttpUrl}/v1/traces`, body);
    const j = jaeger;
    const trace = await until('the span in Jaeger', 20_000, async () => j.trace(traceId).catch(() => undefined));
    assert.equal(trace.spans[0].operationName, 'ChannelBind');
  } finally {
    await collector?.stop();
    await jaeger?.stop();
  }
});
