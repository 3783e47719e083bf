// The Prometheus pull endpoint: collect through the exporter's reader (one MeterProvider for pull and push), then
// stream the exposition in time-sliced chunks, gzip-compressed when the scraper accepts it (Prometheus does;
// zlib runs on the libuv thread pool, not on the event loop).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Logger, RateLimitedLog } from '../log/logger.ts';
import type { RouteHandler } from './http-server.ts';
import { PROMETHEUS_CONTENT_TYPE, writePrometheusText } from './prometheus-text.ts';

export interface PullOptions {
  readonly reader: PrometheusExporter;
  readonly logger: Logger;
  readonly rateLimit: RateLimitedLog;
  readonly sliceMs?: number;
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
  const { resourceMetrics, errors } = await opts.reader.collect();
  if (errors.length > 0) {
    opts.rateLimit.warn(opts.logger, 'scrape-collect', 'metrics collection reported errors', { error: errors[0] });
  }
  const gzip = /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
  res.writeHead(200, {
    'content-type': PROMETHEUS_CONTENT_TYPE,
    'cache-control': 'no-store',
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (!gzip) {
    await writePrometheusText(resourceMetrics, (chunk) => writeOrWait(res, chunk), { sliceMs: opts.sliceMs });
    res.end();
    return;
  }
  const z = createGzip({ level: 1 });
  const piping = pipeline(z, res);
  try {
    await writePrometheusText(resourceMetrics, (chunk) => writeOrWait(z, chunk), { sliceMs: opts.sliceMs });
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
