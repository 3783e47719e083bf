// The stunnerd process as users run it (`node src/cmd/stunnerd.ts -c FILE`), from a config object written to a
// temp file, with admin endpoints on free loopback ports. Inherited OTEL_* variables are removed, so a test sets
// exactly the telemetry environment it means to test. Stopped by its own PID.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort, stunnerd, type Proc } from '../../helpers/process.ts';
import { get } from '../../telemetry/helpers/http.ts';

export const USER = 'user1';
export const PASS = 'pass1';
export const REALM = 'e2e.example.org';

/** Every OTEL_* variable the gateway reads, unset unless a test sets it. */
const OTEL_UNSET: NodeJS.ProcessEnv = Object.fromEntries([
  'OTEL_SDK_DISABLED', 'OTEL_METRICS_EXPORTER', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'OTEL_EXPORTER_OTLP_COMPRESSION', 'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'OTEL_TRACES_EXPORTER', 'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_STUNNER_RECORD_USERNAME', 'OTEL_STUNNER_TRACE_BINDING',
].map((k) => [k, undefined]));

export interface ListenerSpec {
  readonly name: string;
  readonly routes: readonly string[];
  /** A free UDP port is picked when absent. */
  readonly port?: number;
  /** Relay ports: min_relay_port and max_relay_port (kernel-picked when absent). */
  readonly relayPorts?: readonly [min: number, max: number];
}

export interface ClusterSpec {
  readonly name: string;
  readonly endpoints: readonly string[];
}

/** A stunnerd v1 config: TURN-UDP listeners on 127.0.0.1, STATIC clusters, static auth user1/pass1. */
export function gatewayConfig(o: {
  listeners: readonly (ListenerSpec & { port: number })[];
  clusters: readonly ClusterSpec[];
  metricsPort?: number;
  healthPort?: number;
}): Record<string, unknown> {
  return {
    version: 'v1',
    admin: {
      name: 'stunnerd-e2e',
      loglevel: 'all:WARN,stunnerd:INFO',
      metrics_endpoint: o.metricsPort === undefined ? '' : `http://127.0.0.1:${o.metricsPort}/metrics`,
      healthcheck_endpoint: o.healthPort === undefined ? '' : `http://127.0.0.1:${o.healthPort}`,
    },
    auth: { type: 'static', realm: REALM, credentials: { username: USER, password: PASS } },
    listeners: o.listeners.map((l) => ({
      name: l.name, protocol: 'TURN-UDP', address: '127.0.0.1', port: l.port, routes: [...l.routes],
      ...(l.relayPorts === undefined ? {} : { min_relay_port: l.relayPorts[0], max_relay_port: l.relayPorts[1] }),
    })),
    clusters: o.clusters.map((c) => ({ name: c.name, type: 'STATIC', endpoints: [...c.endpoints] })),
  };
}

export interface StartOptions {
  readonly listeners: readonly ListenerSpec[];
  readonly clusters: readonly ClusterSpec[];
  /** Serve /metrics (default true). */
  readonly metrics?: boolean;
  /** Serve /live, /ready, /status (default false). */
  readonly health?: boolean;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** --drain-timeout: how long SIGTERM waits for allocations (default 2 s, so a failed test's leftovers do
   *  not hold up its cleanup). */
  readonly drainTimeoutS?: number;
}

export interface Stunnerd {
  readonly proc: Proc;
  readonly pid: number;
  readonly configFile: string;
  /** Listener name -> UDP port. */
  readonly ports: ReadonlyMap<string, number>;
  readonly metricsPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly metricsUrl: string;
  readonly healthUrl: string;
  /** GET /metrics (identity encoding); throws unless 200. */
  scrape(): Promise<string>;
  /** Replaces the config file with a config object or raw text. */
  writeConfig(config: Record<string, unknown> | string): void;
  /** SIGTERM (drain), then waits for the exit code. */
  stop(): Promise<number | null>;
}

export async function startStunnerd(o: StartOptions): Promise<Stunnerd> {
  const ports = new Map<string, number>();
  for (const l of o.listeners) ports.set(l.name, l.port ?? await freeUdpPort());
  const metricsPort = o.metrics === false ? undefined : await freeTcpPort();
  const healthPort = o.health === true ? await freeTcpPort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'stunnerd-e2e-'));
  const configFile = join(dir, 'stunnerd.json');
  const writeConfig = (config: Record<string, unknown> | string): void =>
    writeFileSync(configFile, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  writeConfig(gatewayConfig({
    listeners: o.listeners.map((l) => ({ ...l, port: ports.get(l.name)! })), clusters: o.clusters, metricsPort, healthPort,
  }));
  const proc = stunnerd(['-c', configFile, '--drain-timeout', String(o.drainTimeoutS ?? 2), ...(o.args ?? [])],
    { ...OTEL_UNSET, ...o.env });
  try {
    await proc.waitFor('stunnerd running', 20_000);
  } catch (err) {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  return {
    proc,
    pid: proc.child.pid!,
    configFile,
    ports,
    metricsPort,
    healthPort,
    metricsUrl,
    healthUrl: `http://127.0.0.1:${healthPort}`,
    async scrape() {
      const res = await get(metricsUrl);
      if (res.status !== 200) throw new Error(`GET ${metricsUrl}: HTTP ${res.status}`);
      return res.body;
    },
    writeConfig,
    async stop() {
      // A drain ends by itself after the drain timeout; a process still there 10 s later is killed (exit null).
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), ((o.drainTimeoutS ?? 2) + 10) * 1000);
      try {
        return await proc.stop('SIGTERM');
      } finally {
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Polls `probe` until it returns a value (or throws after `timeoutMs`, with the last error). */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
