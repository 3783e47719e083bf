// A real Prometheus (2.53, --enable-feature=exemplar-storage, its default scrape protocols) scrapes a gateway's
// metrics endpoint: it negotiates OpenMetrics, reads the whole exposition (a parse error anywhere fails the scrape),
// and stores the allocation-duration exemplar, which /api/v1/query_exemplars then returns with its trace id, span
// id, value and time. The gateway runs in-process with a real allocation ended through it; until tracing hands the
// histogram its spans, the exemplar is recorded into the listener's histogram here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TurnClient } from '../../src/client/turn-client.ts';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { startChild, waitFor, type Child } from '../deploy/support/child.ts';
import { portOf, startGateway } from '../helpers/gateway.ts';
import { freeTcpPort } from '../helpers/process.ts';
import { FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';
import { requireTool } from './helpers/tools.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

interface ExemplarAnswer {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

async function api<T>(base: string, path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  const json = (await res.json()) as { status: string; data?: T; error?: string };
  if (json.status !== 'success') throw new Error(`${path}: ${json.error ?? res.status}`);
  return json.data as T;
}

async function startPrometheus(dir: string, target: string): Promise<{ child: Child; url: string }> {
  const port = await freeTcpPort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'prometheus.yml');
  // No scrape_protocols: Prometheus's default Accept (OpenMetrics 1.0.0 first) is what is tested.
  writeFileSync(config, [
    'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s',
    'scrape_configs:', '  - job_name: stunner', '    static_configs:', `      - targets: ['${target}']`, '',
  ].join('\n'));
  const child = startChild('prometheus', requireTool('prometheus'), [
    `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--enable-feature=exemplar-storage', '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined),
    { timeoutMs: 30_000, child });
  return { child, url };
}

test('Prometheus with exemplar storage scrapes OpenMetrics and returns the allocation-duration exemplar',
  { timeout: 120_000 }, async (t) => {
    const gw = await startGateway();
    const telemetry = new Telemetry({ registry: gw.registry, logger: capturingLogger().factory, status: new FakeStatus(),
      env: {}, version: '1.2.3' });
    const dir = mkdtempSync(join(tmpdir(), 'stunner-exemplars-'));
    let prometheus: { child: Child; url: string } | undefined;
    let client: TurnClient | undefined;
    try {
      await telemetry.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
      const target = `127.0.0.1:${telemetry.address('admin.metrics_endpoint')?.port}`;

      // A real allocation ends (its lifetime is counted, without an exemplar: no tracing here) ...
      client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: portOf(gw), username: 'user1',
        password: 'pass1' });
      await client.allocate();
      assert.equal(await client.refresh(0), 0);
      const h = gw.registry.listener('udp').allocationDuration;
      assert.equal(h.count, 1);
      // ... and one whose sampled span the tracer would hand over.
      const recordedAt = Date.now();
      h.record(42.5, { traceId: TRACE, spanId: SPAN });

      prometheus = await startPrometheus(dir, target);
      const prom = prometheus.url;
      const answer = await waitFor('the exemplar in Prometheus', async () => {
        const now = Date.now() / 1000;
        const data = await api<ExemplarAnswer[]>(prom, '/api/v1/query_exemplars',
          { query: 'stunner_allocation_duration_seconds_bucket', start: String(now - 600), end: String(now + 60) });
        return data.length > 0 ? data : undefined;
      }, { timeoutMs: 30_000, child: prometheus.child });
      t.diagnostic(`query_exemplars: ${JSON.stringify(answer)}`);

      assert.equal(answer.length, 1, 'one bucket series has an exemplar');
      const [series] = answer;
      assert.deepEqual(series.seriesLabels, { __name__: 'stunner_allocation_duration_seconds_bucket', instance: target,
        job: 'stunner', name: 'udp', le: '60.0' });
      assert.equal(series.exemplars.length, 1, 'stored once, however many scrapes carried it');
      const [e] = series.exemplars;
      assert.deepEqual(e.labels, { trace_id: TRACE, span_id: SPAN });
      assert.equal(Number(e.value), 42.5);
      assert.ok(Math.abs(e.timestamp * 1000 - recordedAt) < 1000, `exemplar time ${e.timestamp} vs recorded ${recordedAt}`);

      // The scrape was OpenMetrics (only it carries units) and was read whole: up, no scrape error.
      const targets = await api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>(prom,
        '/api/v1/targets', {});
      assert.deepEqual(targets.activeTargets.map((x) => [x.health, x.lastError]), [['up', '']]);
      const meta = await api<{ type: string; unit: string }[]>(prom, '/api/v1/targets/metadata',
        { metric: 'stunner_allocation_duration_seconds' });
      assert.deepEqual(meta.map((m) => [m.type, m.unit]), [['histogram', 'seconds']]);
      const count = await api<{ result: { value: [number, string] }[] }>(prom, '/api/v1/query',
        { query: 'stunner_allocation_duration_seconds_count{name="udp"}' });
      assert.equal(count.result[0]?.value[1], '2');
      // Metadata as the contract's types: the gauge and the counter named like it (unknown in OpenMetrics) apart.
      for (const [metric, type] of [['stunner_listener_connections', 'gauge'], ['stunner_listener_connections_total', 'unknown'],
        ['stunner_listener_packets', 'counter']]) {
        const m = await api<{ type: string }[]>(prom, '/api/v1/targets/metadata', { metric });
        assert.deepEqual(m.map((x) => x.type), [type], metric);
      }
      // Every gateway sample of the OpenMetrics text is stored: none was lost to the parser.
      const om = await get(`http://${target}/metrics`, { accept: 'application/openmetrics-text;version=1.0.0' });
      const lines = om.body.split('\n').filter((l) => l.startsWith('stunner_')).length;
      const stored = await api<{ result: { value: [number, string] }[] }>(prom, '/api/v1/query',
        { query: 'count({job="stunner",__name__=~"stunner_.+"})' });
      assert.equal(Number(stored.result[0]?.value[1]), lines);
      t.diagnostic(`${lines} gateway series stored; up, lastError ""; metadata of the histogram: ${JSON.stringify(meta)}`);
    } finally {
      client?.close();
      await prometheus?.child.stop(10_000);
      await telemetry.shutdown();
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
