// A real Prometheus server on loopback that scrapes the given targets (or, as a remote-write receiver, takes what is
// pushed to /api/v1/write), and its HTTP query API.
// The binary comes from PROMETHEUS_BIN or .cache/tools/prom (installed by .ci/tools-prometheus.sh); without it the
// test fails: a skipped query test would let broken dashboards through.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, waitFor } from './child.ts';
import type { Child } from './child.ts';
import { freeTcpPort } from './ports.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

export function prometheusBinary(): string {
  const bin = process.env.PROMETHEUS_BIN ?? join(REPO, '.cache', 'tools', 'prom', 'usr', 'bin', 'prometheus');
  if (!existsSync(bin)) {
    throw new Error(`Prometheus binary not found at ${bin}: run "bash .ci/tools-prometheus.sh" or set PROMETHEUS_BIN`);
  }
  return bin;
}

export interface PromResult {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
}

export interface PromExemplars {
  readonly seriesLabels: Record<string, string>;
  readonly exemplars: readonly { labels: Record<string, string>; value: string; timestamp: number }[];
}

export class PrometheusServer {
  readonly url: string;
  readonly child: Child;

  private constructor(url: string, child: Child) {
    this.url = url;
    this.child = child;
  }

  /** `targets` may be empty: with `remoteWriteReceiver` Prometheus then only stores what is written to `writeUrl`. */
  static async start(opts: { dir: string; job: string; targets: readonly string[]; scrapeIntervalS: number;
    remoteWriteReceiver?: boolean; exemplars?: boolean; }): Promise<PrometheusServer> {
    const bin = prometheusBinary();
    const port = await freeTcpPort();
    mkdirSync(join(opts.dir, 'data'), { recursive: true });
    const config = join(opts.dir, 'prometheus.yml');
    const scrape = opts.targets.length === 0 ? [] : [
      'scrape_configs:',
      `  - job_name: ${opts.job}`,
      '    static_configs:',
      `      - targets: [${opts.targets.map((t) => `'${t}'`).join(', ')}]`,
    ];
    writeFileSync(config, [
      'global:',
      `  scrape_interval: ${opts.scrapeIntervalS}s`,
      `  scrape_timeout: ${opts.scrapeIntervalS}s`,
      ...scrape,
      '',
    ].join('\n'));
    const child = startChild('prometheus', bin, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      ...(opts.remoteWriteReceiver === true ? ['--web.enable-remote-write-receiver'] : []),
      ...(opts.exemplars === true ? ['--enable-feature=exemplar-storage'] : []),
    ]);
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child);
    await waitFor('Prometheus to be ready', async () => ((await fetch(`${server.url}/-/ready`)).ok ? true : undefined),
      { timeoutMs: 30_000, child });
    return server;
  }

  /** Where a Prometheus remote-write sender posts (with `remoteWriteReceiver`). */
  get writeUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  private async api(path: string, params: Record<string, string | string[]>): Promise<unknown> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    const res = await fetch(`${this.url}${path}`, { method: 'POST', body });
    const json = (await res.json()) as { status: string; data?: unknown; error?: string; errorType?: string };
    if (json.status !== 'success') throw new Error(`${path}: ${json.errorType ?? res.status}: ${json.error ?? ''}`);
    return json.data;
  }

  query(expr: string, timeS?: number): Promise<PromResult> {
    return this.api('/api/v1/query', timeS === undefined ? { query: expr } : { query: expr, time: String(timeS) }) as Promise<PromResult>;
  }

  queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<PromResult> {
    return this.api('/api/v1/query_range',
      { query: expr, start: String(startS), end: String(endS), step: String(stepS) }) as Promise<PromResult>;
  }

  /** /api/v1/query_exemplars (with `exemplars`): per series, its exemplars' labels and values. */
  exemplars(expr: string, startS: number, endS: number): Promise<PromExemplars[]> {
    return this.api('/api/v1/query_exemplars', { query: expr, start: String(startS), end: String(endS) }) as
      Promise<PromExemplars[]>;
  }

  async labelValues(label: string, match: string, startS: number, endS: number): Promise<string[]> {
    const params: Record<string, string | string[]> = { start: String(startS), end: String(endS) };
    if (match) params['match[]'] = [match];
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    const res = await fetch(`${this.url}/api/v1/label/${encodeURIComponent(label)}/values?${q}`);
    const json = (await res.json()) as { status: string; data?: string[]; error?: string };
    if (json.status !== 'success') throw new Error(`label values ${label}: ${json.error ?? res.status}`);
    return json.data ?? [];
  }

  stop(): Promise<number | string> {
    return this.child.stop(10_000);
  }
}
