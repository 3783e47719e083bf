// OTLP push: a PeriodicExportingMetricReader with the http/protobuf or http/json exporter, configured only from the
// parsed OTEL_* options. Memory stays bounded when the collector is down or slow: the reader runs one export at a
// time (a tick that finds one pending is skipped), batches are sent one after another, every request gives up after
// the OTLP timeout (retries included), and at most PUSH_CONCURRENCY request bodies are in flight. The exporter is the
// SDK's, with a serializer that also sends the allocation-duration exemplars (otlp-exemplar-exporter.ts).
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import {
  PeriodicExportingMetricReader, type InstrumentType, type PushMetricExporter, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Logger, RateLimitedLog } from '../log/logger.ts';
import type { StatsRegistry } from '../stats/registry.ts';
import type { OtlpPushOptions, TemporalityPreference } from './env.ts';
import { ExemplarMetricExporter, type ExemplarExporterConfig } from './otlp-exemplar-exporter.ts';
import { RegistryMetricProducer } from './producer.ts';

/** Requests in flight at once; > 1 only when a timed-out export is still being retried by the transport. */
export const PUSH_CONCURRENCY = 2;
/**
 * Data points per OTLP request. Serialising a request runs on the event loop; batching bounds that stall (see
 * bench/telemetry/scrape.ts) and the size of each request body.
 */
export const PUSH_BATCH_POINTS = 500;

const TEMPORALITY: Readonly<Record<TemporalityPreference, AggregationTemporalityPreference>> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

export interface PushDeps {
  readonly registry: StatsRegistry;
  readonly resource: Resource;
  readonly version: string;
  readonly logger: Logger;
  readonly rateLimit: RateLimitedLog;
  readonly sliceMs?: number;
  /** Data points per request; default PUSH_BATCH_POINTS, 0 = one request per export (benchmark baseline). */
  readonly batchPoints?: number;
}

/** Undefined (after an ERROR log line) when the protocol is not available in this build. */
export function createPushReader(opts: OtlpPushOptions, deps: PushDeps): PeriodicExportingMetricReader | undefined {
  if (opts.protocol === 'grpc') {
    deps.logger.error('OTLP push disabled: protocol grpc is not available in this build; '
      + 'set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (port 4318) or http/json', { code: 'ERR_OTLP_PROTOCOL' });
    return undefined;
  }
  const config: ExemplarExporterConfig = {
    url: opts.endpoint,
    headers: { ...opts.headers },
    compression: opts.compression as ExemplarExporterConfig['compression'],
    timeoutMillis: opts.timeoutMillis,
    temporalityPreference: TEMPORALITY[opts.temporality],
    concurrencyLimit: PUSH_CONCURRENCY,
  };
  const inner = new ExemplarMetricExporter(opts.protocol, config);
  const exporter = new ReportingExporter(inner, (error) => {
    // OTLPExporterError carries the HTTP status as a numeric `code`.
    const status = (error as { code?: unknown } | undefined)?.code;
    deps.rateLimit.warn(deps.logger, 'otlp-export', 'OTLP metrics export failed', {
      endpoint: opts.endpoint, protocol: opts.protocol, ...(typeof status === 'number' ? { status } : {}), error,
    });
  });
  const producer = new RegistryMetricProducer({
    registry: deps.registry,
    resource: deps.resource,
    version: deps.version,
    temporality: (t) => inner.selectAggregationTemporality(t),
    sliceMs: deps.sliceMs,
  });
  return new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: opts.exportIntervalMillis,
    exportTimeoutMillis: opts.exportTimeoutMillis,
    metricProducers: [producer],
    maxExportBatchSize: deps.batchPoints === 0 ? undefined : deps.batchPoints ?? PUSH_BATCH_POINTS,
  });
}

/** Passes everything through and reports failed exports (the SDK itself only hands them to diag). */
class ReportingExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter;
  readonly #onFailure: (error: Error | undefined) => void;

  constructor(inner: PushMetricExporter, onFailure: (error: Error | undefined) => void) {
    this.#inner = inner;
    this.#onFailure = onFailure;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(metrics, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#onFailure(result.error);
      resultCallback(result);
    });
  }

  selectAggregationTemporality(t: InstrumentType): ReturnType<NonNullable<PushMetricExporter['selectAggregationTemporality']>> {
    return this.#inner.selectAggregationTemporality!(t);
  }

  selectAggregation(t: InstrumentType): ReturnType<NonNullable<PushMetricExporter['selectAggregation']>> {
    return this.#inner.selectAggregation!(t);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}
