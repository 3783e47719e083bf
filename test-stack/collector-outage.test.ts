// The collector goes away in the middle of a turnutils_uclient run and comes back: the relay does not notice (no
// message lost, stunnerd's counters equal what uclient sent), stunnerd's memory stays bounded while its pushes
// fail, and once the collector is back the pushes resume: new samples reach Prometheus and the final counts there
// are exact (the counters are cumulative, so the first push after the outage carries everything sent meanwhile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusServer } from '../test/deploy/support/prometheus-server.ts';
import { freeTcpPort } from '../test/helpers/process.ts';
import { sample } from '../test/telemetry-e2e/support/exposition.ts';
import { runUclient, startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import { sorted } from '../test/telemetry-e2e/support/series.ts';
import { startStunnerd, until, type Stunnerd } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startCollector, type Collector } from './helpers/collector.ts';
import { fromExposition, fromPrometheus } from './helpers/stored-series.ts';

const CONFIG = 'otel-collector/otlp-to-mimir.yaml';
const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const SESSIONS = 5;
/** 3,000 messages every 10 ms: about 30 s of traffic per session, around a 12 s outage. */
const MESSAGES = 3000;
const OUTAGE_MS = 12_000;
const EXPORT_INTERVAL_MS = 500;
const TRAFFIC = '{__name__=~"stunner_(cluster|listener)_(packets|bytes)_total"}';
const TX = `stunner_cluster_packets_total{cluster=${JSON.stringify(CLUSTER)},direction="tx",name=${JSON.stringify(LISTENER)}}`;
const RX = TX.replace('direction="tx"', 'direction="rx"');
const MiB = 1024 * 1024;

interface Memory { rss: number; heapUsed: number }

async function memory(gw: Stunnerd): Promise<Memory> {
  const text = await gw.scrape();
  return { rss: sample(text, 'process_resident_memory_bytes'), heapUsed: sample(text, 'nodejs_heap_size_used_bytes') };
}

test('collector stopped and restarted during a uclient run: no message lost, memory bounded, pushes resume with exact counts',
  { timeout: 240_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stunner-stack-outage-'));
    let prom: PrometheusServer | undefined;
    let collector: Collector | undefined;
    let gw: Stunnerd | undefined;
    let peer: EchoPeerProc | undefined;
    try {
      prom = await PrometheusServer.start({ dir, job: 'unused', targets: [], scrapeIntervalS: 1, remoteWriteReceiver: true });
      collector = await startCollector({
        config: { file: CONFIG },
        env: { MIMIR_REMOTE_WRITE_URL: prom.writeUrl, TEMPO_OTLP_ENDPOINT: `127.0.0.1:${await freeTcpPort()}` },
      });
      gw = await startStunnerd({
        listeners: [{ name: LISTENER, routes: [CLUSTER] }],
        clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_METRIC_EXPORT_INTERVAL: String(EXPORT_INTERVAL_MS),
          OTEL_TRACES_EXPORTER: 'none' },
      });
      peer = await startTurnutilsPeer();
      const [p, c, g] = [prom, collector, gw];
      const failed = (err: Error): never => {
        throw new Error(`${err.message}\ncollector:\n${c.output().slice(-4000)}\nstunnerd:\n${g.proc.output().slice(-2000)}`);
      };

      const load = runUclient({ port: g.ports.get(LISTENER)!, peerPort: peer.port, sessions: SESSIONS, messages: MESSAGES,
        size: 100, intervalMs: 10, timeoutS: 150 });
      // Traffic counted in Prometheus: the pushes flow.
      await until('relayed packets in Prometheus', 30_000, async () => {
        const s = await fromPrometheus(p, TRAFFIC);
        return (s.series.get(TX) ?? 0) > 0 ? true : undefined;
      }).catch(failed);
      const before = await memory(g);

      const stoppedAt = Date.now();
      const code = await c.stop();
      assert.equal(code, 0, `the collector shuts down cleanly on SIGTERM\n${c.output().slice(-4000)}`);
      // The outage: stunnerd's pushes are refused; sample its memory meanwhile.
      let peak: Memory = before;
      while (Date.now() - stoppedAt < OUTAGE_MS) {
        await new Promise((r) => setTimeout(r, 1000));
        const m = await memory(g);
        peak = { rss: Math.max(peak.rss, m.rss), heapUsed: Math.max(peak.heapUsed, m.heapUsed) };
      }
      const lastBefore = (await fromPrometheus(p, TRAFFIC)).latestMs;
      assert.ok(lastBefore < stoppedAt + 5_000, 'nothing arrived while the collector was down');
      assert.match(g.proc.output(), /OTLP metrics export failed/, 'stunnerd saw its pushes fail');

      const restartedAt = Date.now();
      await c.restart();
      await until('a push after the restart in Prometheus', 30_000, async () => {
        const s = await fromPrometheus(p, TRAFFIC);
        return s.latestMs > restartedAt ? true : undefined;
      }).catch(failed);

      const result = await load.done;
      const endedAt = Date.now();
      assert.ok(endedAt > restartedAt, `the uclient run outlasted the outage (ended ${endedAt - restartedAt} ms before the restart)`);
      assert.equal(result.code, 0, result.output.slice(-2000));
      assert.equal(result.sent, SESSIONS * MESSAGES, result.output.slice(-2000));
      assert.equal(result.received, result.sent, result.output.slice(-2000));
      assert.equal(result.lost, 0, result.output.slice(-2000));
      const scraped = fromExposition(await g.scrape(), 'stunner_');
      assert.equal(scraped.get(TX), result.sent, 'every message uclient sent was relayed to the peer');
      assert.equal(scraped.get(RX), result.sent, 'and every echo back');

      const final = await until('Prometheus to get a push collected after the traffic', 30_000, async () => {
        const s = await fromPrometheus(p, TRAFFIC);
        return s.latestMs > endedAt ? s : undefined;
      }).catch(failed);
      const traffic = new Map([...scraped].filter(([k]) => /^stunner_(cluster|listener)_(packets|bytes)_total\{/.test(k)));
      assert.deepEqual(sorted(final.series), sorted(traffic));

      // Failed pushes hold on to nothing: a cumulative reader keeps no backlog, and the exporter's retries end
      // within its timeout. The margins cover a garbage collector that has not run yet.
      t.diagnostic(`rss ${(before.rss / MiB).toFixed(1)} -> peak ${(peak.rss / MiB).toFixed(1)} MiB; `
        + `heap used ${(before.heapUsed / MiB).toFixed(1)} -> peak ${(peak.heapUsed / MiB).toFixed(1)} MiB during the outage`);
      assert.ok(peak.rss - before.rss < 64 * MiB, `RSS grew by ${((peak.rss - before.rss) / MiB).toFixed(1)} MiB during the outage`);
      assert.ok(peak.heapUsed - before.heapUsed < 32 * MiB,
        `heap used grew by ${((peak.heapUsed - before.heapUsed) / MiB).toFixed(1)} MiB during the outage`);
    } finally {
      await peer?.stop();
      await gw?.stop();
      await collector?.stop();
      await prom?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
