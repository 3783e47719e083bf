// Traces from the stunnerd process, configured only through OTEL_* variables, into an OTLP/HTTP JSON receiver here
// that decodes them: a span per answered request with the outcome, listener, transport, cluster and relayed
// address; later requests linked to the Allocate span; one `turn.allocation` span per ended allocation, the Allocate
// span's child, with its packet/byte totals, peers and end reason; with two workers too, and at shutdown for the
// allocations still open; ICMP errors from a closed peer port passed on to the client and counted on the
// allocation span. (The same through a real collector into Jaeger, over http/protobuf: test/stack.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient, TurnClientError } from '../../src/client/turn-client.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { echoPaced } from '../helpers/wire.ts';
import { OtlpJsonReceiver } from '../telemetry/helpers/otlp-receiver.ts';
import { PASS, USER, startStunnerd, until, type ListenerSpec, type Stunnerd } from './support/stunnerd.ts';
import { freeUdpPort, nonEphemeralUdpPort } from '../helpers/process.ts';
import { spansOf, spanAttributes, type OtlpSpan } from './support/spans.ts';

const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const CHANNEL = 0x4001;
const MESSAGES = 40;
const SIZE = 100;

async function gatewayWithTraces(receiver: OtlpJsonReceiver, extraEnv: NodeJS.ProcessEnv = {},
  args: string[] = [], listener: Partial<ListenerSpec> = {}): Promise<Stunnerd> {
  const url = (await receiver.start()).replace(/\/v1\/metrics$/, '/v1/traces');
  return startStunnerd({
    listeners: [{ name: LISTENER, routes: [CLUSTER], ...listener }],
    clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
    args,
    env: {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_SERVICE_NAME: 'stunner-traces',
      ...extraEnv,
    },
  });
}

function received(receiver: OtlpJsonReceiver): OtlpSpan[] {
  return receiver.requests.filter((r) => r.path === '/v1/traces').flatMap((r) => spansOf(r.body));
}

