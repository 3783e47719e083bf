// The Prometheus pull endpoint: runtime metrics collected through the exporter's reader (the one MeterProvider),
// then the gateway families straight from the registry; streamed in time-sliced chunks, gzip-compressed when the
// scraper accepts it (Prometheus does; zlib runs on the libuv thread pool, not on the event loop). Text 0.0.4, or
// OpenMetrics with exemplars when the scraper asks for it (openmetrics-accept.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Logger, RateLimitedLog } from '../log/logger.ts';
import type { StatsRegistry } from '../stats/registry.ts';
import type { RouteHandler } from './http-server.ts';
import { ExpositionWriter, PROMETHEUS_TEXT, type ChunkWriter, type ExpositionFormat } from './exposition-writer.ts';
import { negotiateFormat } from './openmetrics-accept.ts';
import { writeMetricsText } from './prometheus-text.ts';
import { writeRegistryText } from './registry-text.ts';

export interface PullOptions {
  /** The MeterProvider's pull reader: runtime metrics and the resource (target_info). */
  readonly reader: PrometheusExporter;
  /** The gateway families, written straight from here. */
  readonly registry: StatsRegistry;
  readonly version: string;
  readonly logger: Logger;
  readonly rateLimit: RateLimitedLog;
  readonly sliceMs?: number;
}

/** One scrape's exposition, passed to `write` in chunks. */
export async function writeScrape(opts: PullOptions, write: ChunkWriter, format: ExpositionFormat = PROMETHEUS_TEXT):
  Promise<void> {
  opts.registry.refresh();
  const { resourceMetrics, errors } = await opts.reader.collect();
  if (errors.length > 0) {
    opts.rateLimit.warn(opts.logger, 'scrape-collect', 'metrics collection reported errors', { error: errors[0] });
  }
  const w = new ExpositionWriter(write, { sliceMs: opts.sliceMs, format });
  await writeMetricsText(resourceMetrics, w);
  await writeRegistryText(opts.registry, opts.version, w);
  await w.end();
}

export function metricsRoute(opts: PullOptions): RouteHandler {
  return (req, res) => {
    serveScrape(opts, req, res).catch((err: unknown) => {
      opts.rateLimit.warn(opts.logger, 'scrape', 'metrics scrape failed', { error: err });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.destroy();
    });
  };
}

async function serveScrape(opts: PullOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const gzip = /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
  const format = negotiateFormat(req.headers.accept);
  res.writeHead(200, {
    'content-type': format.contentType,
    'cache-control': 'no-store',
    vary: 'accept, accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (!gzip) {
    await writeScrape(opts, (chunk) => writeOrWait(res, chunk), format);
    res.end();
    return;
  }
  const z = createGzip({ level: 1 });
  const piping = pipeline(z, res);
  try {
    await writeScrape(opts, (chunk) => writeOrWait(z, chunk), format);
    z.end();
  } catch (err) {
    z.destroy(err as Error); // settles `piping` with the error
  }
  await piping;
}

/** Writes a chunk; when the stream is full, waits for it to drain, or fails if the scraper went away. */
function writeOrWait(out: Writable, chunk: string): Promise<void> | undefined {
  if (out.destroyed) throw new Error('scraper closed the connection');
  if (out.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const drained = (): void => {
      out.off('close', closed);
      resolve();
    };
    const closed = (): void => {
      out.off('drain', drained);
      reject(new Error('scraper closed the connection'));
    };
    out.once('drain', drained);
    out.once('close', closed);
  });
}
