// The documented trace path, end to end with the real programs: stunnerd pushes OTLP/HTTP (protobuf, the default)
// metrics and spans to the collector running otel-collector/otlp-to-mimir.yaml unchanged (listen addresses moved
// to loopback), whose traces pipeline exports to Jaeger v2 (standing in for Tempo, over the same OTLP/gRPC) and
// whose metrics go to a real Prometheus with exemplar storage by remote write. After a turnutils_uclient run with
// channels, Jaeger's query API returns every Allocate, ChannelBind and turn.allocation span with its attributes,
// parents and links, their relay totals equal stunnerd's counters, and the exemplars Prometheus stored point at
// allocation spans Jaeger holds. A headless Chromium call gives its allocation spans too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusServer } from '../test/deploy/support/prometheus-server.ts';
import { HANG_UP, startCall, VIDEO, type Video } from '../test/helpers/browser-call.ts';
import { Chromium } from '../test/helpers/chromium.ts';
import { runUclient, startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import { PASS, USER, startStunnerd, until, type Stunnerd } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startCollector, type Collector } from './helpers/collector.ts';
import { startJaeger, type Jaeger, type JaegerSpan, type JaegerTrace } from './helpers/jaeger.ts';
import { fromExposition } from './helpers/stored-series.ts';

const CONFIG = 'otel-collector/otlp-to-mimir.yaml';
const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const SESSIONS = 4;
const MESSAGES = 100;
const SIZE = 120;
const SERVICE = 'stunner';

interface Stack {
  readonly dir: string;
  readonly jaeger: Jaeger;
  readonly prom: PrometheusServer;
  readonly collector: Collector;
}

async function startStack(name: string): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), `stunner-stack-${name}-`));
  const jaeger = await startJaeger();
  const prom = await PrometheusServer.start({ dir, job: 'unused', targets: [], scrapeIntervalS: 1, remoteWriteReceiver: true,
    exemplars: true });
  const collector = await startCollector({ config: { file: CONFIG }, env: {
    MIMIR_REMOTE_WRITE_URL: prom.writeUrl, TEMPO_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint, DEPLOYMENT_ENVIRONMENT: 'stack-test',
  } });
  return { dir, jaeger, prom, collector };
}

async function stopStack(s: Partial<Stack>): Promise<void> {
  await s.collector?.stop();
  await s.prom?.stop();
  await s.jaeger?.stop();
  if (s.dir !== undefined) rmSync(s.dir, { recursive: true, force: true });
}

function tracedGateway(collector: Collector, listener: { name: string; port?: number } = { name: LISTENER }): Promise<Stunnerd> {
  return startStunnerd({
    listeners: [{ ...listener, routes: [CLUSTER] }],
    clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '500' },
  });
}

const tag = (s: JaegerSpan, key: string): unknown => s.tags.find((t) => t.key === key)?.value;
const spans = (traces: readonly JaegerTrace[]): JaegerSpan[] => traces.flatMap((t) => t.spans);
const byOperation = (all: readonly JaegerSpan[], name: string) => all.filter((s) => s.operationName === name);

