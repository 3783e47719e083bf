// The OTEL_* environment, parsed once into plain options (pure: an env object in, options out).
// Semantics follow the OpenTelemetry SDK environment-variable and OTLP exporter specifications; where they leave
// room (OTEL_METRICS_EXPORTER vs. the stunnerd `admin.metrics_endpoint`), the choice is documented below.
import { TelemetryEnvError } from './errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const TEMPORALITY_PREFERENCES = ['cumulative', 'delta', 'lowmemory'] as const;
export type TemporalityPreference = (typeof TEMPORALITY_PREFERENCES)[number];

export const OTLP_COMPRESSIONS = ['gzip', 'none'] as const;
export type OtlpCompression = (typeof OTLP_COMPRESSIONS)[number];

export const METRICS_EXPORTERS = ['prometheus', 'otlp', 'none'] as const;

/** Defaults from the OTel specification. */
export const DEFAULT_OTLP_HTTP_ENDPOINT = 'http://localhost:4318/v1/metrics';
export const DEFAULT_OTLP_GRPC_ENDPOINT = 'http://localhost:4317';
export const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
export const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
export const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;

export interface OtlpPushOptions {
  /** Full URL the metrics are POSTed to (for grpc: the server address). */
  readonly endpoint: string;
  /** Which variable the endpoint came from, for log lines; "default" when none was set. */
  readonly endpointSource: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: OtlpCompression;
  /** Per HTTP request, retries included. */
  readonly timeoutMillis: number;
  readonly temporality: TemporalityPreference;
  readonly exportIntervalMillis: number;
  /** Per export run (collection + all batches); never above the interval. */
  readonly exportTimeoutMillis: number;
}

export interface TelemetryEnv {
  /** OTEL_SDK_DISABLED=true: no MeterProvider, no pull and no push; the health server still runs. */
  readonly sdkDisabled: boolean;
  /**
   * Whether the Prometheus pull endpoint may be served. `admin.metrics_endpoint` still decides whether and
   * where it is served; OTEL_METRICS_EXPORTER can only veto it (set, but without `prometheus`).
   */
  readonly pullAllowed: boolean;
  /** Undefined = no push. */
  readonly push: OtlpPushOptions | undefined;
  /** OTEL_SERVICE_NAME, if set; it wins over `service.name` in OTEL_RESOURCE_ATTRIBUTES. */
  readonly serviceName: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Not errors, but worth a log line at startup (e.g. OTEL_SDK_DISABLED=yes). */
  readonly warnings: readonly string[];
}

/**
 * Parses the OTEL_* variables. Throws `TelemetryEnvError` naming the first malformed variable.
 *
 * Push is on when OTEL_METRICS_EXPORTER lists `otlp`, or when it is unset and an OTLP endpoint variable is set
 * (stunnerd has always been pull-first, so an unset OTEL_METRICS_EXPORTER does not mean `otlp` here as it does in
 * the OTel SDKs). Pull is allowed when OTEL_METRICS_EXPORTER is unset or lists `prometheus`.
 */
