// What a gateway's metrics became in a backend behind the collector, keyed like its own /metrics, so the two can be
// compared as maps `name{sorted labels} -> value`. Remote write adds job (service.name) and instance
// (service.instance.id, or the scraped address); the keys leave those out and `targets` reports them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import type { PrometheusServer } from '../../test/deploy/support/prometheus-server.ts';
import type { VictoriaMetrics } from '../../test/telemetry-e2e/support/victoria-metrics.ts';
import { parseSeries, seriesKey } from '../../test/telemetry-e2e/support/series.ts';
import { samples } from '../../test/telemetry-e2e/support/exposition.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

export interface Stored {
  /** `name{labels without job and instance} -> latest value`. */
  readonly series: Map<string, number>;
  /** The `job/instance` pairs seen. */
  readonly targets: Set<string>;
  /** The latest sample's timestamp over all series, ms since the epoch. */
  readonly latestMs: number;
}

function add(out: Stored & { latestMs: number }, labels: Record<string, string>, value: number, atMs: number): void {
  const { __name__: name, job, instance, ...rest } = labels;
  out.series.set(seriesKey(name, rest), value);
  out.targets.add(`${job}/${instance}`);
  out.latestMs = Math.max(out.latestMs, atMs);
}

/** The latest sample of every series matching `selector` (a PromQL series selector) in Prometheus, from the last
 *  5 minutes (a range selector: unlike an instant query, it gives each sample's own timestamp). */
export async function fromPrometheus(prom: PrometheusServer, selector: string): Promise<Stored> {
  const out = { series: new Map<string, number>(), targets: new Set<string>(), latestMs: 0 };
  for (const s of (await prom.query(`${selector}[5m]`)).result) {
    const [atS, value] = s.values!.at(-1)!;
    add(out, s.metric, Number(value), atS * 1000);
  }
  return out;
}

/** The latest sample of every series matching `selector` in VictoriaMetrics. */
export async function fromVictoriaMetrics(vm: VictoriaMetrics, selector: string): Promise<Stored> {
  const out = { series: new Map<string, number>(), targets: new Set<string>(), latestMs: 0 };
  for (const s of await vm.exportSeries(selector)) add(out, s.metric, s.values.at(-1)!, s.timestamps.at(-1)!);
  return out;
}

/**
 * `series` with each value at VictoriaMetrics' precision: it stores 12 significant decimal digits, so a float such
 * as a histogram's _sum (31.615000000000002) comes back rounded (31.615). Counts are integers and stay exact.
 */
export function atVictoriaMetricsPrecision(series: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...series].map(([k, v]) => [k, Number(v.toPrecision(12))]));
}

/** The series of an exposition (a gateway's /metrics, the collector's prometheus exporter) whose names start with
 *  `prefix`, keyed the same way (job and instance left out). */
export function fromExposition(text: string, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, value] of samples(text)) {
    const { name, labels: { job: _job, instance: _instance, ...labels } } = parseSeries(series);
    if (name.startsWith(prefix)) out.set(seriesKey(name, labels), value);
  }
  return out;
}

/**
 * A collector configuration override that adds a copy of `exporter` (a remote-write exporter of the shipped
 * configuration `file`) writing to `endpoint`, to the metrics pipeline: one collector, two backends, the same
 * exporter settings.
 */
export function copyOfExporter(file: string, exporter: string, name: string, endpoint: string): Record<string, unknown> {
  const config = YAML.parse(readFileSync(resolve(REPO, file), 'utf8')) as {
    exporters: Record<string, Record<string, unknown>>; service: { pipelines: { metrics: { exporters: string[] } } };
  };
  const settings = config.exporters[exporter];
  if (settings === undefined) throw new Error(`${file} has no exporter ${exporter}`);
  return {
    exporters: { [name]: { ...settings, endpoint } },
    service: { pipelines: { metrics: { exporters: [...config.service.pipelines.metrics.exporters, name] } } },
  };
}
