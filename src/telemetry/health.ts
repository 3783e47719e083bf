// Health endpoints, as upstream stunnerd serves them so that probes and stunnerctl read ours: /live (the
// process runs), /ready (a config other than the bootstrap zero-config runs and we are not shutting down) and
// /status (upstream's StunnerStatus JSON, pkg/apis/v1, plus a few fields of ours that its decoder ignores). The
// daemon implements StatusSource; allocation and connection counts come from the same StatsRegistry the metrics
// read, so /status and a scrape agree.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatsRegistry } from '../stats/registry.ts';
import type { AdminConfig, AuthConfig, StunnerConfig } from '../config/types.ts';
import type { RouteHandler } from './http-server.ts';

export interface ListenerStatus {
  readonly name: string;
  readonly protocol: string;
  readonly address: string;
  readonly port: number;
  readonly public_address?: string;
  readonly public_port?: number;
  readonly routes: readonly string[];
}

export interface ClusterStatus {
  readonly name: string;
  readonly type: string;
  readonly protocol: string;
  readonly endpoints: readonly string[];
}

/** What the daemon runs now. No secrets: credentials are reduced to their names, no certificates or keys. */
export interface GatewayStatusSnapshot {
  /** admin.name */
  readonly name: string;
  /** Increments on every config that was applied; 0 before the first. */
  readonly configGeneration: number;
  readonly admin?: Pick<AdminConfig, 'loglevel' | 'metrics_endpoint' | 'healthcheck_endpoint' | 'user_quota'>;
  readonly auth?: Pick<AuthConfig, 'type' | 'realm'> & { readonly credentials: readonly string[] };
  readonly listeners: readonly ListenerStatus[];
  readonly clusters: readonly ClusterStatus[];
  /** With several dataplane workers: each one's allocations now. */
  readonly workers?: readonly WorkerStatus[];
  /** Where the config comes from (file, CDS), and whether a CDS watch is connected. */
  readonly configSource?: ConfigSourceStatus;
}

export interface WorkerStatus {
  readonly worker: number;
  readonly allocations: number;
}

export interface ConfigSourceStatus {
  readonly origin: string;
  readonly watch: boolean;
  readonly connected?: boolean;
}

/** The narrow view of the daemon that the health server needs. */
export interface StatusSource {
  /** True once the first good config (not the bootstrap zero-config) is running. */
  ready(): boolean;
  status(): GatewayStatusSnapshot;
  /** --force-ready-status: /ready answers 200 whatever the state, as upstream (a kube-proxy work-around). */
  readonly forceReady?: boolean;
}

/** A snapshot of a validated config, for daemons whose StatusSource simply reports the running config. */
export function statusFromConfig(config: StunnerConfig, configGeneration: number): GatewayStatusSnapshot {
  const { admin, auth } = config;
  return {
    name: admin.name,
    configGeneration,
    admin: { loglevel: admin.loglevel, metrics_endpoint: admin.metrics_endpoint,
      healthcheck_endpoint: admin.healthcheck_endpoint, user_quota: admin.user_quota },
    auth: { type: auth.type, realm: auth.realm, credentials: Object.keys(auth.credentials) },
    listeners: config.listeners.map((l) => ({
      name: l.name, protocol: l.protocol, address: l.address, port: l.port, public_address: l.public_address,
      public_port: l.public_port, routes: [...l.routes],
    })),
    clusters: config.clusters.map((c) => ({
      name: c.name, type: c.type, protocol: c.protocol, endpoints: [...c.endpoints],
    })),
  };
}

export interface HealthState {
  readonly source: StatusSource;
  readonly registry: StatsRegistry;
  readonly version: string;
  readonly instanceId: string;
  shuttingDown(): boolean;
}

/** Upstream's StunnerStatus.status values. */
export type ReadinessState = 'READY' | 'NOT-READY' | 'TERMINATING';

