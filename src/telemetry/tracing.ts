// Traces of one thread (the main thread when the gateway runs there, else each dataplane worker): a TracerProvider
// with the sampler and the batch span processor the OTEL_* variables ask for, exporting OTLP (http/protobuf or
// http/json) or to the console. Memory stays bounded when the collector is down or slow: at most
// OTEL_BSP_MAX_QUEUE_SIZE spans wait (later ones are dropped), TRACE_EXPORT_CONCURRENCY requests are in flight,
// each gives up after the OTLP timeout. Spans are made once per answered request and per ended allocation, and
// exported on a timer: nothing here runs per packet.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { AttributeValue } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler,
  TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { Logger, RateLimitedLog } from '../log/logger.ts';
import type { TurnTracer } from '../turn/tracing.ts';
import type { OtlpTraceOptions, TraceOptions, TracesSampler } from './trace-env.ts';
import { OtelTurnTracer } from './turn-tracer.ts';

type ExporterConfig = NonNullable<ConstructorParameters<typeof ProtoExporter>[0]>;

/** Span export requests in flight at once. */
export const TRACE_EXPORT_CONCURRENCY = 2;
export const TRACER_NAME = 'stunner.turn';

export interface TracingDeps {
  readonly resource: Resource;
  readonly version: string;
  readonly logger: Logger;
  readonly rateLimit: RateLimitedLog;
  /** The dataplane worker the spans come from (the `thread.id` attribute is its thread's). */
  readonly worker?: number;
}

/** What a dataplane worker needs to trace as the main thread would: structured-clonable. */
export interface TracingInit {
  readonly options: TraceOptions;
  /** The process's resource (service.instance.id included): a worker's spans come from the same service instance. */
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly version: string;
}

export function tracingInit(options: TraceOptions, resource: Resource, version: string): TracingInit {
  const attributes: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(resource.attributes)) if (v !== undefined) attributes[k] = v;
  return { options, resource: attributes, version };
}

/** A worker's Tracing, from what the main thread sent. */
export function workerTracing(init: TracingInit, logger: Logger, rateLimit: RateLimitedLog, worker: number): Tracing {
  return new Tracing(init.options, {
    resource: resourceFromAttributes(init.resource), version: init.version, logger, rateLimit, worker,
  });
}

export class Tracing {
  readonly options: TraceOptions;
  readonly turn: TurnTracer;
  readonly #provider: TracerProvider;

  constructor(options: TraceOptions, deps: TracingDeps) {
    this.options = options;
    const processors = options.exporters.map((name) => new BatchSpanProcessor({
      exporter: new ReportingSpanExporter(exporterFor(name, options.otlp), (error) => {
        const status = (error as { code?: unknown } | undefined)?.code;
        deps.rateLimit.warn(deps.logger, `trace-export:${name}`, 'trace export failed', {
          exporter: name, endpoint: options.otlp?.endpoint, ...(typeof status === 'number' ? { status } : {}), error,
        });
      }),
      maxQueueSize: options.batch.maxQueueSize,
      maxExportBatchSize: options.batch.maxExportBatchSize,
      scheduledDelayMillis: options.batch.scheduleDelayMillis,
      exportTimeoutMillis: options.batch.exportTimeoutMillis,
    }));
    this.#provider = new TracerProvider({
      resource: deps.resource,
      sampler: samplerFor(options.sampler, options.ratio),
      spanProcessors: processors,
    });
    this.turn = new OtelTurnTracer(this.#provider.getTracer(TRACER_NAME, deps.version), {
      recordUsername: options.recordUsername, traceBinding: options.traceBinding, worker: deps.worker,
    });
  }

  /** Exports what is queued now. */
  async flush(): Promise<void> {
    await this.#provider.forceFlush();
  }

  /** Exports what is queued (waiting at most `timeoutMillis`: a dead collector must not hold up the exit). */
  async shutdown(timeoutMillis: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMillis);
      timer.unref();
    });
    await Promise.race([this.#provider.shutdown(), timeout]);
    clearTimeout(timer);
  }
}

function exporterFor(name: TraceOptions['exporters'][number], otlp: OtlpTraceOptions | undefined): SpanExporter {
  if (name === 'console' || otlp === undefined) return new ConsoleSpanExporter();
  const config: ExporterConfig = {
    url: otlp.endpoint,
    headers: { ...otlp.headers },
    compression: otlp.compression as ExporterConfig['compression'],
    timeoutMillis: otlp.timeoutMillis,
    concurrencyLimit: TRACE_EXPORT_CONCURRENCY,
  };
  return otlp.protocol === 'http/json' ? new JsonExporter(config) : new ProtoExporter(config);
}

function samplerFor(name: TracesSampler, ratio: number): Sampler {
  switch (name) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** Passes everything through and reports failed exports (the SDK itself only hands them to diag). */
class ReportingSpanExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #onFailure: (error: Error | undefined) => void;

  constructor(inner: SpanExporter, onFailure: (error: Error | undefined) => void) {
    this.#inner = inner;
    this.#onFailure = onFailure;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#onFailure(result.error);
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}