test('a call\'s requests and its allocation as spans, linked and parented, from the stunnerd process',
  { timeout: 60_000 }, async () => {
    const receiver = new OtlpJsonReceiver();
    const peer = await startEchoPeer('127.0.0.1');
    let gw: Stunnerd | undefined;
    try {
      gw = await gatewayWithTraces(receiver);
      const port = gw.ports.get(LISTENER)!;
      const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS,
        rtoMs: 5000 });
      const { relayed: [relayed] } = await client.allocate();
      await client.channelBind(CHANNEL, { family: 4, address: '127.0.0.1', port: peer.port });
      // A peer outside every cluster: 403, an error span.
      await assert.rejects(client.createPermission({ family: 4, address: '10.9.8.7', port: 5000 }),
        (e: unknown) => e instanceof TurnClientError && e.code === 403);
      await echoPaced(client, CHANNEL, MESSAGES, SIZE, 5);
      await client.refresh(0);
      client.close();

      const spans = await until('the allocation span', 15_000, async () => {
        const all = received(receiver);
        return all.some((s) => s.name === 'turn.allocation') ? all : undefined;
      });
      const byName = (name: string) => spans.filter((s) => s.name === name);
      // The first Allocate is challenged (401), the second succeeds.
      const allocates = byName('turn.Allocate');
      assert.deepEqual(allocates.map((s) => spanAttributes(s)['turn.response.code']).sort(), [200, 401]);
      const allocate = allocates.find((s) => spanAttributes(s)['turn.response.code'] === 200)!;
      const challenged = allocates.find((s) => s !== allocate)!;
      assert.equal(spanAttributes(challenged)['error.type'], '401');
      assert.equal(spanAttributes(challenged)['turn.error.reason'], 'Unauthenticated');
      const a = spanAttributes(allocate);
      assert.equal(allocate.kind, 2, 'SPAN_KIND_SERVER');
      assert.equal(a['turn.listener'], LISTENER);
      assert.equal(a['network.transport'], 'udp');
      assert.equal(a['turn.transport'], 'udp');
      assert.equal(a['client.address'], '127.0.0.1');
      assert.equal(a['server.address'], '127.0.0.1');
      assert.equal(a['server.port'], port);
      assert.deepEqual(a['turn.relayed.address'], [`${relayed.address}:${relayed.port}`]);
      assert.equal(a['user.name'], undefined, 'usernames are not recorded by default');
      assert.equal(a['error.type'], undefined);

      // Later requests are their own traces, linked to the Allocate span.
      const linked = (s: OtlpSpan) => (s.links ?? []).some((l) => l.traceId === allocate.traceId && l.spanId === allocate.spanId);
      const [bind] = byName('turn.ChannelBind');
      assert.ok(bind !== undefined && linked(bind), 'ChannelBind links to Allocate');
      assert.equal(spanAttributes(bind)['turn.cluster'], CLUSTER);
      assert.equal(spanAttributes(bind)['turn.peer.address'], '127.0.0.1');
      assert.equal(spanAttributes(bind)['turn.peer.port'], peer.port);
      assert.notEqual(bind.traceId, allocate.traceId);
      const [forbidden] = byName('turn.CreatePermission');
      assert.ok(forbidden !== undefined && linked(forbidden));
      assert.equal(spanAttributes(forbidden)['turn.response.code'], 403);
      assert.equal(spanAttributes(forbidden)['error.type'], '403');
      assert.equal(spanAttributes(forbidden)['turn.cluster'], 'forbidden');
      const refresh = byName('turn.Refresh');
      assert.ok(refresh.length >= 1 && refresh.every(linked));

      // The allocation: the Allocate span's child, from its start to the Refresh that ended it.
      const [alloc] = byName('turn.allocation');
      assert.equal(alloc.traceId, allocate.traceId);
      assert.equal(alloc.parentSpanId, allocate.spanId);
      const t = spanAttributes(alloc);
      assert.equal(t['turn.allocation.end_reason'], 'deleted');
      assert.equal(t['turn.allocation.to_peer.packets'], MESSAGES);
      assert.equal(t['turn.allocation.to_peer.bytes'], MESSAGES * SIZE);
      assert.equal(t['turn.allocation.from_peer.packets'], MESSAGES);
      assert.equal(t['turn.allocation.from_peer.bytes'], MESSAGES * SIZE);
      assert.deepEqual(t['turn.peer.addresses'], ['127.0.0.1']);
      assert.deepEqual(t['turn.clusters'], [CLUSTER]);
      assert.ok(BigInt(alloc.endTimeUnixNano) > BigInt(allocate.endTimeUnixNano));
      assert.ok(BigInt(alloc.startTimeUnixNano) <= BigInt(allocate.endTimeUnixNano));
      // The allocation's duration observation carries the allocation span as its exemplar (OpenMetrics).
      assert.deepEqual(await exemplarsOf(gw), [{ traceId: alloc.traceId, spanId: alloc.spanId }]);
      // The resource is the process's.
      const resource = receiver.requests.find((r) => r.path === '/v1/traces')!.body as unknown as
        { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[] };
      const service = resource.resourceSpans[0].resource.attributes.find((x) => x.key === 'service.name');
      assert.equal(service?.value.stringValue, 'stunner-traces');
    } finally {
      await gw?.stop();
      await peer.close();
      await receiver.close();
    }
  });

test('with two workers: spans of both, exemplars combined, and allocations still open at shutdown get their span',
  { timeout: 60_000 }, async () => {
    const receiver = new OtlpJsonReceiver();
    const peer = await startEchoPeer('127.0.0.1');
    let gw: Stunnerd | undefined;
    const clients: TurnClient[] = [];
    try {
      gw = await gatewayWithTraces(receiver, { OTEL_STUNNER_RECORD_USERNAME: 'true' }, ['-u', '2']);
      const port = gw.ports.get(LISTENER)!;
      const SESSIONS = 8;
      for (let i = 0; i < SESSIONS; i++) {
        const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS,
          rtoMs: 5000 });
        clients.push(c);
        await c.allocate();
        await c.channelBind(CHANNEL, { family: 4, address: '127.0.0.1', port: peer.port });
        await echoPaced(c, CHANNEL, 5, SIZE, 2);
      }
      // Half end now; their durations (all in the first bucket) carry the latest of them as the exemplar.
      for (const c of clients.slice(0, SESSIONS / 2)) await c.refresh(0);
      const deleted = await until('the deleted allocations\' spans', 15_000, async () => {
        const a = received(receiver).filter((s) => s.name === 'turn.allocation');
        return a.length === SESSIONS / 2 ? a : undefined;
      });
      const exemplars = await exemplarsOf(gw);
      assert.equal(exemplars.length, 1);
      assert.ok(deleted.some((s) => s.traceId === exemplars[0].traceId && s.spanId === exemplars[0].spanId));
      // SIGTERM with the others open: the drain times out, the gateway stops and ends them.
      await gw.stop();
      gw = undefined;
      const spans = received(receiver);
      const allocations = spans.filter((s) => s.name === 'turn.allocation');
      assert.equal(allocations.length, SESSIONS);
      const reasons = allocations.map((s) => spanAttributes(s)['turn.allocation.end_reason']);
      assert.deepEqual(reasons.sort(), [...Array(SESSIONS / 2).fill('deleted'), ...Array(SESSIONS / 2).fill('shutdown')]);
      const workers = new Set<unknown>();
      for (const s of allocations) {
        const a = spanAttributes(s);
        assert.equal(a['turn.allocation.to_peer.packets'], 5);
        assert.equal(a['user.name'], USER);
        workers.add(a['turn.worker']);
      }
      assert.ok([...workers].every((w) => w === 0 || w === 1));
      // Each one the child of its Allocate span, whichever worker made them.
      const allocates = new Map(spans.filter((s) => s.name === 'turn.Allocate' && spanAttributes(s)['turn.response.code'] === 200)
        .map((s) => [s.spanId, s]));
      assert.equal(allocates.size, SESSIONS);
      for (const s of allocations) assert.equal(allocates.get(s.parentSpanId!)?.traceId, s.traceId);
    } finally {
      for (const c of clients) c.close();
      await gw?.stop();
      await peer.close();
      await receiver.close();
    }
  });

