// Telemetry of the gateway: one MeterProvider whose readers are the Prometheus pull endpoint and, when the OTEL_*
// environment asks for it, an OTLP push; the admin HTTP servers (metrics, health). Protocol code never sees any
// of this: it increments plain fields in the StatsRegistry, read here at collection time.
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { AdminConfig } from '../config/types.ts';
import { DEFAULT_HEALTHCHECK_PORT, DEFAULT_METRICS_PATH, DEFAULT_METRICS_PORT } from '../config/defaults.ts';
import { RateLimitedLog, type Logger, type LoggerFactory } from '../log/logger.ts';
import type { StatsRegistry } from '../stats/registry.ts';
import { parseTelemetryEnv, type Env, type TelemetryEnv } from './env.ts';
import { EndpointError } from './errors.ts';
import { parseHttpEndpoint, formatBindAddress } from './endpoint-url.ts';
import { AdminServers, type Binding } from './http-server.ts';
import { healthRoutes, type StatusSource } from './health.ts';
import { installOtelDiagnostics } from './diag.ts';
import { metricsRoute, writeScrape, type PullOptions } from './pull.ts';
import { createPushReader } from './push.ts';
import { buildResource, PROCESS_INSTANCE_ID } from './resource.ts';
import { registerRuntimeMetrics, LINUX_PROC, type EventLoop, type RuntimeMetrics, type ThreadHeap } from './runtime-metrics.ts';
import { PACKAGE_VERSION } from './version.ts';
import { parseTraceEnv, type TraceEnv } from './trace-env.ts';
import { Tracing, tracingInit, type TracingInit } from './tracing.ts';

export const METRICS_FIELD = 'admin.metrics_endpoint';
export const HEALTH_FIELD = 'admin.healthcheck_endpoint';

/** How long shutdown() waits for the final OTLP push. */
export const DEFAULT_FINAL_PUSH_TIMEOUT_MS = 5000;

export type AdminEndpoints = Pick<AdminConfig, 'metrics_endpoint' | 'healthcheck_endpoint'>;

export interface TelemetryOptions {
  readonly registry: StatsRegistry;
  readonly logger: LoggerFactory;
  readonly status: StatusSource;
  /** The OTEL_* variables; process.env by default. */
  readonly env?: Env;
  /** service.version and stunner_build_info{version}; package.json's version by default. */
  readonly version?: string;
  /** Longest event-loop turn a collection may take before yielding, ms (default 2). */
  readonly sliceMs?: number;
  /** OTLP data points per request (default PUSH_BATCH_POINTS; 0 = unbatched, the benchmark's baseline). */
  readonly pushBatchPoints?: number;
  /** The event loops whose utilisation is exported (default: the main thread's). */
  readonly eventLoops?: () => readonly EventLoop[];
  /** The heaps of the process's other threads (dataplane workers), added to the main thread's. */
  readonly threadHeaps?: () => readonly ThreadHeap[];
}

export class Telemetry {
  readonly env: TelemetryEnv;
  readonly traceEnv: TraceEnv;
  readonly resource: Resource;
  readonly version: string;
  readonly #registry: StatsRegistry;
  readonly #status: StatusSource;
  readonly #log: Logger;
  readonly #rateLimit = new RateLimitedLog(60_000);
  readonly #servers: AdminServers;
  readonly #sliceMs: number | undefined;
  readonly #pushBatchPoints: number | undefined;
  readonly #eventLoops: (() => readonly EventLoop[]) | undefined;
  readonly #threadHeaps: (() => readonly ThreadHeap[]) | undefined;
  #provider: MeterProvider | undefined;
  #tracing: Tracing | undefined;
  #pull: PrometheusExporter | undefined;
  #runtime: RuntimeMetrics | undefined;
  #uninstallDiag: (() => void) | undefined;
  #admin: AdminEndpoints | undefined;
  #started = false;
  #shuttingDown = false;

  /** Throws TelemetryEnvError (code ERR_OTEL_ENV) naming a malformed OTEL_* variable. */
  constructor(opts: TelemetryOptions) {
    this.env = parseTelemetryEnv(opts.env ?? process.env);
    this.traceEnv = parseTraceEnv(opts.env ?? process.env);
    this.version = opts.version ?? PACKAGE_VERSION;
    this.resource = buildResource(this.env, this.version);
    this.#registry = opts.registry;
    this.#status = opts.status;
    this.#log = opts.logger.get('telemetry');
    this.#sliceMs = opts.sliceMs;
    this.#pushBatchPoints = opts.pushBatchPoints;
    this.#eventLoops = opts.eventLoops;
    this.#threadHeaps = opts.threadHeaps;
    this.#servers = new AdminServers((err) => this.#log.error('admin HTTP server error', { error: err }));
    for (const w of [...this.env.warnings, ...this.traceEnv.notes]) this.#log.warn(w);
  }

