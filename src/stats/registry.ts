// The set of stats objects that exist under the running config. Telemetry iterates it at collection time;
// a reconfiguration calls `retain` so that series of removed listeners and clusters disappear.
// Where a stats object keeps its values is up to `memory`: private arrays by default; one worker's stripe
// of shared memory when several workers relay (shared-stats.ts).
import { ListenerStats } from './listener-stats.ts';
import { ClusterStats } from './cluster-stats.ts';

export class GatewayStats {
  configReloadsSuccess = 0;
  configReloadsFailure = 0;
  /** 1 after a successful (re)load, 0 after a rejected one. */
  lastReloadSuccessful = 1;
  /** Dataplane workers restarted after they died (multi-worker mode). */
  workerRestarts = 0;
}

/** Where new stats objects keep their values; undefined = a private array. */
export interface StatsMemory {
  listener(name: string): Float64Array<ArrayBufferLike> | undefined;
  cluster(listener: string, cluster: string): Float64Array<ArrayBufferLike> | undefined;
}

export class StatsRegistry {
  readonly listeners = new Map<string, ListenerStats>();
  /** Keyed by `clusterKey(listener, cluster)`. */
  readonly clusters = new Map<string, ClusterStats>();
  readonly gateway = new GatewayStats();
  readonly #memory: StatsMemory | undefined;
  #refresher: (() => void) | undefined;

  constructor(memory?: StatsMemory) {
    this.#memory = memory;
  }

  /** Readers call this before reading: where the values are kept elsewhere (shared-stats.ts), they arrive now. */
  refresh(): void {
    this.#refresher?.();
  }

  /** What `refresh` runs (one refresher; set by SharedStats). */
  setRefresher(refresher: () => void): void {
    this.#refresher = refresher;
  }

  listener(name: string): ListenerStats {
    let s = this.listeners.get(name);
    if (s === undefined) {
      s = new ListenerStats(name, this.#memory?.listener(name));
      this.listeners.set(name, s);
    }
    return s;
  }

  cluster(listener: string, cluster: string): ClusterStats {
    const key = clusterKey(listener, cluster);
    let s = this.clusters.get(key);
    if (s === undefined) {
      s = new ClusterStats(listener, cluster, this.#memory?.cluster(listener, cluster));
      this.clusters.set(key, s);
    }
    return s;
  }

  /**
   * Forget every listener not in `listeners` and every (listener, cluster) pair whose listener is gone or
   * whose cluster is not routed from it any more. Objects still referenced by live sessions keep counting,
   * but they are no longer exported.
   */
  retain(routes: ReadonlyMap<string, readonly string[]>): void {
    for (const name of this.listeners.keys()) if (!routes.has(name)) this.listeners.delete(name);
    for (const [key, s] of this.clusters) {
      if (!routes.get(s.listener)?.includes(s.cluster)) this.clusters.delete(key);
    }
  }
}

export function clusterKey(listener: string, cluster: string): string {
  return `${listener}\u0000${cluster}`;
}