test('uclient through stunnerd -> collector -> Jaeger: Allocate, ChannelBind and turn.allocation spans with attributes, '
  + 'parents, links and relay totals; Prometheus\'s exemplars point at them', { timeout: 240_000 }, async () => {
  let stack: Partial<Stack> = {};
  let gw: Stunnerd | undefined;
  let peer: EchoPeerProc | undefined;
  try {
    stack = await startStack('traces');
    const { jaeger, prom, collector } = stack as Stack;
    gw = await tracedGateway(collector);
    peer = await startTurnutilsPeer();
    const result = await runUclient({ port: gw.ports.get(LISTENER)!, peerPort: peer.port, sessions: SESSIONS,
      messages: MESSAGES, size: SIZE, intervalMs: 10 }).done;
    assert.equal(result.code, 0, result.output);
    assert.equal(result.lost, 0, result.output.slice(-2000));
    const scraped = fromExposition(await gw.scrape(), 'stunner_');
    const tx = scraped.get(`stunner_cluster_packets_total{cluster="${CLUSTER}",direction="tx",name="${LISTENER}"}`);
    assert.equal(tx, result.sent);
    // Every allocation has ended by now (uclient deletes its own), or ends with the shutdown; the last spans go
    // out before the process exits.
    await gw.stop();
    gw = undefined;

    const all = await until('every allocation span in Jaeger', 60_000, async () => {
      const got = spans(await jaeger.traces(SERVICE, { limit: 1000 }));
      const made = byOperation(got, 'turn.Allocate').filter((s) => tag(s, 'turn.response.code') === 200).length;
      return made >= SESSIONS && byOperation(got, 'turn.allocation').length === made ? got : undefined;
    });
    const allocates = byOperation(all, 'turn.Allocate').filter((s) => tag(s, 'turn.response.code') === 200);
    const allocations = byOperation(all, 'turn.allocation');
    assert.equal(allocations.length, allocates.length, 'one allocation span per successful Allocate');
    assert.ok(allocates.length >= SESSIONS);
    assert.ok(byOperation(all, 'turn.Allocate').some((s) => tag(s, 'turn.response.code') === 401), 'the challenges too');
    const allocateIds = new Set(allocates.map((s) => s.spanID));
    for (const s of allocates) {
      assert.equal(tag(s, 'span.kind'), 'server');
      assert.equal(tag(s, 'turn.listener'), LISTENER);
      assert.equal(tag(s, 'network.transport'), 'udp');
      assert.equal(tag(s, 'client.address'), '127.0.0.1');
      assert.match(String(tag(s, 'turn.relayed.address')), /127\.0\.0\.1:\d+/);
      assert.equal(tag(s, 'user.name'), undefined);
    }
    // The allocation spans: children of their Allocate spans, in their traces.
    for (const s of allocations) {
      const parent = s.references.find((r) => r.refType === 'CHILD_OF');
      assert.ok(parent !== undefined && allocateIds.has(parent.spanID) && parent.traceID === s.traceID);
      assert.ok(['deleted', 'shutdown'].includes(String(tag(s, 'turn.allocation.end_reason'))));
      // uclient also makes allocations it never relays over (no permission, so no peer and no cluster).
      const clusters = JSON.parse(String(tag(s, 'turn.clusters'))) as string[];
      assert.deepEqual(clusters, Number(tag(s, 'turn.allocation.to_peer.packets')) > 0 ? [CLUSTER] : clusters.slice(0, 1),
        JSON.stringify(s.tags));
    }
    // What the allocation spans say they relayed is what stunnerd counted and uclient sent.
    const toPeer = allocations.reduce((n, s) => n + Number(tag(s, 'turn.allocation.to_peer.packets')), 0);
    assert.equal(toPeer, result.sent);
    const toPeerBytes = allocations.reduce((n, s) => n + Number(tag(s, 'turn.allocation.to_peer.bytes')), 0);
    assert.equal(toPeerBytes, result.sent * SIZE);
    // ChannelBind: its own trace, linked (FOLLOWS_FROM) to the allocation's Allocate span, naming the cluster.
    const binds = byOperation(all, 'turn.ChannelBind').filter((s) => tag(s, 'turn.response.code') === 200);
    assert.ok(binds.length >= SESSIONS);
    for (const s of binds) {
      const link = s.references.find((r) => r.refType === 'FOLLOWS_FROM');
      assert.ok(link !== undefined && allocateIds.has(link.spanID), JSON.stringify(s.references));
      assert.notEqual(s.traceID, link.traceID);
      assert.equal(tag(s, 'turn.cluster'), CLUSTER);
    }
    // The resource: the collector's resource processor added the environment.
    const trace = await jaeger.trace(allocations[0].traceID);
    const process = trace!.processes[allocations[0].processID];
    assert.equal(process.serviceName, SERVICE);
    assert.ok(process.tags.some((t) => t.key === 'deployment.environment.name' && t.value === 'stack-test'));

    // Exemplars, pushed over OTLP and remote-written by the collector, name allocation spans Jaeger holds.
    const allocationIds = new Map(allocations.map((s) => [s.spanID, s.traceID]));
    const nowS = Date.now() / 1000;
    const stored = await until('exemplars in Prometheus', 60_000, async () => {
      const e = (await prom.exemplars('stunner_allocation_duration_seconds_bucket', nowS - 600, nowS + 60))
        .flatMap((series) => series.exemplars);
      return e.length > 0 ? e : undefined;
    });
    for (const e of stored) {
      assert.equal(allocationIds.get(e.labels.span_id), e.labels.trace_id, JSON.stringify(e));
    }
  } finally {
    await gw?.stop();
    await peer?.stop();
    await stopStack(stack);
  }
});

test('a headless Chromium call over TURN-UDP gives its allocation spans in Jaeger', { timeout: 180_000 }, async () => {
  let stack: Partial<Stack> = {};
  let gw: Stunnerd | undefined;
  let browser: Chromium | undefined;
  try {
    stack = await startStack('chromium');
    const { jaeger, collector } = stack as Stack;
    gw = await tracedGateway(collector);
    browser = await Chromium.launch();
    const page = await browser.newPage();
    await page.evaluate(startCall(`turn:127.0.0.1:${gw.ports.get(LISTENER)}?transport=udp`, USER, PASS));
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const video = await page.evaluate<Video>(VIDEO);
    await page.evaluate(HANG_UP);
    await page.close();
    assert.equal(video.ice, 'connected');
    assert.ok(video.frames > 0);
    await gw.stop();
    gw = undefined;

    const all = await until('the call\'s allocation spans in Jaeger', 60_000, async () => {
      const got = spans(await jaeger.traces(SERVICE, { limit: 1000 }));
      return byOperation(got, 'turn.allocation').length >= 2 ? got : undefined;
    });
    const allocations = byOperation(all, 'turn.allocation');
    // Both peers relayed through the gateway: the media went out of one relay and in at the other.
    const relayed = allocations.filter((s) => Number(tag(s, 'turn.allocation.to_peer.bytes')) > 0
      && Number(tag(s, 'turn.allocation.from_peer.bytes')) > 0);
    assert.ok(relayed.length >= 2, allocations.map((s) => JSON.stringify(s.tags)).join('\n'));
    const sent = relayed.reduce((n, s) => n + Number(tag(s, 'turn.allocation.to_peer.bytes')), 0);
    assert.ok(sent >= video.bytes, `the relays sent ${sent} B, the receiver got ${video.bytes} B of video`);
    for (const s of allocations) {
      assert.equal(tag(s, 'turn.transport'), 'udp');
      assert.equal(tag(s, 'turn.listener'), LISTENER);
    }
  } finally {
    await browser?.close();
    await gw?.stop();
    await stopStack(stack);
  }
});
