// Scrape and push cost at 100 listeners x 100 clusters (10,000 listener/cluster pairs).
// Prints scrape latency p50/p99 and the worst event-loop stall of the serving process while scrapes (or a push)
// run, for this project's path and, as the baseline in the same run, the exporter-prometheus request handler.
// The scraper and the OTLP receiver run in a child process at nice 19, so their work neither counts as a stall
// here nor competes with the serving process for the CPU more than it must.
// Run: node bench/telemetry/scrape.ts   (env: SCRAPES=40 LISTENERS=100 CLUSTERS=100)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { StatsRegistry } from '../../src/stats/registry.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { RegistryMetricProducer } from '../../src/telemetry/producer.ts';
import { buildResource } from '../../src/telemetry/resource.ts';
import { registerRuntimeMetrics } from '../../src/telemetry/runtime-metrics.ts';
import { ExpositionWriter, PROMETHEUS_CONTENT_TYPE } from '../../src/telemetry/exposition-writer.ts';
import { writeMetricsText } from '../../src/telemetry/prometheus-text.ts';
import { REQUEST_METHODS, DROP_REASONS } from '../../src/stats/listener-stats.ts';

const LISTENERS = Number(process.env.LISTENERS ?? 100);
const CLUSTERS = Number(process.env.CLUSTERS ?? 100);
const SCRAPES = Number(process.env.SCRAPES ?? 40);
/** Time slice of the collection/exposition work, ms (Telemetry's default when unset). */
const SLICE_MS = process.env.SLICE_MS === undefined ? undefined : Number(process.env.SLICE_MS);

function buildRegistry(): StatsRegistry {
  const r = new StatsRegistry();
  let x = 1;
  const next = (): number => (x = (x * 1103515245 + 12345) % 2147483648);
  for (let l = 0; l < LISTENERS; l++) {
    const name = `gateway-ns/udp-gateway-${l}/udp-listener`;
    const s = r.listener(name);
    s.connections = next() % 100;
    s.connectionsTotal = next();
    s.rxPackets = next(); s.txPackets = next(); s.rxBytes = next() * 100; s.txBytes = next() * 100;
    s.allocationsActive = next() % 100;
    for (let i = 0; i < 50; i++) s.allocationDuration.record(next() % 7200);
    for (const m of REQUEST_METHODS) for (const code of [200, 401, 403]) for (let i = next() % 5; i > 0; i--) s.countRequest(m, code);
    for (let i = 0; i < DROP_REASONS.length; i++) s.drops[i] = next() % 1000;
    for (let c = 0; c < CLUSTERS; c++) {
      const cs = r.cluster(name, `media-ns/media-plane-${c}`);
      cs.connections = next() % 50; cs.connectionsTotal = next();
      cs.rxPackets = next(); cs.txPackets = next(); cs.rxBytes = next() * 100; cs.txBytes = next() * 100;
    }
  }
  return r;
}

// The scraper/receiver process: sequential GETs, or an HTTP sink for OTLP pushes.
const PEER = `
const http = require('node:http');
const parentPort = { postMessage: (m) => process.send(m), on: (e, f) => process.on(e, f) };
process.on('message', async (m) => {
  if (m.kind === 'scrape') {
    const lat = []; let bytes = 0;
    for (let i = 0; i < m.n; i++) {
      const t = performance.now();
      const r = await fetch(m.url, { headers: { 'accept-encoding': m.encoding } });
      const b = await r.arrayBuffer();
      lat.push(performance.now() - t); bytes = b.byteLength;
      if (r.status !== 200) throw new Error('status ' + r.status);
    }
    parentPort.postMessage({ lat, bytes });
  } else if (m.kind === 'sink') {
    let requests = 0, bytes = 0;
    const s = http.createServer((req, res) => {
      req.on('data', (c) => { bytes += c.length; }); req.on('end', () => { requests++; res.writeHead(200).end(); });
    });
    s.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port }));
    parentPort.on('message', (q) => { if (q.kind === 'count') parentPort.postMessage({ requests, bytes }); });
  }
});`;

function startPeer(): ChildProcess {
  return spawn('nice', ['-n', '19', process.execPath, '-e', PEER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function ask<T>(peer: ChildProcess, msg: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (m: unknown): void => {
      peer.off('exit', reject);
      resolve(m as T);
    };
    peer.once('message', done);
    peer.once('exit', reject);
    peer.send(msg);
  });
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Worst gap between two 1 ms probe timers while `fn` runs, ms: how long the event loop could not serve I/O. */
async function stallDuring(fn: () => Promise<void>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const probe = (): void => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    timer = setTimeout(probe, 1);
  };
  timer = setTimeout(probe, 1);
  await fn();
  clearTimeout(timer);
  probe();
  clearTimeout(timer);
  return worst;
}

const f = (n: number): string => n.toFixed(1);

/**
 * Scrapes one at a time and records the worst stall of each. The machine is shared, so a single worst value
 * mostly measures the OS scheduler; the median of the per-scrape worst stalls is the comparable figure.
 */
async function scrapeRun(label: string, url: string, encoding: string, scraper: ChildProcess): Promise<number> {
  await ask(scraper, { kind: 'scrape', url, n: 10, encoding }); // warm-up (JIT)
  const lat: number[] = [];
  const stalls: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    stalls.push(await stallDuring(async () => {
      const r = await ask<{ lat: number[]; bytes: number }>(scraper, { kind: 'scrape', url, n: 1, encoding });
      lat.push(...r.lat);
      bytes = r.bytes;
    }));
  }
  return report(label, `latency p50=${f(pct(lat, 50))} p99=${f(pct(lat, 99))}`, stalls, `${(bytes / 1e6).toFixed(2)}MB`);
}

