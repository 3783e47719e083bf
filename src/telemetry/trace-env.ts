// The OTEL_* variables of traces, parsed once into plain options (pure, structured-clonable: the main thread
// parses them and hands them to every dataplane worker). Semantics follow the OpenTelemetry SDK environment
// specification; where it leaves room, the choice is said below.
import { TelemetryEnvError } from './errors.ts';
import {
  DEFAULT_OTLP_TIMEOUT_MS, OTLP_COMPRESSIONS, OTLP_PROTOCOLS, get as envValue, parseBoolean, parseEnum,
  parseKeyValueList, parsePositiveInt, parseUrl, type Env, type OtlpCompression, type OtlpProtocol,
} from './env.ts';

export const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TracesExporter = Exclude<(typeof TRACES_EXPORTERS)[number], 'none'>;

export const TRACES_SAMPLERS = [
  'always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

export const DEFAULT_OTLP_TRACES_ENDPOINT = 'http://localhost:4318/v1/traces';

/** The batch span processor's defaults (OTEL_BSP_*), from the specification. */
export const BSP_DEFAULTS = {
  scheduleDelayMillis: 5000,
  exportTimeoutMillis: 30_000,
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
} as const;

export interface OtlpTraceOptions {
  /** Full URL the spans are POSTed to. */
  readonly endpoint: string;
  /** Which variable the endpoint came from, for log lines; "default" when none was set. */
  readonly endpointSource: string;
  readonly protocol: Exclude<OtlpProtocol, 'grpc'>;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: OtlpCompression;
  /** Per HTTP request, retries included. */
  readonly timeoutMillis: number;
}

export interface BatchOptions {
  readonly scheduleDelayMillis: number;
  readonly exportTimeoutMillis: number;
  /** Spans waiting for export beyond this are dropped: memory stays bounded when the collector is down. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

export interface TraceOptions {
  readonly exporters: readonly TracesExporter[];
  /** Present when `exporters` has otlp. */
  readonly otlp: OtlpTraceOptions | undefined;
  readonly sampler: TracesSampler;
  /** traceidratio's ratio, 0..1 (OTEL_TRACES_SAMPLER_ARG, default 1). */
  readonly ratio: number;
  readonly batch: BatchOptions;
  /** OTEL_STUNNER_RECORD_USERNAME=true: spans carry `user.name` (off by default: usernames are personal data). */
  readonly recordUsername: boolean;
  /** OTEL_STUNNER_TRACE_BINDING=true: Binding requests get spans too (off by default: they are the bulk of STUN). */
  readonly traceBinding: boolean;
}

export interface TraceEnv {
  /** Undefined = tracing off. */
  readonly options: TraceOptions | undefined;
  /** Why tracing is off, or worth a log line at startup. */
  readonly notes: readonly string[];
}

/**
 * Parses the trace variables; throws TelemetryEnvError naming the first malformed one. Every variable is
 * validated even when tracing is off, so a typo shows before someone relies on it.
 *
 * Tracing is on when OTEL_TRACES_EXPORTER lists `otlp` or `console`, or when it is unset and an OTLP endpoint
 * variable (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: a gateway with no
 * collector configured sends nothing to localhost:4318 (the SDKs' default would). OTEL_SDK_DISABLED=true turns
 * it off.
 */
export function parseTraceEnv(env: Env): TraceEnv {
  const notes: string[] = [];
  const disabled = parseBoolean(env, 'OTEL_SDK_DISABLED', []);
  const listed = parseExporters(env);
  const endpointSet = envValue(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined
    || envValue(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined;
  let exporters: TracesExporter[] = listed ?? (endpointSet ? ['otlp'] : []);
  const otlp = parseOtlp(env);
  const sampler = parseEnum(env, 'OTEL_TRACES_SAMPLER', TRACES_SAMPLERS) ?? 'parentbased_always_on';
  const ratio = parseRatio(env, sampler, notes);
  const batch = parseBatch(env, notes);
  const recordUsername = parseBoolean(env, 'OTEL_STUNNER_RECORD_USERNAME', notes);
  const traceBinding = parseBoolean(env, 'OTEL_STUNNER_TRACE_BINDING', notes);
  if (exporters.includes('otlp') && otlp === 'grpc') {
    notes.push('OTLP traces disabled: protocol grpc is not available in this build; set '
      + 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf (port 4318) or http/json');
    exporters = exporters.filter((e) => e !== 'otlp');
  }
  if (disabled || exporters.length === 0) return { options: undefined, notes };
  return {
    options: {
      exporters, otlp: exporters.includes('otlp') && otlp !== 'grpc' ? otlp : undefined,
      sampler, ratio, batch, recordUsername, traceBinding,
    },
    notes,
  };
}

function parseExporters(env: Env): TracesExporter[] | undefined {
  const variable = 'OTEL_TRACES_EXPORTER';
  const value = envValue(env, variable);
  if (value === undefined) return undefined;
  const names = new Set(value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
  for (const name of names) {
    if (!(TRACES_EXPORTERS as readonly string[]).includes(name)) {
      throw new TelemetryEnvError(variable,
        `unsupported exporter ${JSON.stringify(name)}: want a comma list of ${TRACES_EXPORTERS.join(', ')}`);
    }
  }
  if (names.has('none') && names.size > 1) {
    throw new TelemetryEnvError(variable, `"none" cannot be combined with other exporters, got ${JSON.stringify(value)}`);
  }
  return [...names].filter((n): n is TracesExporter => n !== 'none');
}

/** `OTEL_EXPORTER_OTLP_TRACES_<suffix>` if set, else `OTEL_EXPORTER_OTLP_<suffix>`; returns the variable's name. */
function signalOrGeneric(env: Env, suffix: string): string {
  const specific = `OTEL_EXPORTER_OTLP_TRACES_${suffix}`;
  return envValue(env, specific) !== undefined ? specific : `OTEL_EXPORTER_OTLP_${suffix}`;
}

function parseOtlp(env: Env): OtlpTraceOptions | 'grpc' {
  const protocol = parseEnum(env, signalOrGeneric(env, 'PROTOCOL'), OTLP_PROTOCOLS) ?? 'http/protobuf';
  const headers = {
    ...parseKeyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS', true),
    ...parseKeyValueList(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', true),
  };
  const compression = parseEnum(env, signalOrGeneric(env, 'COMPRESSION'), OTLP_COMPRESSIONS) ?? 'none';
  const timeoutMillis = parsePositiveInt(env, signalOrGeneric(env, 'TIMEOUT')) ?? DEFAULT_OTLP_TIMEOUT_MS;
  const { endpoint, endpointSource } = parseEndpoint(env);
  if (protocol === 'grpc') return 'grpc';
  return { endpoint, endpointSource, protocol, headers, compression, timeoutMillis };
}

function parseEndpoint(env: Env): { endpoint: string; endpointSource: string } {
  const specific = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
  const generic = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const specificValue = envValue(env, specific);
  // OTLP exporter spec: the signal-specific URL is used as is; the generic one is a base for `v1/traces`.
  if (specificValue !== undefined) return { endpoint: parseUrl(specific, specificValue).href, endpointSource: specific };
  const genericValue = envValue(env, generic);
  if (genericValue !== undefined) {
    const url = parseUrl(generic, genericValue);
    url.pathname = url.pathname.replace(/\/?$/, '/v1/traces');
    return { endpoint: url.href, endpointSource: generic };
  }
  return { endpoint: DEFAULT_OTLP_TRACES_ENDPOINT, endpointSource: 'default' };
}

function parseRatio(env: Env, sampler: TracesSampler, notes: string[]): number {
  const variable = 'OTEL_TRACES_SAMPLER_ARG';
  const value = envValue(env, variable);
  if (value === undefined) return 1;
  const ratio = Number(value);
  if (!/^\s*[0-9.eE+-]+\s*$/.test(value) || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new TelemetryEnvError(variable, `must be a sampling ratio between 0 and 1, got ${JSON.stringify(value)}`);
  }
  if (!sampler.endsWith('traceidratio')) notes.push(`${variable} is ignored by OTEL_TRACES_SAMPLER=${sampler}`);
  return ratio;
}

function parseBatch(env: Env, notes: string[]): BatchOptions {
  const scheduleDelayMillis = parsePositiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY') ?? BSP_DEFAULTS.scheduleDelayMillis;
  const exportTimeoutMillis = parsePositiveInt(env, 'OTEL_BSP_EXPORT_TIMEOUT') ?? BSP_DEFAULTS.exportTimeoutMillis;
  const maxQueueSize = parsePositiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE') ?? BSP_DEFAULTS.maxQueueSize;
  let maxExportBatchSize = parsePositiveInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? BSP_DEFAULTS.maxExportBatchSize;
  // The specification: the batch size "must be less than or equal to" the queue size.
  if (maxExportBatchSize > maxQueueSize) {
    notes.push(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${maxExportBatchSize}) exceeds OTEL_BSP_MAX_QUEUE_SIZE `
      + `(${maxQueueSize}); using ${maxQueueSize}`);
    maxExportBatchSize = maxQueueSize;
  }
  return { scheduleDelayMillis, exportTimeoutMillis, maxQueueSize, maxExportBatchSize };
}
