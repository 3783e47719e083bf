// The documented OTLP path, end to end with the real programs: stunnerd pushes OTLP/HTTP (protobuf) to the
// collector running otel-collector/otlp-to-mimir.yaml unchanged (only its listen addresses moved to loopback and
// a second copy of its remote-write exporter added), which remote-writes to a real Prometheus (standing in for
// Mimir) and to VictoriaMetrics, and serves its prometheus exporter. After a turnutils_uclient run, what each of
// them holds equals a direct scrape of stunnerd's /metrics, exactly, under the same names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusServer } from '../test/deploy/support/prometheus-server.ts';
import { freeTcpPort } from '../test/helpers/process.ts';
import { runUclient, startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import { sorted } from '../test/telemetry-e2e/support/series.ts';
import { startStunnerd, until, type Stunnerd } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../test/telemetry-e2e/support/victoria-metrics.ts';
import { startCollector, type Collector } from './helpers/collector.ts';
import { atVictoriaMetricsPrecision, copyOfExporter, fromExposition, fromPrometheus, fromVictoriaMetrics, type Stored } from './helpers/stored-series.ts';

const CONFIG = 'otel-collector/otlp-to-mimir.yaml';
const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const SESSIONS = 5;
const MESSAGES = 200;
/** The relay counters: what the dashboards' traffic panels read. */
const TRAFFIC = '{__name__=~"stunner_(cluster|listener)_(packets|bytes)_total"}';
const TX = `stunner_cluster_packets_total{cluster=${JSON.stringify(CLUSTER)},direction="tx",name=${JSON.stringify(LISTENER)}}`;

test('stunnerd -> OTLP/HTTP -> otlp-to-mimir.yaml -> remote write: Prometheus and VictoriaMetrics hold the exact counts of stunnerd\'s /metrics',
  { timeout: 180_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stunner-stack-otlp-'));
    let prom: PrometheusServer | undefined;
    let vm: VictoriaMetrics | undefined;
    let collector: Collector | undefined;
    let gw: Stunnerd | undefined;
    let peer: EchoPeerProc | undefined;
    try {
      prom = await PrometheusServer.start({ dir, job: 'unused', targets: [], scrapeIntervalS: 1, remoteWriteReceiver: true });
      vm = await startVictoriaMetrics();
      collector = await startCollector({
        config: { file: CONFIG },
        overrides: [copyOfExporter(CONFIG, 'prometheusremotewrite/mimir', 'prometheusremotewrite/victoriametrics', `${vm.base}/api/v1/write`)],
        // Nothing listens on the Tempo address: the traces pipeline is not under test.
        env: { MIMIR_REMOTE_WRITE_URL: prom.writeUrl, TEMPO_OTLP_ENDPOINT: `127.0.0.1:${await freeTcpPort()}`,
          DEPLOYMENT_ENVIRONMENT: 'stack-test' },
      });
      gw = await startStunnerd({
        listeners: [{ name: LISTENER, routes: [CLUSTER] }],
        clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_METRIC_EXPORT_INTERVAL: '1000',
          // Spans are another test's subject; here they would only fill the collector's log with retries to Tempo.
          OTEL_TRACES_EXPORTER: 'none' },
      });
      peer = await startTurnutilsPeer();

      const result = await runUclient({ port: gw.ports.get(LISTENER)!, peerPort: peer.port, sessions: SESSIONS,
        messages: MESSAGES, size: 100, intervalMs: 10 }).done;
      const stoppedAt = Date.now();
      assert.equal(result.code, 0, result.output);
      assert.equal(result.sent, SESSIONS * MESSAGES, result.output.slice(-2000));
      assert.equal(result.lost, 0, result.output.slice(-2000));

      // The counters are final now. A push collected after this moment reaches the backends after the collector's
      // batch timeout (5 s in the file).
      const gw1 = gw;
      const scraped = fromExposition(await gw1.scrape(), 'stunner_');
      assert.equal(scraped.get(TX), result.sent, 'stunnerd counted every message uclient sent');
      const failed = (err: Error): never => {
        throw new Error(`${err.message}\ncollector:\n${collector?.output().slice(-4000)}\nstunnerd:\n${gw1.proc.output().slice(-2000)}`);
      };
      const p = prom;
      const inProm = await until('Prometheus to get a push collected after the traffic', 30_000, async () => {
        const s = await fromPrometheus(p, TRAFFIC);
        return s.latestMs > stoppedAt ? s : undefined;
      }).catch(failed);
      const v = vm;
      const inVm = await until('VictoriaMetrics to get a push collected after the traffic', 30_000, async () => {
        const s = await fromVictoriaMetrics(v, TRAFFIC);
        return s.latestMs > stoppedAt ? s : undefined;
      }).catch(failed);

      const traffic = new Map([...scraped].filter(([k]) => /^stunner_(cluster|listener)_(packets|bytes)_total\{/.test(k)));
      assert.ok(traffic.size >= 8, `rx/tx packets/bytes of the listener and the cluster: ${[...traffic.keys()].join(' ')}`);
      const check = (backend: string, stored: Stored): void => {
        assert.deepEqual(sorted(stored.series), sorted(traffic), `${backend}: the relay counters`);
        // job = service.name, instance = service.instance.id (remote write's mapping, which the dashboards rely on).
        assert.equal(stored.targets.size, 1, [...stored.targets].join(' '));
        assert.match([...stored.targets][0], /^stunner\/[0-9a-f-]{36}$/, `${backend}: job/instance`);
      };
      check('Prometheus', inProm);
      check('VictoriaMetrics', inVm);

      // Every other gateway family too (gauges and histograms as well as counters), now that nothing moves.
      const all = await fromPrometheus(p, '{__name__=~"stunner_.+"}');
      assert.deepEqual(sorted(all.series), sorted(scraped), 'Prometheus: every stunner_ series');
      assert.deepEqual(sorted(atVictoriaMetricsPrecision((await fromVictoriaMetrics(v, '{__name__=~"stunner_.+"}')).series)),
        sorted(atVictoriaMetricsPrecision(scraped)), 'VictoriaMetrics: every stunner_ series');
      // target_info carries the resource attributes the series do not (resource_to_telemetry_conversion is off).
      const info = await p.query('target_info');
      assert.equal(info.result.length, 1, JSON.stringify(info.result));
      assert.equal(info.result[0].metric['deployment_environment_name'], 'stack-test', JSON.stringify(info.result[0].metric));

      // The prometheus exporter of the same collector serves the same series.
      const exported = await (await fetch(`http://${collector.endpoint('exporters.prometheus')}/metrics`)).text();
      assert.deepEqual(sorted(fromExposition(exported, 'stunner_')), sorted(scraped), 'the prometheus exporter (:8889)');
      t.diagnostic(`uclient sent ${result.sent}; ${scraped.size} stunner_ series equal in Prometheus, VictoriaMetrics and the exporter`);
    } finally {
      await peer?.stop();
      await gw?.stop();
      await collector?.stop();
      await vm?.stop();
      await prom?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
