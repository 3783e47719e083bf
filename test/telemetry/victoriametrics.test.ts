// OTLP/protobuf pushed into a real VictoriaMetrics (with -opentelemetry.usePrometheusNaming, as a Prometheus-style
// backend translates OTLP names) by a gateway process configured only through OTEL_* variables: the stored
// series carry the same names, labels and values as that process's own scrape.
import { freeTcpPort } from '../helpers/process.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { get } from './helpers/http.ts';
import { scrapeSamples } from './helpers/otlp-receiver.ts';
import { requireTool } from './helpers/tools.ts';

const CHILD = resolve(import.meta.dirname, 'fixtures/push-child.ts');
/** Labels VictoriaMetrics adds from the OTel resource; the scrape has them once, in target_info. */
const RESOURCE_LABELS = new Set(['service_name', 'service_version', 'service_instance_id', 'telemetry_sdk_language',
  'telemetry_sdk_name', 'telemetry_sdk_version', 'deployment_environment']);

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const force = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(force);
      r();
    });
    p.kill('SIGTERM');
  });
}

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `name{a="x",b="y"}` -> canonical key with sorted labels, optionally without some labels. */
function canonical(name: string, labels: Record<string, string>, drop: Set<string> = new Set()): string {
  const pairs = Object.entries(labels).filter(([k]) => !drop.has(k)).sort(([a], [b]) => a.localeCompare(b));
  return `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

function parseSeries(series: string): { name: string; labels: Record<string, string> } {
  const brace = series.indexOf('{');
  if (brace < 0) return { name: series, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of series.slice(brace).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
  return { name: series.slice(0, brace), labels };
}

interface VmSeries {
  metric: Record<string, string>;
  values: number[];
  /** ms since the epoch, of the collection each value came from. */
  timestamps: number[];
}

async function vmExport(base: string, match: string): Promise<VmSeries[]> {
  await get(`${base}/internal/force_flush`);
  const res = await get(`${base}/api/v1/export?match[]=${encodeURIComponent(match)}`);
  assert.equal(res.status, 200, res.body);
  return res.body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as VmSeries);
}

test('VictoriaMetrics: the OTLP/protobuf push stores the same series names and values as the scrape', { timeout: 60_000 }, async () => {
  const vmBin = requireTool('victoria-metrics');
  const vmPort = await freeTcpPort();
  const base = `http://127.0.0.1:${vmPort}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'stunner-vm-'));
  let vmLog = '';
  const vm = spawn(vmBin, [`-httpListenAddr=127.0.0.1:${vmPort}`, `-storageDataPath=${dataDir}`, '-retentionPeriod=1d',
    '-opentelemetry.usePrometheusNaming', '-loggerLevel=ERROR'], { stdio: ['ignore', 'ignore', 'pipe'] });
  vm.stderr?.on('data', (c: Buffer) => (vmLog += c.toString()));
  let child: ChildProcess | undefined;
  try {
    await until('VictoriaMetrics /health', 15_000, async () => ((await get(`${base}/health`)).status === 200 ? true : undefined));

    // The gateway process: nothing but OTEL_* variables configures its push (protocol left at its default).
    child = spawn(process.execPath, [CHILD], {
      env: {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${base}/opentelemetry/v1/metrics`,
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childErr = '';
    child.stderr?.on('data', (c: Buffer) => (childErr += c.toString()));
    const firstLine = await until('the child to print its metrics port', 15_000, async () => {
      const out = child?.stdout?.read() as Buffer | null;
      return out === null ? undefined : out.toString();
    });
    const { metricsPort } = JSON.parse(firstLine) as { metricsPort: number };
    const scrapedAt = Date.now();
    const scrape = (await get(`http://127.0.0.1:${metricsPort}/metrics`)).body;

    const want = new Map<string, number>();
    for (const [series, value] of scrapeSamples(scrape)) {
      const { name, labels } = parseSeries(series);
      if (name.startsWith('stunner_')) want.set(canonical(name, labels), value);
    }
    assert.ok(want.size > 50, `scrape has the gateway series (${want.size})`);

    const stored = await until('the gateway series in VictoriaMetrics', 20_000, async () => {
      const series = await vmExport(base, '{__name__=~"stunner_.+"}');
      return series.length >= want.size ? series : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nvictoria-metrics log:\n${vmLog}\nchild log:\n${childErr}`);
    });
    const got = new Map<string, number>();
    for (const s of stored) {
      const { __name__: name, ...labels } = s.metric;
      got.set(canonical(name, labels, RESOURCE_LABELS), s.values[s.values.length - 1]);
    }
    assert.deepEqual(Object.fromEntries(got), Object.fromEntries(want));

    // The resource arrives as labels on every series.
    const one = stored[0].metric;
    assert.equal(one.service_name, 'stunner');
    assert.match(one.service_instance_id, /^[0-9a-f-]{36}$/);
    assert.equal(one.deployment_environment, 'ci');
    assert.equal(Object.keys(one).some((k) => k.startsWith('otel_scope')), false, 'no otel_scope_* labels');

    // Runtime families: the same names (a histogram family as its _bucket/_sum/_count series), from a push
    // collected after the scrape (a family such as nodejs_gc_duration_seconds is born at the first GC).
    const runtime = await until('a runtime push collected after the scrape', 20_000, async () => {
      const series = await vmExport(base, '{__name__=~"process_.+|nodejs_.+"}');
      return series.some((x) => x.timestamps.at(-1)! > scrapedAt) ? series : undefined;
    });
    const storedNames = new Set(runtime.map((s) => s.metric.__name__));
    const scrapedNames = new Set([...scrapeSamples(scrape).keys()].map((k) => parseSeries(k).name)
      .filter((n) => n.startsWith('process_') || n.startsWith('nodejs_')));
    for (const n of scrapedNames) assert.ok(storedNames.has(n), `${n} stored in VictoriaMetrics`);
    assert.ok(storedNames.has('process_cpu_seconds_total'));
  } finally {
    if (child !== undefined) await stop(child);
    await stop(vm);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
