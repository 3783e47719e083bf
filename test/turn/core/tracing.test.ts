// Traces of the pure core (no sockets): the OpenTelemetry TurnTracer on an in-memory exporter. A span per answered
// request, the Allocate span kept by the allocation (its context only), later requests linked to it, and the
// allocation span, its child, when the allocation ends; what the sampler leaves out costs no attributes and
// leaves no span; Binding only when asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  AlwaysOffSampler, AlwaysOnSampler, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor,
  TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type Sampler,
} from '@opentelemetry/sdk-trace';
import { Method } from '../../../src/stun/constants.ts';
import { Lifetime } from '../../../src/stun/attributes/numeric.ts';
import { OtelTurnTracer } from '../../../src/telemetry/turn-tracer.ts';
import { Core, codeOf, plainRequest } from './harness.ts';

function traced(sampler: Sampler = new AlwaysOnSampler(),
  opts: { traceBinding?: boolean; recordUsername?: boolean; peerLinks?: boolean } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const core = new Core({ peerLinks: opts.peerLinks ?? false });
  core.server.tracer = new OtelTurnTracer(provider.getTracer('test'), {
    recordUsername: opts.recordUsername ?? false, traceBinding: opts.traceBinding ?? false,
  });
  return { core, spans: (): ReadableSpan[] => exporter.getFinishedSpans() };
}

const named = (spans: readonly ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

test('a span per answered request; later requests link to the Allocate span; the allocation span is its child', async () => {
  const { core, spans } = traced();
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.1.2.3', 5000)), 200);
  assert.equal(codeOf(await client.createPermission('192.0.2.1')), 403);
  core.now += 90_000;
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(Lifetime, 0))), 200);

  const allocates = named(spans(), 'turn.Allocate');
  assert.deepEqual(allocates.map((s) => s.attributes['turn.response.code']), [401, 200]);
  const allocate = allocates[1];
  assert.equal(allocate.kind, SpanKind.SERVER);
  assert.equal(allocate.attributes['turn.listener'], 'udp-core');
  assert.equal(allocate.attributes['client.address'], '198.51.100.7');
  assert.equal(allocate.attributes['network.transport'], 'udp');
  assert.equal(allocate.attributes['user.name'], undefined);
  assert.equal((allocate.attributes['turn.relayed.address'] as string[]).length, 1);
  assert.equal(allocates[0].attributes['error.type'], '401');
  assert.equal(allocates[0].status.code, SpanStatusCode.UNSET, 'a 4xx is the client\'s error');
  const ctx = allocate.spanContext();

  const [bind] = named(spans(), 'turn.ChannelBind');
  assert.deepEqual(bind.links.map((l) => l.context.spanId), [ctx.spanId]);
  assert.equal(bind.attributes['turn.cluster'], 'media');
  assert.equal(bind.attributes['turn.peer.address'], '10.1.2.3');
  const [forbidden] = named(spans(), 'turn.CreatePermission');
  assert.equal(forbidden.attributes['turn.cluster'], 'forbidden');
  assert.equal(forbidden.attributes['error.type'], '403');

  const [alloc] = named(spans(), 'turn.allocation');
  assert.equal(alloc.spanContext().traceId, ctx.traceId);
  assert.equal(alloc.parentSpanContext?.spanId, ctx.spanId);
  assert.equal(alloc.attributes['turn.allocation.end_reason'], 'deleted');
  assert.deepEqual(alloc.attributes['turn.peer.addresses'], ['10.1.2.3']);
  assert.deepEqual(alloc.attributes['turn.clusters'], ['media']);
  // From the Allocate to the Refresh on the core's clock: 90 s.
  const seconds = alloc.duration[0] + alloc.duration[1] / 1e9;
  assert.ok(Math.abs(seconds - 90) < 0.01, `duration ${seconds}`);
});

test('the allocation span says how many ICMP errors its peer links heard, and from which peers', async () => {
  const { core, spans } = traced(undefined, { peerLinks: true });
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.1.2.3', 5000)), 200);
  assert.equal(codeOf(await client.channelBind(0x4001, '10.1.2.3', 5001)), 200);
  await client.sendChannel(0x4000, Buffer.from('a'));
  await client.sendChannel(0x4001, Buffer.from('b'));
  const [first, second] = core.relays.sockets[0].links;
  const portUnreachable = { type: 3, code: 3, data: 0 };
  for (let i = 0; i < 3; i++) first.unreachable('port_unreachable', portUnreachable);
  second.unreachable('other', undefined);
  assert.equal(client.received().length, 3, 'three passed on');
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(Lifetime, 0))), 200);
  const [alloc] = named(spans(), 'turn.allocation');
  assert.equal(alloc.attributes['turn.allocation.peer_unreachable'], 4);
  assert.deepEqual(alloc.attributes['turn.peer.unreachable.addresses'], ['10.1.2.3:5000', '10.1.2.3:5001']);

  // None heard: neither attribute.
  const other = core.client();
  await other.allocate();
  assert.equal(codeOf(await other.request(Method.refresh, (w) => w.add(Lifetime, 0))), 200);
  const quiet = named(spans(), 'turn.allocation')[1];
  assert.equal(quiet.attributes['turn.allocation.peer_unreachable'], undefined);
  assert.equal(quiet.attributes['turn.peer.unreachable.addresses'], undefined);
});

test('a 508 marks the span failed', async () => {
  const { core, spans } = traced();
  core.relays.capacity = 0;
  const res = await core.client().allocateRequest();
  assert.equal(codeOf(res), 508);
  const [failed] = named(spans(), 'turn.Allocate').filter((s) => s.attributes['turn.response.code'] === 508);
  assert.equal(failed.status.code, SpanStatusCode.ERROR);
  assert.equal(failed.attributes['error.type'], '508');
});

test('sampled out: no span, no exemplar, and the allocation span follows its Allocate\'s decision', async () => {
  for (const sampler of [new AlwaysOffSampler(), new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) })]) {
    const { core, spans } = traced(sampler);
    const client = core.client();
    await client.allocate();
    const allocation = core.listener.lookup(client.link)!;
    assert.equal(allocation.trace?.traceFlags, 0, 'the context is kept, unsampled');
    assert.equal(core.server.tracer!.allocationEnded(allocation, 'expired', core.now), undefined);
    assert.deepEqual(spans(), []);
  }
});

test('Binding requests get spans only with OTEL_STUNNER_TRACE_BINDING; usernames only when asked', async () => {
  for (const traceBinding of [false, true]) {
    const { core, spans } = traced(new AlwaysOnSampler(), { traceBinding, recordUsername: true });
    const client = core.client();
    await client.exchange(plainRequest(Method.binding));
    assert.equal(named(spans(), 'turn.Binding').length, traceBinding ? 1 : 0);
    await client.allocate();
    assert.equal(named(spans(), 'turn.Allocate')[1].attributes['user.name'], 'alice');
  }
});

test('the allocation span\'s context is what the allocation-duration observation carries', async () => {
  const { core, spans } = traced();
  const client = core.client();
  await client.allocate();
  core.elapse(700);
  const [alloc] = named(spans(), 'turn.allocation');
  assert.equal(alloc.attributes['turn.allocation.end_reason'], 'expired');
  const h = core.stats.allocationDuration;
  assert.equal(h.count, 1);
  // 700 s falls in the (600, 1200] bucket.
  const bucket = h.boundaries.indexOf(1200);
  const e = h.exemplar(bucket);
  assert.equal(e?.traceId, alloc.spanContext().traceId);
  assert.equal(e?.spanId, alloc.spanContext().spanId);
});
