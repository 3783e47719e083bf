// Traces while the collector goes away and comes back: allocations keep being made and ended at a high rate
// (every one a handful of spans, every span sampled) while turnutils_uclient relays. The relay does not notice
// (no message lost), stunnerd's memory stays bounded while its span exports fail (the batch processor's queue
// holds at most OTEL_BSP_MAX_QUEUE_SIZE spans, the rest are dropped), the failures are logged, and once the
// collector is back the spans of new allocations reach Jaeger again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient, TurnClientError } from '../src/client/turn-client.ts';
import { freeTcpPort } from '../test/helpers/process.ts';
import { sample } from '../test/telemetry-e2e/support/exposition.ts';
import { runUclient, startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import { PASS, USER, startStunnerd, until, type Stunnerd } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startCollector, type Collector } from './helpers/collector.ts';
import { startJaeger, type Jaeger } from './helpers/jaeger.ts';

const CONFIG = 'otel-collector/otlp-to-mimir.yaml';
const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const SESSIONS = 3;
/** About 25 s of traffic per session at one message per 10 ms, around a 10 s outage. */
const MESSAGES = 2500;
const OUTAGE_MS = 10_000;
const QUEUE = 512;
const MiB = 1024 * 1024;

interface Memory { rss: number; heapUsed: number }

async function memory(gw: Stunnerd): Promise<Memory> {
  const text = await gw.scrape();
  return { rss: sample(text, 'process_resident_memory_bytes'), heapUsed: sample(text, 'nodejs_heap_size_used_bytes') };
}

/**
 * Makes and ends allocations one after another (Allocate with its 401, a ChannelBind, Refresh 0) for `ms`.
 * turnutils_uclient leaves one allocation per session behind (it never deletes the first, asked for with a 777 s
 * lifetime) and closes its socket, so the kernel may give a later client here that local port: that 5-tuple still
 * has an allocation, and RFC 8656 §7.2 answers it 437. The client then does what §6.3 suggests (and uclient does,
 * "trying allocate again 437"): it tries again from another local port. Those are counted in `mismatches`.
 */
async function churn(port: number, peerPort: number, ms: number, mismatches: number[]): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS, rtoMs: 2000 });
    try {
      try {
        await c.allocate();
      } catch (err) {
        if (!(err instanceof TurnClientError) || err.code !== 437) throw err;
        mismatches.push(c.transport.localAddress.port);
        continue;
      }
      await c.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: peerPort });
      await c.refresh(0);
      n++;
    } finally {
      c.close();
    }
  }
  return n;
}

test('collector stopped and restarted while allocations churn: no message lost, memory bounded, spans resume',
  { timeout: 240_000 }, async (t) => {
    let jaeger: Jaeger | undefined;
    let collector: Collector | undefined;
    let gw: Stunnerd | undefined;
    let peer: EchoPeerProc | undefined;
    try {
      jaeger = await startJaeger();
      collector = await startCollector({ config: { file: CONFIG }, env: {
        // Metrics are not under test here: their remote write goes nowhere.
        MIMIR_REMOTE_WRITE_URL: `http://127.0.0.1:${await freeTcpPort()}/api/v1/write`,
        TEMPO_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
      } });
      gw = await startStunnerd({
        listeners: [{ name: LISTENER, routes: [CLUSTER] }],
        clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BSP_MAX_QUEUE_SIZE: String(QUEUE),
          OTEL_EXPORTER_OTLP_TIMEOUT: '2000' },
      });
      peer = await startTurnutilsPeer();
      const [j, c, g, port, peerPort] = [jaeger, collector, gw, gw.ports.get(LISTENER)!, peer.port];
      const allocationSpans = async (): Promise<{ startUs: number }[]> =>
        (await j.traces('stunner', { operation: 'turn.allocation', limit: 5000 })).flatMap((tr) => tr.spans)
          .filter((s) => s.operationName === 'turn.allocation').map((s) => ({ startUs: s.startTime }));

      const mismatches: number[] = [];
      const load = runUclient({ port, peerPort, sessions: SESSIONS, messages: MESSAGES, size: 100, intervalMs: 10,
        timeoutS: 120 });
      const first = await churn(port, peerPort, 2000, mismatches);
      await until('the first allocations\' spans in Jaeger', 30_000, async () =>
        (await allocationSpans()).length >= first ? true : undefined);
      const before = await memory(g);

      const stoppedAt = Date.now();
      await c.stop();
      let peak = before;
      let during = 0;
      while (Date.now() - stoppedAt < OUTAGE_MS) {
        during += await churn(port, peerPort, 1000, mismatches);
        const m = await memory(g);
        peak = { rss: Math.max(peak.rss, m.rss), heapUsed: Math.max(peak.heapUsed, m.heapUsed) };
      }
      // Each allocation is five spans or more: far more than the queue holds.
      assert.ok(during * 5 > QUEUE, `${during} allocations during the outage`);
      await until('stunnerd to log the failed exports', 15_000, async () =>
        /trace export failed/.test(g.proc.output()) ? true : undefined);

      const restartedAt = Date.now();
      await c.restart();
      await churn(port, peerPort, 2000, mismatches);
      await until('spans of allocations made after the restart in Jaeger', 30_000, async () =>
        (await allocationSpans()).some((s) => s.startUs / 1000 > restartedAt) ? true : undefined);

      const result = await load.done;
      assert.ok(Date.now() > restartedAt);
      assert.equal(result.code, 0, result.output.slice(-2000));
      assert.equal(result.sent, SESSIONS * MESSAGES, result.output.slice(-2000));
      assert.equal(result.lost, 0, result.output.slice(-2000));
      // Only the local ports of uclient's left-behind allocations can meet a 437: one per session at most.
      assert.ok(mismatches.length <= SESSIONS, `437 on local ports ${mismatches.join(', ')}`);
      t.diagnostic(`${first} + ${during} (outage) allocations (${mismatches.length} retried after 437); rss ${(before.rss / MiB).toFixed(1)} -> peak `
        + `${(peak.rss / MiB).toFixed(1)} MiB; heap used ${(before.heapUsed / MiB).toFixed(1)} -> peak `
        + `${(peak.heapUsed / MiB).toFixed(1)} MiB during the outage`);
      assert.ok(peak.rss - before.rss < 64 * MiB, `RSS grew by ${((peak.rss - before.rss) / MiB).toFixed(1)} MiB`);
      assert.ok(peak.heapUsed - before.heapUsed < 32 * MiB,
        `heap used grew by ${((peak.heapUsed - before.heapUsed) / MiB).toFixed(1)} MiB`);
    } finally {
      await peer?.stop();
      await gw?.stop();
      await collector?.stop();
      await jaeger?.stop();
    }
  });