  /**
   * Tracing on this thread (the gateway runs here), when the OTEL_* variables turn it on; its spans are exported
   * until shutdown().
   */
  startTracing(): Tracing | undefined {
    const options = this.traceEnv.options;
    if (options === undefined) return undefined;
    if (this.#tracing === undefined) {
      this.#uninstallDiag ??= installOtelDiagnostics(this.#log, this.#rateLimit);
      this.#tracing = new Tracing(options, { resource: this.resource, version: this.version, logger: this.#log,
        rateLimit: this.#rateLimit });
      this.#logTracing();
    }
    return this.#tracing;
  }

  /** What dataplane workers need to trace (each exports its own spans), when tracing is on. */
  tracingInit(): TracingInit | undefined {
    const options = this.traceEnv.options;
    if (options === undefined) return undefined;
    this.#logTracing();
    return tracingInit(options, this.resource, this.version);
  }

  #logTracing(): void {
    const o = this.traceEnv.options;
    if (o === undefined) return;
    this.#log.info('tracing enabled', {
      exporters: o.exporters.join(','), endpoint: o.otlp?.endpoint, source: o.otlp?.endpointSource,
      protocol: o.otlp?.protocol, sampler: o.sampler, ...(o.sampler.endsWith('traceidratio') ? { ratio: o.ratio } : {}),
    });
  }

  /**
   * Builds the MeterProvider and starts the admin servers. Resolves with the endpoints that could not be served
   * (each already logged at ERROR); the caller decides whether that is fatal.
   */
  async start(admin: AdminEndpoints): Promise<readonly EndpointError[]> {
    if (this.#started) throw new Error('Telemetry.start() called twice');
    this.#started = true;
    if (!this.env.sdkDisabled) this.#startMeterProvider();
    return this.reconfigure(admin);
  }

  /** Applies changed admin endpoints; only a server whose address changed is restarted. */
  async reconfigure(admin: AdminEndpoints): Promise<readonly EndpointError[]> {
    const previous = this.#admin;
    this.#admin = { metrics_endpoint: admin.metrics_endpoint, healthcheck_endpoint: admin.healthcheck_endpoint };
    const errors: EndpointError[] = [];
    const bindings: Binding[] = [];
    const metricsChanged = previous?.metrics_endpoint !== admin.metrics_endpoint;
    const healthChanged = previous?.healthcheck_endpoint !== admin.healthcheck_endpoint;

    if (admin.metrics_endpoint !== '') {
      if (this.#pull === undefined) {
        if (metricsChanged) this.#log.warn(`${METRICS_FIELD} is not served: ${this.#pullOffReason()}`);
      } else {
        try {
          const endpoint = parseHttpEndpoint(METRICS_FIELD, admin.metrics_endpoint,
            { port: DEFAULT_METRICS_PORT, path: DEFAULT_METRICS_PATH });
          const route = metricsRoute(this.#pullOptions(this.#pull));
          bindings.push({ field: METRICS_FIELD, endpoint, routes: new Map([[endpoint.path, route]]) });
        } catch (err) {
          if (!(err instanceof EndpointError)) throw err;
          errors.push(err);
        }
      }
    }
    if (admin.healthcheck_endpoint !== '') {
      try {
        // The path of the URL is ignored, as upstream: /live, /ready and /status are served at the root.
        const endpoint = parseHttpEndpoint(HEALTH_FIELD, admin.healthcheck_endpoint,
          { port: DEFAULT_HEALTHCHECK_PORT, path: '/' });
        bindings.push({ field: HEALTH_FIELD, endpoint, routes: healthRoutes({
          source: this.#status, registry: this.#registry, version: this.version, instanceId: PROCESS_INSTANCE_ID,
          shuttingDown: () => this.#shuttingDown,
        }) });
      } catch (err) {
        if (!(err instanceof EndpointError)) throw err;
        errors.push(err);
      }
    }
    errors.push(...await this.#servers.apply(bindings));
    for (const err of errors) this.#log.error(err.message, { code: err.code, field: err.field });
    for (const b of bindings) {
      const changed = b.field === METRICS_FIELD ? metricsChanged : healthChanged;
      const address = this.#servers.address(b.field);
      if (changed && address !== undefined) {
        this.#log.info(`${b.field} serving`, { address: formatBindAddress({ host: b.endpoint.host, port: address.port }),
          paths: [...b.routes.keys()].join(',') });
      }
    }
    return errors;
  }

  /** /ready answers 503 from now on; metrics and /live keep being served until shutdown(). */
  setShuttingDown(): void {
    this.#shuttingDown = true;
  }

  /**
   * Closes the admin servers, then pushes a last time, waiting at most `finalPushTimeoutMs` (a dead collector
   * must not hold up the exit).
   */
  async shutdown(finalPushTimeoutMs = DEFAULT_FINAL_PUSH_TIMEOUT_MS): Promise<void> {
    this.#shuttingDown = true;
    await this.#servers.close();
    const provider = this.#provider;
    this.#provider = undefined;
    this.#pull = undefined;
    try {
      await provider?.shutdown({ timeoutMillis: finalPushTimeoutMs });
    } catch (err) {
      this.#log.warn('telemetry shutdown: final OTLP push did not complete', { error: err });
    }
    // The gateway has stopped: the spans of the allocations it ended are queued; export them.
    await this.#tracing?.shutdown(finalPushTimeoutMs);
    this.#tracing = undefined;
    this.#runtime?.stop();
    this.#runtime = undefined;
    this.#uninstallDiag?.();
    this.#uninstallDiag = undefined;
  }

  /** Pushes now (OTLP) and waits for it; a no-op without push. */
  async flush(): Promise<void> {
    await this.#provider?.forceFlush();
  }

  /** Where a server for `field` listens now (port 0 resolved), if it runs. */
  address(field: typeof METRICS_FIELD | typeof HEALTH_FIELD): AddressInfo | undefined {
    return this.#servers.address(field);
  }

  /** The exposition a scrape would return now, without HTTP (diagnostics and tests). */
  async prometheusText(): Promise<string> {
    if (this.#pull === undefined) throw new Error(`Prometheus pull is off: ${this.#pullOffReason()}`);
    const parts: string[] = [];
    await writeScrape(this.#pullOptions(this.#pull), (chunk) => void parts.push(chunk));
    return parts.join('');
  }

  #pullOptions(reader: PrometheusExporter): PullOptions {
    return { reader, registry: this.#registry, version: this.version, logger: this.#log, rateLimit: this.#rateLimit,
      sliceMs: this.#sliceMs };
  }

  #startMeterProvider(): void {
    this.#uninstallDiag ??= installOtelDiagnostics(this.#log, this.#rateLimit);
    const readers: MetricReader[] = [];
    if (this.env.pullAllowed) {
      // Served by our admin server (shared with health, restartable); the gateway families are added by
      // writeScrape straight from the registry (pull.ts), so this reader collects the SDK instruments only.
      this.#pull = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
      readers.push(this.#pull);
    }
    const push = this.env.push;
    if (push !== undefined) {
      const reader = createPushReader(push, {
        registry: this.#registry, resource: this.resource, version: this.version, logger: this.#log,
        rateLimit: this.#rateLimit, sliceMs: this.#sliceMs, batchPoints: this.#pushBatchPoints,
      });
      if (reader !== undefined) {
        readers.push(reader);
        this.#log.info('OTLP metrics push enabled', {
          endpoint: push.endpoint, source: push.endpointSource, protocol: push.protocol,
          interval_ms: push.exportIntervalMillis, temporality: push.temporality, compression: push.compression,
        });
      }
    }
    if (readers.length === 0) return;
    this.#provider = new MeterProvider({ resource: this.resource, readers });
    this.#runtime = registerRuntimeMetrics(this.#provider.getMeter('stunner.runtime', this.version), LINUX_PROC,
      this.#eventLoops, this.#threadHeaps);
  }

  /** A garbage collection in a dataplane worker, counted in nodejs_gc_duration_seconds with the main thread's. */
  recordGc(kind: number, seconds: number): void {
    this.#runtime?.recordGc(kind, seconds);
  }

  #pullOffReason(): string {
    if (this.env.sdkDisabled) return 'OTEL_SDK_DISABLED=true';
    if (!this.env.pullAllowed) return 'OTEL_METRICS_EXPORTER does not list "prometheus"';
    return 'telemetry not started';
  }
}
