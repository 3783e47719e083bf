// The gateway: a running stunnerd config. It builds clusters, listeners and the TURN core from a validated
// config, sweeps expiries with one coarse timer, re-resolves STRICT_DNS clusters, and applies a new config
// in place: unchanged listeners keep their sockets and allocations.
import { lookup } from 'node:dns/promises';
import type { ListenerConfig, StunnerConfig } from '../config/types.ts';
import { LISTENER_SOCKET_FIELDS, inspectConfig, type ReconcilePlan } from '../config/diff.ts';
import { DNS_REFRESH_INTERVAL_MS } from '../config/defaults.ts';
import { authenticatorFromConfig } from '../auth/from-config.ts';
import { Cluster } from '../cluster/cluster.ts';
import { PeerAdmission } from '../cluster/peer-admission.ts';
import { RateLimitedLog, type Logger, type LoggerFactory } from '../log/logger.ts';
import { StatsRegistry } from '../stats/registry.ts';
import { TurnServer, type TurnLimits } from '../turn/turn-server.ts';
import type { TurnTracer } from '../turn/tracing.ts';
import { SWEEP_INTERVAL_MS } from '../turn/timers.ts';
import { sharedRelays, type SharedDataplaneState } from '../shared/dataplane-state.ts';
import type { FlowDirectory } from './flow-directory.ts';
import { GatewayError } from './gateway-error.ts';
import { createListener } from './listener-factory.ts';
import type { ListenerRuntime } from './listener-runtime.ts';

export { GatewayError };

export type Resolver = (host: string) => Promise<string[]>;

export interface GatewayOptions {
  readonly logs: LoggerFactory;
  readonly registry?: StatsRegistry;
  readonly clock?: () => number;
  readonly resolver?: Resolver;
  /** How often STRICT_DNS clusters are re-resolved (default DNS_REFRESH_INTERVAL_MS; 0 = only by refreshDns()). */
  readonly dnsRefreshMs?: number;
  /** Bind listener sockets with SO_REUSEPORT: every worker of a multi-worker dataplane binds the same ports. */
  readonly reusePort?: boolean;
  /** Multi-worker: who owns which client flow, and how to reach the owner. */
  readonly flows?: FlowDirectory;
  /** With reusePort: TURN-UDP clients with an allocation get a connected socket of their own (default true). */
  readonly clientSockets?: boolean;
  /** Multi-worker: relay ports, quota, the 401 budget and the nonce key shared by every worker. Its relayPorts
   *  map must hold every listener of a config before the config is applied. */
  readonly shared?: SharedDataplaneState;
  /** Spans per answered request and per ended allocation (telemetry/tracing.ts); absent = tracing off. */
  readonly tracer?: TurnTracer;
}

/**
 * The name -> routes map the stats registry keeps series for: every listener with the clusters of its routes
 * that exist.
 */
export function routeMapOf(config: StunnerConfig): Map<string, readonly string[]> {
  const clusters = new Set(config.clusters.map((c) => c.name));
  return new Map(config.listeners.map((l) => [l.name, l.routes.filter((r) => clusters.has(r))]));
}

export const defaultResolver: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export function limitsOf(config: StunnerConfig): TurnLimits {
  const l = config.admin.limits;
  return {
    userQuota: config.admin.user_quota,
    maxAllocations: l.max_allocations,
    maxPermissionsPerAllocation: l.max_permissions_per_allocation,
    maxChannelsPerAllocation: l.max_channels_per_allocation,
    unauthenticatedRate: l.unauthenticated_rate,
  };
}

export class Gateway {
  readonly registry: StatsRegistry;
  readonly server: TurnServer;
  readonly listeners = new Map<string, ListenerRuntime>();
  readonly clusters = new Map<string, Cluster>();
  config: StunnerConfig;
  /** Incremented on every applied config. */
  generation = 0;
  readonly #logs: LoggerFactory;
  readonly #log: Logger;
  readonly #resolver: Resolver;
  readonly #dnsRefreshMs: number;
  readonly #reusePort: boolean;
  readonly #flows: FlowDirectory | undefined;
  readonly #clientSockets: boolean;
  readonly #shared: SharedDataplaneState | undefined;
  readonly #errors = new RateLimitedLog();
  #sweepTimer: NodeJS.Timeout | undefined;
  #dnsTimer: NodeJS.Timeout | undefined;

  constructor(config: StunnerConfig, opts: GatewayOptions) {
    this.config = config;
    this.#logs = opts.logs;
    this.#log = opts.logs.get('stunner');
    this.registry = opts.registry ?? new StatsRegistry();
    this.#resolver = opts.resolver ?? defaultResolver;
    this.#dnsRefreshMs = opts.dnsRefreshMs ?? DNS_REFRESH_INTERVAL_MS;
    this.#reusePort = opts.reusePort ?? false;
    this.#flows = opts.flows;
    this.#clientSockets = opts.clientSockets ?? true;
    this.#shared = opts.shared;
    this.server = new TurnServer({
      authenticator: authenticatorFromConfig(config.auth, opts.clock),
      realm: config.auth.realm,
      limits: limitsOf(config),
      logger: opts.logs.get('turn'),
      clock: opts.clock,
      shared: opts.shared,
    });
    this.server.tracer = opts.tracer;
  }

