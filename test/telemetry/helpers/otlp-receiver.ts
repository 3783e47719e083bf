// A small OTLP/HTTP JSON receiver for tests, plus a flattening of OTLP metrics into Prometheus-style samples
// (`name{labels}` -> value, histograms as _bucket/_sum/_count) so a push can be compared with a scrape.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: OtlpJsonRequest;
}

export interface KeyValue {
  readonly key: string;
  readonly value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}

interface NumberPoint {
  readonly attributes?: KeyValue[];
  readonly startTimeUnixNano?: string | number;
  readonly timeUnixNano?: string | number;
  readonly asInt?: number | string;
  readonly asDouble?: number;
}

interface HistogramPoint {
  readonly attributes?: KeyValue[];
  readonly count: number | string;
  readonly sum?: number;
  readonly bucketCounts: (number | string)[];
  readonly explicitBounds: number[];
}

export interface OtlpMetric {
  readonly name: string;
  readonly unit?: string;
  readonly description?: string;
  readonly sum?: { dataPoints: NumberPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  readonly gauge?: { dataPoints: NumberPoint[] };
  readonly histogram?: { dataPoints: HistogramPoint[]; aggregationTemporality: number };
}

export interface OtlpJsonRequest {
  readonly resourceMetrics: {
    resource: { attributes: KeyValue[] };
    scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[];
  }[];
}

export class OtlpJsonReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly #server: Server;
  #waiters: (() => void)[] = [];

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        this.requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw.toString('utf8')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/metrics`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Requests received from index `from` on, once there is at least one. */
  async after(from: number, timeoutMs = 5000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length <= from) {
      if (Date.now() > deadline) throw new Error(`no OTLP request after #${from} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.requests.slice(from);
  }
}

/** All metrics of some requests (one push may be several batched requests). */
export function metricsOf(requests: readonly ReceivedRequest[]): OtlpMetric[] {
  return requests.flatMap((r) => r.body.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics)));
}

export function attributeValue(v: KeyValue['value']): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  return String(v.boolValue);
}

function labels(attributes: KeyValue[] | undefined, extra = ''): string {
  const parts = (attributes ?? []).map((a) => `${a.key}="${attributeValue(a.value)}"`);
  if (extra !== '') parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function numberValue(p: NumberPoint): number {
  return p.asDouble !== undefined ? p.asDouble : Number(p.asInt);
}

/** OTLP metrics as Prometheus samples. Several points of one series (batches) must agree; the last one wins. */
export function otlpSamples(metrics: readonly OtlpMetric[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics) {
    for (const p of m.sum?.dataPoints ?? m.gauge?.dataPoints ?? []) out.set(`${m.name}${labels(p.attributes)}`, numberValue(p));
    for (const p of m.histogram?.dataPoints ?? []) {
      let cumulative = 0;
      p.bucketCounts.forEach((c, i) => {
        cumulative += Number(c);
        const le = i < p.explicitBounds.length ? String(p.explicitBounds[i]) : '+Inf';
        out.set(`${m.name}_bucket${labels(p.attributes, `le="${le}"`)}`, cumulative);
      });
      out.set(`${m.name}_sum${labels(p.attributes)}`, p.sum ?? 0);
      out.set(`${m.name}_count${labels(p.attributes)}`, Number(p.count));
    }
  }
  return out;
}

/** The samples of a Prometheus text exposition (`series value` lines). */
export function scrapeSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Only the samples whose metric name starts with `prefix`. */
export function only(samples: Map<string, number>, prefix: string): Map<string, number> {
  return new Map([...samples].filter(([k]) => k.startsWith(prefix)));
}