/**
 * Per-run worst stalls: median, p90 and max. The machine is shared, so the max mostly measures the OS scheduler
 * giving the CPU to someone else; the median of the per-run worst stalls is the comparable figure.
 */
function report(label: string, latency: string, stalls: readonly number[], extra: string): number {
  console.log(`${label.padEnd(36)} ${latency.padEnd(26)} worst stall per run: p50=${f(pct(stalls, 50))} `
    + `p90=${f(pct(stalls, 90))} max=${f(Math.max(...stalls))}  ${extra}`);
  return pct(stalls, 50);
}

async function main(): Promise<void> {
  const registry = buildRegistry();
  const samples = LISTENERS * (9 + 17 + 6) + LISTENERS * CLUSTERS * 6;
  console.log(`telemetry scrape bench: ${LISTENERS} listeners x ${CLUSTERS} clusters, ~${samples} samples, `
    + `${SCRAPES} scrapes per row, slice ${SLICE_MS ?? 'default'} ms, node ${process.version}; times in ms`);
  const scraper = startPeer();
  const status = { ready: () => true, status: () => ({ name: 'bench', configGeneration: 1, listeners: [], clusters: [] }) };
  const logger = new LoggerFactory({ levels: 'all:WARN' });

  // This project: Telemetry's own server, exposition writer and time slicing.
  const t = new Telemetry({ registry, logger, status, env: {}, sliceMs: SLICE_MS });
  await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
  const url = `http://127.0.0.1:${t.address('admin.metrics_endpoint')!.port}/metrics`;
  const ours = await scrapeRun('stunner /metrics (identity)', url, 'identity', scraper);
  await scrapeRun('stunner /metrics (gzip)', url, 'gzip', scraper);
  await t.shutdown();

  // Baseline: the same producer and reader, served by exporter-prometheus's own handler and serializer.
  const resource = buildResource({ serviceName: undefined, resourceAttributes: {} }, 'bench');
  const exporter = new PrometheusExporter({
    preventServerStart: true, withoutScopeInfo: true,
    metricProducers: [new RegistryMetricProducer({ registry, resource, version: 'bench' })],
  });
  const provider = new MeterProvider({ resource, readers: [exporter] });
  const runtime = registerRuntimeMetrics(provider.getMeter('runtime'));
  const server: Server = createServer((req, res) => {
    if (req.url === '/sdk-points') {
      // Intermediate: the same SDK data points, but through this project's chunked, time-sliced writer.
      void exporter.collect().then(async ({ resourceMetrics }) => {
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
        const w = new ExpositionWriter((c) => (res.write(c) ? undefined : once(res, 'drain').then(() => undefined)));
        await writeMetricsText(resourceMetrics, w);
        await w.end();
        res.end();
      });
    } else {
      exporter.getMetricsRequestHandler(req, res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await scrapeRun('SDK data points + chunked writer', `${base}/sdk-points`, 'identity', scraper);
  const baseline = await scrapeRun('baseline exporter-prometheus handler', `${base}/metrics`, 'identity', scraper);
  console.log(`scrape stall, median of per-scrape worst: baseline / stunner = ${(baseline / ours).toFixed(1)}x`);
  server.close();
  runtime.stop();
  await provider.shutdown();

  // Push: one OTLP/protobuf export of everything, batched (as shipped) and unbatched (baseline).
  const sink = startPeer();
  const { port } = await ask<{ port: number }>(sink, { kind: 'sink' });
  const pushStalls: number[] = [];
  for (const [label, batch] of [['OTLP/protobuf push, batched', undefined], ['baseline push, unbatched', 0]] as const) {
    const env = { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/v1/metrics`, OTEL_METRIC_EXPORT_INTERVAL: '3600000' };
    const p = new Telemetry({ registry, logger, status, env, pushBatchPoints: batch, sliceMs: SLICE_MS });
    await p.start({ metrics_endpoint: '', healthcheck_endpoint: '' });
    await p.flush(); // warm-up
    const times: number[] = [];
    const stalls: number[] = [];
    const pushes = Math.max(5, Math.round(SCRAPES / 4));
    const before = await ask<{ requests: number; bytes: number }>(sink, { kind: 'count' });
    for (let i = 0; i < pushes; i++) {
      const t0 = performance.now();
      stalls.push(await stallDuring(() => p.flush()));
      times.push(performance.now() - t0);
    }
    const after = await ask<{ requests: number; bytes: number }>(sink, { kind: 'count' });
    pushStalls.push(report(label, `latency p50=${f(pct(times, 50))}`, stalls, `${(after.requests - before.requests) / pushes} `
      + `requests, ${((after.bytes - before.bytes) / pushes / 1e6).toFixed(2)}MB per push`));
    await p.shutdown();
  }
  console.log(`push stall, median of per-push worst: unbatched / batched = ${(pushStalls[1] / pushStalls[0]).toFixed(1)}x`);
  sink.kill();
  scraper.kill();
}

await main();