  async start(): Promise<void> {
    this.#buildClusters(this.config);
    await this.#resolveAll();
    for (const l of this.config.listeners) await this.#startListener(l);
    this.registry.retain(this.#routeMap(this.config));
    this.generation = 1;
    this.#sweepTimer = setInterval(() => this.server.sweep(), SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
    if (this.#dnsRefreshMs > 0) {
      this.#dnsTimer = setInterval(() => void this.refreshDns(), this.#dnsRefreshMs);
      this.#dnsTimer.unref();
    }
  }

  /**
   * The name -> routes map the stats registry keeps series for. Every routed (listener, cluster) pair gets
   * its stats object now, so its series exist (at 0) before the first packet and rate() works from the start.
   */
  #routeMap(config: StunnerConfig): Map<string, readonly string[]> {
    const routes = routeMapOf(config);
    for (const [listener, clusters] of routes) {
      this.registry.listener(listener);
      for (const c of clusters) this.registry.cluster(listener, c);
    }
    return routes;
  }

  #buildClusters(config: StunnerConfig): void {
    this.clusters.clear();
    for (const c of config.clusters) this.clusters.set(c.name, new Cluster(c));
  }

  #admission(l: ListenerConfig): PeerAdmission {
    const routes = l.routes.map((r) => this.clusters.get(r)).filter((c): c is Cluster => c !== undefined);
    return new PeerAdmission(l.name, routes, (cluster) => this.registry.cluster(l.name, cluster));
  }

  async #startListener(l: ListenerConfig): Promise<void> {
    const log = this.#logs.get('listener');
    // Keyed by error code: messages carry peer addresses, which would give every peer its own budget.
    const onError = (err: NodeJS.ErrnoException) => this.#errors.warn(log, `${l.name}:${err.code ?? err.message}`, 'socket error',
      { listener: l.name, error: err.message });
    const listener = createListener(l, {
      stats: this.registry.listener(l.name), server: this.server, admission: this.#admission(l), onError,
      reusePort: this.#reusePort, flows: this.#flows, clientSockets: this.#clientSockets,
      sharedRelays: this.#shared === undefined ? undefined : sharedRelays(this.#shared, l),
    });
    try {
      await listener.listen();
    } catch (err) {
      throw new GatewayError('ERR_LISTENER_BIND',
        `listener ${l.name}: cannot listen on ${l.protocol} ${l.address}:${l.port}: ${(err as Error).message}`);
    }
    this.listeners.set(l.name, listener);
    const a = listener.address;
    this.#log.info('listener started', { name: l.name, protocol: l.protocol, address: `${a.address}:${a.port}` });
  }

  async #stopListener(name: string): Promise<void> {
    const listener = this.listeners.get(name);
    if (listener === undefined) return;
    for (const a of [...this.server.allocations]) if (a.listener === listener) this.server.deleteAllocation(a, 'listener stopped');
    this.listeners.delete(name);
    await listener.close();
    this.#log.info('listener stopped', { name });
  }

  async #resolveAll(): Promise<boolean> {
    let changed = false;
    await Promise.all([...this.clusters.values()].filter((c) => c.type === 'STRICT_DNS').map(async (c) => {
      const addrs: string[] = [];
      for (const host of c.hostnames) {
        try {
          addrs.push(...await this.#resolver(host));
        } catch (err) {
          this.#errors.warn(this.#log, `dns:${host}`, 'cannot resolve STRICT_DNS endpoint',
            { cluster: c.name, host, error: (err as Error).message });
        }
      }
      if (c.setResolved(addrs)) {
        changed = true;
        this.#log.debug('cluster endpoints resolved', { cluster: c.name, addresses: addrs });
      }
    }));
    return changed;
  }

  /** Resolves the STRICT_DNS clusters again; peers no longer admitted stop being relayed. */
  async refreshDns(): Promise<void> {
    if (await this.#resolveAll()) for (const l of this.listeners.values()) this.server.readmitAll(l);
  }

  /**
   * Applies a new validated config in place, as docs/config.md "Reconfiguration" says: the plan of
   * inspectConfig() decides per object. Listeners whose socket changed restart; the others keep their
   * sockets and allocations and get new routes, clusters, relay ranges and certificates live; a peer that
   * is no longer admitted stops being relayed at once. On failure the previous config is restored and the
   * error is rethrown.
   */
  async reconfigure(next: StunnerConfig): Promise<ReconcilePlan> {
    const prev = this.config;
    const plan = inspectConfig(prev, next);
    try {
      await this.#apply(prev, next, plan);
    } catch (err) {
      this.#log.warn('reconfiguration failed, restoring the previous config', { error: (err as Error).message });
      await this.#restore(prev);
      throw err;
    }
    return plan;
  }

  async #apply(prev: StunnerConfig, next: StunnerConfig, plan: ReconcilePlan): Promise<void> {
    const changedClusters = new Set(plan.clusters.filter((c) => c.action !== 'none').map((c) => c.name));
    this.#updateClusters(next, changedClusters);
    await this.#resolveAll();
    this.server.update({
      authenticator: authenticatorFromConfig(next.auth, this.server.clock), realm: next.auth.realm, limits: limitsOf(next),
    });
    const nextByName = new Map(next.listeners.map((l) => [l.name, l]));
    // Removed listeners go first: a listener added by the same reload may take over a removed one's port (a rename).
    const removedFirst = [...plan.listeners.filter((c) => c.action === 'remove'),
      ...plan.listeners.filter((c) => c.action !== 'remove')];
    for (const change of removedFirst) {
      const l = nextByName.get(change.name);
      const running = this.listeners.get(change.name);
      if (l === undefined || change.action === 'remove') {
        await this.#stopListener(change.name);
      } else if (running === undefined || change.action === 'add') {
        await this.#startListener(l);
      } else if (change.action === 'restart') {
        await this.#stopListener(change.name);
        await this.#startListener(l);
      } else {
        this.#reconcileListener(running, l, change.fields);
      }
    }
    this.config = next;
    this.registry.retain(this.#routeMap(next));
    this.generation++;
    if (plan.changed) this.#log.info('config applied', { generation: this.generation, ...summarise(plan) });
  }

  #reconcileListener(running: ListenerRuntime, l: ListenerConfig, fields: readonly string[]): void {
    if (fields.includes('cert') || fields.includes('key')) running.updateCredentials?.(l.cert, l.key);
    if (fields.includes('min_relay_port') || fields.includes('max_relay_port')) {
      running.relays.setPortRange(l.min_relay_port, l.max_relay_port);
      running.tcpRelays?.setPortRange(l.min_relay_port, l.max_relay_port);
    }
    running.config = l;
    running.admission = this.#admission(l);
    this.server.readmitAll(running);
  }

  /** Keeps the Cluster objects (and their DNS results) of unchanged clusters; rebuilds the rest. */
  #updateClusters(config: StunnerConfig, changed: ReadonlySet<string>): void {
    const keep = new Map(this.clusters);
    this.clusters.clear();
    for (const c of config.clusters) {
      const old = keep.get(c.name);
      this.clusters.set(c.name, old !== undefined && !changed.has(c.name) ? old : new Cluster(c));
    }
  }

  /** Brings the running listeners back to `config` after a failed reconfiguration. */
  async #restore(config: StunnerConfig): Promise<void> {
    this.#buildClusters(config);
    await this.#resolveAll();
    this.server.update({
      authenticator: authenticatorFromConfig(config.auth, this.server.clock), realm: config.auth.realm,
      limits: limitsOf(config),
    });
    const wanted = new Map(config.listeners.map((l) => [l.name, l]));
    for (const [name, running] of [...this.listeners]) {
      const l = wanted.get(name);
      if (l === undefined || LISTENER_SOCKET_FIELDS.some((f) => running.config[f] !== l[f])) await this.#stopListener(name);
    }
    for (const l of config.listeners) {
      const running = this.listeners.get(l.name);
      if (running === undefined) {
        try {
          await this.#startListener(l);
        } catch (err) {
          this.#log.error('cannot restore listener', { name: l.name, error: (err as Error).message });
        }
      } else {
        this.#reconcileListener(running, l, ['cert', 'key', 'min_relay_port', 'max_relay_port']);
      }
    }
    this.config = config;
    this.registry.retain(this.#routeMap(config));
  }

  /** Allocations open now. */
  allocations(): number {
    return this.server.allocations.size;
  }

  /** The port a listener is bound to (port 0 in the config resolves here). */
  boundPort(name: string): number | undefined {
    return this.listeners.get(name)?.address.port;
  }

  /** Stops accepting new allocations; existing ones keep relaying. */
  drain(): void {
    this.server.draining = true;
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweepTimer);
    clearInterval(this.#dnsTimer);
    this.server.close();
    for (const name of [...this.listeners.keys()]) await this.#stopListener(name);
  }
}

function summarise(plan: ReconcilePlan): Record<string, string> {
  const list = (xs: readonly { name: string; action: string }[]) =>
    xs.filter((x) => x.action !== 'none').map((x) => `${x.name}:${x.action}`).join(',') || 'none';
  return { listeners: list(plan.listeners), clusters: list(plan.clusters), auth: plan.auth };
}