function readiness(h: HealthState): ReadinessState {
  if (h.shuttingDown()) return 'TERMINATING';
  return h.source.ready() ? 'READY' : 'NOT-READY';
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function healthRoutes(h: HealthState): Map<string, RouteHandler> {
  return new Map<string, RouteHandler>([
    ['/live', (req, res) => send(req, res, 200, JSON_TYPE, '{}\n')],
    ['/ready', (req, res) => {
      // Upstream's bodies, byte for byte: {"status":200,"message":"READY"} or 503 "stunnerd not ready".
      const ok = h.source.forceReady === true || readiness(h) === 'READY';
      send(req, res, ok ? 200 : 503, JSON_TYPE,
        `${JSON.stringify({ status: ok ? 200 : 503, message: ok ? 'READY' : 'stunnerd not ready' })}\n`);
    }],
    ['/status', (req, res) => {
      let body: string;
      try {
        body = JSON.stringify(statusDocument(h), null, 2) + '\n';
      } catch (err) {
        send(req, res, 500, JSON_TYPE, `${JSON.stringify({ status: 500, message: (err as Error).message })}\n`);
        return;
      }
      send(req, res, 200, JSON_TYPE, body);
    }],
  ]);
}

/** Upstream reports offload-engine counters per listener and cluster; there is no offload engine here. */
function noOffloadStats(): Record<string, unknown> {
  const zero = { pkts: 0, bytes: 0, timestamp: 0 };
  return { rx: { ...zero }, tx: { ...zero } };
}

/**
 * Upstream's StunnerStatus (pkg/apis/v1/stunner.go): version, admin, auth, listeners, clusters, allocationCount,
 * status. Credentials are shown as "<redacted>" (upstream shows them in clear), and no cert or key is shown.
 * Fields of ours, which stunnerctl's decoder ignores: per-listener allocations and connections, buildVersion,
 * instanceId, uptimeSeconds, configGeneration, workers, configSource.
 */
export function statusDocument(h: HealthState): Record<string, unknown> {
  const s = h.source.status();
  h.registry.refresh();
  let allocations = 0;
  const listeners = s.listeners.map((l) => {
    const stats = h.registry.listeners.get(l.name);
    allocations += stats?.allocationsActive ?? 0;
    return {
      name: l.name,
      protocol: l.protocol,
      ...(l.public_address ? { public_address: l.public_address } : {}),
      ...(l.public_port ? { public_port: l.public_port } : {}),
      address: l.address,
      port: l.port,
      routes: l.routes,
      stats: noOffloadStats(),
      allocations: stats?.allocationsActive ?? 0,
      connections: stats?.connections ?? 0,
    };
  });
  const admin = s.admin;
  return {
    version: 'v1',
    admin: {
      name: s.name,
      ...(admin === undefined ? {} : {
        loglevel: admin.loglevel,
        ...(admin.metrics_endpoint === '' ? {} : { metrics_endpoint: admin.metrics_endpoint }),
        ...(admin.healthcheck_endpoint === '' ? {} : { healthcheck_endpoint: admin.healthcheck_endpoint }),
        quota: String(admin.user_quota),
      }),
      offload: 'None[all]',
      licensing_info: '{tier:free}',
    },
    auth: s.auth === undefined ? {} : {
      type: s.auth.type,
      realm: s.auth.realm,
      credentials: Object.fromEntries(s.auth.credentials.map((k) => [k, '<redacted>'])),
    },
    listeners,
    clusters: s.clusters.map((c) => ({ ...c, stats: noOffloadStats() })),
    allocationCount: allocations,
    status: readiness(h),
    buildVersion: h.version,
    instanceId: h.instanceId,
    uptimeSeconds: Math.round(process.uptime()),
    configGeneration: s.configGeneration,
    ...(s.workers === undefined ? {} : { workers: s.workers }),
    ...(s.configSource === undefined ? {} : { configSource: s.configSource }),
  };
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
