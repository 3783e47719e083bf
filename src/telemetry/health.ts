// Health endpoints: /live (the process runs), /ready (a good config is running and we are not shutting down),
// /status (what runs, as JSON). The daemon implements StatusSource; allocation and connection counts come from
// the same StatsRegistry the metrics read, so /status and a scrape agree.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatsRegistry } from '../stats/registry.ts';
import type { StunnerConfig } from '../config/types.ts';
import type { RouteHandler } from './http-server.ts';

export interface ListenerStatus {
  readonly name: string;
  readonly protocol: string;
  readonly address: string;
  readonly port: number;
  readonly routes: readonly string[];
}

export interface ClusterStatus {
  readonly name: string;
  readonly type: string;
  readonly protocol: string;
  readonly endpoints: readonly string[];
}

/** What the daemon runs now. No secrets: no credentials, certificates or keys. */
export interface GatewayStatusSnapshot {
  /** admin.name */
  readonly name: string;
  /** Increments on every config that was applied; 0 before the first. */
  readonly configGeneration: number;
  readonly listeners: readonly ListenerStatus[];
  readonly clusters: readonly ClusterStatus[];
  /** With several dataplane workers: each one's allocations now. */
  readonly workers?: readonly WorkerStatus[];
}

export interface WorkerStatus {
  readonly worker: number;
  readonly allocations: number;
}

/** The narrow view of the daemon that the health server needs. */
export interface StatusSource {
  /** True once the first good config is running. */
  ready(): boolean;
  status(): GatewayStatusSnapshot;
}

/** A snapshot of a validated config, for daemons whose StatusSource simply reports the running config. */
export function statusFromConfig(config: StunnerConfig, configGeneration: number): GatewayStatusSnapshot {
  return {
    name: config.admin.name,
    configGeneration,
    listeners: config.listeners.map((l) => ({
      name: l.name, protocol: l.protocol, address: l.address, port: l.port, routes: [...l.routes],
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

export type ReadinessState = 'ready' | 'not_ready' | 'shutting_down';

function readiness(h: HealthState): ReadinessState {
  if (h.shuttingDown()) return 'shutting_down';
  return h.source.ready() ? 'ready' : 'not_ready';
}

export function healthRoutes(h: HealthState): Map<string, RouteHandler> {
  return new Map<string, RouteHandler>([
    ['/live', (req, res) => send(req, res, 200, 'text/plain; charset=utf-8', 'ok\n')],
    ['/ready', (req, res) => {
      const state = readiness(h);
      send(req, res, state === 'ready' ? 200 : 503, 'text/plain; charset=utf-8', `${state}\n`);
    }],
    ['/status', (req, res) => {
      let body: string;
      try {
        body = JSON.stringify(statusDocument(h), null, 2) + '\n';
      } catch (err) {
        send(req, res, 500, 'text/plain; charset=utf-8', `status unavailable: ${(err as Error).message}\n`);
        return;
      }
      send(req, res, 200, 'application/json; charset=utf-8', body);
    }],
  ]);
}

export function statusDocument(h: HealthState): Record<string, unknown> {
  const snapshot = h.source.status();
  h.registry.refresh();
  let allocations = 0;
  const listeners = snapshot.listeners.map((l) => {
    const s = h.registry.listeners.get(l.name);
    allocations += s?.allocationsActive ?? 0;
    return { ...l, allocations: s?.allocationsActive ?? 0, connections: s?.connections ?? 0 };
  });
  return {
    status: readiness(h),
    name: snapshot.name,
    version: h.version,
    instanceId: h.instanceId,
    uptimeSeconds: Math.round(process.uptime()),
    configGeneration: snapshot.configGeneration,
    allocations,
    listeners,
    clusters: snapshot.clusters,
    ...(snapshot.workers === undefined ? {} : { workers: snapshot.workers }),
  };
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
