// The documented scrape path, end to end with the real programs: the collector running
// otel-collector/scrape-stunnerd.yaml unchanged (listen addresses moved to loopback, a second copy of its
// remote-write exporter added) scrapes stunnerd's /metrics every 15 s and remote-writes to a real Prometheus and
// to VictoriaMetrics. After a turnutils_uclient run, both hold stunnerd's series under the names of its /metrics,
// with the exact values of a direct scrape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusServer } from '../test/deploy/support/prometheus-server.ts';
import { runUclient, startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import { sorted } from '../test/telemetry-e2e/support/series.ts';
import { startStunnerd, until, type Stunnerd } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../test/telemetry-e2e/support/victoria-metrics.ts';
import { startCollector, type Collector } from './helpers/collector.ts';
import { atVictoriaMetricsPrecision, copyOfExporter, fromExposition, fromPrometheus, fromVictoriaMetrics, type Stored } from './helpers/stored-series.ts';

const CONFIG = 'otel-collector/scrape-stunnerd.yaml';
const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const SESSIONS = 5;
const MESSAGES = 200;
/** The file's scrape interval. */
const SCRAPE_S = 15;

test('collector scraping stunnerd (scrape-stunnerd.yaml) -> remote write: Prometheus and VictoriaMetrics hold the exact values of its /metrics',
  { timeout: 240_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stunner-stack-scrape-'));
    let prom: PrometheusServer | undefined;
    let vm: VictoriaMetrics | undefined;
    let collector: Collector | undefined;
    let gw: Stunnerd | undefined;
    let peer: EchoPeerProc | undefined;
    try {
      prom = await PrometheusServer.start({ dir, job: 'unused', targets: [], scrapeIntervalS: 1, remoteWriteReceiver: true });
      vm = await startVictoriaMetrics();
      gw = await startStunnerd({
        listeners: [{ name: LISTENER, routes: [CLUSTER] }],
        clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
      });
      const target = `127.0.0.1:${gw.metricsPort}`;
      collector = await startCollector({
        config: { file: CONFIG },
        overrides: [copyOfExporter(CONFIG, 'prometheusremotewrite/mimir', 'prometheusremotewrite/victoriametrics', `${vm.base}/api/v1/write`)],
        env: { MIMIR_REMOTE_WRITE_URL: prom.writeUrl, STUNNERD_METRICS_TARGET: target, DEPLOYMENT_ENVIRONMENT: 'stack-test' },
      });
      peer = await startTurnutilsPeer();

      const result = await runUclient({ port: gw.ports.get(LISTENER)!, peerPort: peer.port, sessions: SESSIONS,
        messages: MESSAGES, size: 100, intervalMs: 10 }).done;
      const stoppedAt = Date.now();
      assert.equal(result.code, 0, result.output);
      assert.equal(result.sent, SESSIONS * MESSAGES, result.output.slice(-2000));
      assert.equal(result.lost, 0, result.output.slice(-2000));

      const scraped = fromExposition(await gw.scrape(), 'stunner_');
      const tx = `stunner_cluster_packets_total{cluster=${JSON.stringify(CLUSTER)},direction="tx",name=${JSON.stringify(LISTENER)}}`;
      assert.equal(scraped.get(tx), result.sent, 'stunnerd counted every message uclient sent');

      // The next scrape after the traffic (within 15 s) reaches the backends after the batch timeout (5 s).
      const failed = (err: Error): never => {
        throw new Error(`${err.message}\ncollector:\n${collector?.output().slice(-4000)}`);
      };
      const p = prom;
      const v = vm;
      const deadline = (SCRAPE_S + 5) * 1000 + 30_000;
      const inProm = await until('Prometheus to get a scrape taken after the traffic', deadline, async () => {
        const s = await fromPrometheus(p, '{__name__=~"stunner_.+"}');
        return s.latestMs > stoppedAt ? s : undefined;
      }).catch(failed);
      const inVm = await until('VictoriaMetrics to get a scrape taken after the traffic', 30_000, async () => {
        const s = await fromVictoriaMetrics(v, '{__name__=~"stunner_.+"}');
        return s.latestMs > stoppedAt ? s : undefined;
      }).catch(failed);

      const check = (backend: string, stored: Stored, precision = (m: Map<string, number>) => m): void => {
        assert.deepEqual(sorted(precision(stored.series)), sorted(precision(scraped)), `${backend}: every stunner_ series, by its /metrics name`);
        // job from the scrape config, instance = the scraped address: what a Prometheus scraping stunnerd would store.
        assert.deepEqual([...stored.targets], [`stunner/${target}`], backend);
      };
      check('Prometheus', inProm);
      check('VictoriaMetrics', inVm, atVictoriaMetricsPrecision);
      t.diagnostic(`uclient sent ${result.sent}; ${scraped.size} stunner_ series equal in Prometheus and VictoriaMetrics`);
    } finally {
      await peer?.stop();
      await collector?.stop();
      await gw?.stop();
      await vm?.stop();
      await prom?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