test('a peer port answering ICMP port unreachable: the client hears each error, the allocation span counts them and names the peer',
  { timeout: 60_000 }, async () => {
    const receiver = new OtlpJsonReceiver();
    let gw: Stunnerd | undefined;
    try {
      // Channels get peer links on relay ports the kernel never hands to an ephemeral bind (peerLinksFor).
      const relayPort = await nonEphemeralUdpPort();
      gw = await gatewayWithTraces(receiver, {}, [], { relayPorts: [relayPort, relayPort] });
      const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: gw.ports.get(LISTENER)!,
        username: USER, password: PASS, rtoMs: 5000 });
      const heard: string[] = [];
      client.on('icmp', (icmp, peer) => heard.push(`${icmp.type}/${icmp.code} from ${peer.address}:${peer.port}`));
      const { relayed: [relayed] } = await client.allocate();
      assert.equal(relayed.port, relayPort);
      const closed = await freeUdpPort();
      await client.channelBind(CHANNEL, { family: 4, address: '127.0.0.1', port: closed });
      // At a media-like pace; the first datagram or two leave before the channel's link is connected, unheard.
      const SENT = 30;
      for (let i = 0; i < SENT; i++) {
        client.sendChannel(CHANNEL, Buffer.alloc(SIZE));
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(heard.length >= SENT / 2, `${heard.length} of ${SENT} heard`);
      assert.deepEqual(new Set(heard), new Set([`3/3 from 127.0.0.1:${closed}`]));
      await client.refresh(0);
      client.close();
      const alloc = await until('the allocation span', 15_000, async () =>
        received(receiver).find((s) => s.name === 'turn.allocation'));
      const t = spanAttributes(alloc);
      const counted = t['turn.allocation.peer_unreachable'] as number;
      assert.ok(counted >= heard.length && counted <= SENT, `${counted} counted, ${heard.length} heard`);
      assert.deepEqual(t['turn.peer.unreachable.addresses'], [`127.0.0.1:${closed}`]);
      assert.equal(t['turn.allocation.to_peer.packets'], SENT);
      process.stdout.write(`# ${SENT} sent to a closed port: ${counted} ICMP errors on the span, ${heard.length} heard by the client\n`);
    } finally {
      await gw?.stop();
      await receiver.close();
    }
  });

/** The trace and span ids of the exemplars of stunner_allocation_duration_seconds in an OpenMetrics scrape. */
async function exemplarsOf(gw: Stunnerd): Promise<{ traceId: string; spanId: string }[]> {
  const res = await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`,
    { headers: { accept: 'application/openmetrics-text;version=1.0.0' } });
  assert.match(res.headers.get('content-type') ?? '', /application\/openmetrics-text/);
  const text = await res.text();
  return [...text.matchAll(/^stunner_allocation_duration_seconds_bucket\{[^}]*\} \d+ # \{([^}]*)\}/gm)].map((m) => ({
    traceId: /trace_id="([0-9a-f]{32})"/.exec(m[1])![1],
    spanId: /span_id="([0-9a-f]{16})"/.exec(m[1])![1],
  }));
}
