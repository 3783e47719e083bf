// Jaeger v2 (the .ci/jaeger build) run by a test on loopback as an all-in-one with in-memory storage: OTLP in
// (gRPC and HTTP), the query API out. Its configuration is cmd/jaeger/internal/all-in-one.yaml of Jaeger v1.76.0
// cut to what a test needs (no remote sampling, no Jaeger/Zipkin receivers, no expvar/zpages).
//
//   const jaeger = await startJaeger();
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${jaeger.otlpHttpUrl}/v1/traces`   (or a collector's otlp exporter:
//                                        endpoint: jaeger.otlpGrpcEndpoint, tls.insecure: true)
//   await jaeger.services(); await jaeger.traces('stunner');
//   await jaeger.stop();
import YAML from 'yaml';
import { goTools } from './go-tools.ts';
import { OtelProcess, type OtelProcessOptions } from './otel-process.ts';

/** The endpoints below are placeholders: every one is moved to a free loopback port. */
export const JAEGER_CONFIG = {
  service: {
    extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
    pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
    telemetry: { resource: { 'service.name': 'jaeger' }, logs: { level: 'info' } },
  },
  extensions: {
    healthcheckv2: { use_v2: true, http: { endpoint: 'localhost:13133' } },
    // enable_tracing (on by default) would send the query service's own spans to localhost:4317, whoever listens
    // there, and hold up the shutdown retrying when nobody does.
    jaeger_query: { storage: { traces: 'memstore' }, http: { endpoint: 'localhost:16686' }, grpc: { endpoint: 'localhost:16685' },
      enable_tracing: false },
    jaeger_storage: { backends: { memstore: { memory: { max_traces: 100_000 } } } },
  },
  receivers: { otlp: { protocols: { grpc: { endpoint: 'localhost:4317' }, http: { endpoint: 'localhost:4318' } } } },
  processors: { batch: {} },
  exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
};

/** A span as the query API returns it (`/api/traces`, Jaeger's UI JSON). */
export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { refType: string; traceID: string; spanID: string }[];
  /** µs since the epoch, and µs. */
  readonly startTime: number;
  readonly duration: number;
  readonly tags: readonly { key: string; type: string; value: unknown }[];
  readonly processID: string;
}

export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { serviceName: string; tags: readonly { key: string; value: unknown }[] }>>;
}

export class Jaeger {
  readonly process: OtelProcess;

  constructor(p: OtelProcess) {
    this.process = p;
  }

  /** The query API's base URL (the UI's /api/...). */
  get queryUrl(): string {
    return `http://${this.process.endpoint('extensions.jaeger_query.http')}`;
  }

  get otlpHttpUrl(): string {
    return this.process.otlpHttpUrl;
  }

  get otlpGrpcEndpoint(): string {
    return this.process.otlpGrpcEndpoint;
  }

  /** The service names that have stored spans. */
  async services(): Promise<string[]> {
    return (await this.api<string[] | null>('/api/services')) ?? [];
  }

  /** The traces of `service` in the last `lookback` (a Jaeger duration, default 1h), newest first, at most `limit`. */
  async traces(service: string, o: { operation?: string; lookback?: string; limit?: number; tags?: Record<string, string> } = {}): Promise<JaegerTrace[]> {
    const q = new URLSearchParams({ service, lookback: o.lookback ?? '1h', limit: String(o.limit ?? 100) });
    if (o.operation !== undefined) q.set('operation', o.operation);
    if (o.tags !== undefined) q.set('tags', JSON.stringify(o.tags));
    return (await this.api<JaegerTrace[] | null>(`/api/traces?${q}`)) ?? [];
  }

  async trace(traceId: string): Promise<JaegerTrace | undefined> {
    return (await this.api<JaegerTrace[] | null>(`/api/traces/${traceId}`))?.[0];
  }

  output(): string {
    return this.process.output();
  }

  stop(): Promise<number | string | undefined> {
    return this.process.stop();
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.queryUrl}${path}`);
    const body = await res.text();
    if (!res.ok) throw new Error(`Jaeger GET ${path}: HTTP ${res.status} ${body}`);
    return (JSON.parse(body) as { data: T }).data;
  }
}

/** Starts Jaeger (JAEGER_CONFIG, plus `overrides` merged over it) and waits until its query API answers. */
export async function startJaeger(o: Pick<OtelProcessOptions, 'overrides' | 'env'> = {}): Promise<Jaeger> {
  const p = await OtelProcess.start('jaeger', goTools().jaeger, [], { ...o, config: { yaml: YAML.stringify(JAEGER_CONFIG) } },
    async (j) => (await fetch(`http://${j.endpoint('extensions.healthcheckv2.http')}/status`)).status === 200
      && (await fetch(`http://${j.endpoint('extensions.jaeger_query.http')}/api/services`)).status === 200);
  return new Jaeger(p);
}