export function parseTelemetryEnv(env: Env): TelemetryEnv {
  const warnings: string[] = [];
  const sdkDisabled = parseBoolean(env, 'OTEL_SDK_DISABLED', warnings);
  const serviceName = get(env, 'OTEL_SERVICE_NAME');
  const resourceAttributes = parseKeyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const exporters = parseExporters(env);

  const genericEndpoint = get(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const metricsEndpoint = get(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const pushWanted = exporters === undefined
    ? genericEndpoint !== undefined || metricsEndpoint !== undefined
    : exporters.has('otlp');
  const pullAllowed = exporters === undefined || exporters.has('prometheus');

  // Every variable is validated even when push is off, so a typo shows up before someone relies on it.
  const push = parsePush(env, warnings);
  if (sdkDisabled) {
    warnings.push('OTEL_SDK_DISABLED=true: metrics are neither served (admin.metrics_endpoint) nor pushed (OTLP)');
  }
  return {
    sdkDisabled,
    pullAllowed: pullAllowed && !sdkDisabled,
    push: pushWanted && !sdkDisabled ? push : undefined,
    serviceName,
    resourceAttributes,
    warnings,
  };
}

function parsePush(env: Env, warnings: string[]): OtlpPushOptions {
  const protocol = parseEnum(env, signalOrGeneric(env, 'PROTOCOL'), OTLP_PROTOCOLS) ?? 'http/protobuf';
  const { endpoint, endpointSource } = parseEndpoint(env, protocol);
  const headers = {
    ...parseKeyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS', true),
    ...parseKeyValueList(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', true),
  };
  const compression = parseEnum(env, signalOrGeneric(env, 'COMPRESSION'), OTLP_COMPRESSIONS) ?? 'none';
  const timeoutMillis = parsePositiveInt(env, signalOrGeneric(env, 'TIMEOUT')) ?? DEFAULT_OTLP_TIMEOUT_MS;
  const temporality = parseEnum(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', TEMPORALITY_PREFERENCES)
    ?? 'cumulative';
  const exportIntervalMillis = parsePositiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? DEFAULT_EXPORT_INTERVAL_MS;
  const explicitTimeout = parsePositiveInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT');
  let exportTimeoutMillis = explicitTimeout ?? DEFAULT_EXPORT_TIMEOUT_MS;
  // An export that outlives the interval would overlap the next one; the SDK skips a run while one is pending.
  if (exportTimeoutMillis > exportIntervalMillis) {
    if (explicitTimeout !== undefined) {
      warnings.push(`OTEL_METRIC_EXPORT_TIMEOUT (${exportTimeoutMillis}) exceeds OTEL_METRIC_EXPORT_INTERVAL `
        + `(${exportIntervalMillis}); using ${exportIntervalMillis}`);
    }
    exportTimeoutMillis = exportIntervalMillis;
  }
  return {
    endpoint, endpointSource, protocol, headers, compression, timeoutMillis, temporality,
    exportIntervalMillis, exportTimeoutMillis,
  };
}

function parseEndpoint(env: Env, protocol: OtlpProtocol): { endpoint: string; endpointSource: string } {
  const specific = 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT';
  const generic = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const specificValue = get(env, specific);
  if (specificValue !== undefined) {
    // OTLP exporter spec: the signal-specific URL is used as is (an empty path becomes "/").
    return { endpoint: parseUrl(specific, specificValue).href, endpointSource: specific };
  }
  const genericValue = get(env, generic);
  if (genericValue !== undefined) {
    const url = parseUrl(generic, genericValue);
    // OTLP exporter spec: for OTLP/HTTP the generic URL is a base to which `v1/metrics` is appended; gRPC has no path.
    if (protocol !== 'grpc') url.pathname = url.pathname.replace(/\/?$/, '/v1/metrics');
    return { endpoint: url.href, endpointSource: generic };
  }
  return {
    endpoint: protocol === 'grpc' ? DEFAULT_OTLP_GRPC_ENDPOINT : DEFAULT_OTLP_HTTP_ENDPOINT,
    endpointSource: 'default',
  };
}

export function parseUrl(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TelemetryEnvError(variable, `must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TelemetryEnvError(variable, `must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return url;
}

function parseExporters(env: Env): Set<string> | undefined {
  const variable = 'OTEL_METRICS_EXPORTER';
  const value = get(env, variable);
  if (value === undefined) return undefined;
  const names = new Set(value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
  for (const name of names) {
    if (!(METRICS_EXPORTERS as readonly string[]).includes(name)) {
      throw new TelemetryEnvError(variable,
        `unsupported exporter ${JSON.stringify(name)}: want a comma list of ${METRICS_EXPORTERS.join(', ')}`);
    }
  }
  if (names.has('none') && names.size > 1) {
    throw new TelemetryEnvError(variable, `"none" cannot be combined with other exporters, got ${JSON.stringify(value)}`);
  }
  return names;
}

/** `OTEL_EXPORTER_OTLP_METRICS_<suffix>` if set, else `OTEL_EXPORTER_OTLP_<suffix>`; returns the variable's name. */
function signalOrGeneric(env: Env, suffix: string): string {
  const specific = `OTEL_EXPORTER_OTLP_METRICS_${suffix}`;
  return get(env, specific) !== undefined ? specific : `OTEL_EXPORTER_OTLP_${suffix}`;
}

/** The OTel spec treats an empty value as unset. */
export function get(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function parseEnum<T extends string>(env: Env, variable: string, allowed: readonly T[]): T | undefined {
  const value = get(env, variable);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  const hit = allowed.find((a) => a === lower);
  if (hit === undefined) {
    throw new TelemetryEnvError(variable, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return hit;
}

export function parsePositiveInt(env: Env, variable: string): number | undefined {
  const value = get(env, variable);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new TelemetryEnvError(variable, `must be a positive integer (milliseconds), got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** OTel spec: only a case-insensitive "true" is true; anything but "false" or empty deserves a warning. */
export function parseBoolean(env: Env, variable: string, warnings: string[]): boolean {
  const value = get(env, variable)?.toLowerCase();
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  warnings.push(`${variable}=${JSON.stringify(env[variable])} is neither true nor false; treated as false`);
  return false;
}

/**
 * `key=value,key2=value2` with percent-encoded parts (W3C Baggage style, as OTEL_RESOURCE_ATTRIBUTES and _HEADERS).
 * `secret`: values may hold credentials (headers), so errors name the entry by position and key only.
 */
export function parseKeyValueList(env: Env, variable: string, secret = false): Record<string, string> {
  const value = get(env, variable);
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i].trim();
    if (part === '') continue;
    const shown = secret ? `entry ${i + 1}` : JSON.stringify(part);
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    if (key === '') throw new TelemetryEnvError(variable, `want key=value pairs separated by commas, got ${shown}`);
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new TelemetryEnvError(variable, `bad percent-encoding in ${shown}`);
    }
  }
  return out;
}
