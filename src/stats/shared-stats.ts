// Stats of a dataplane that runs on several workers. Every stats object (one per listener, one per routed
// (listener, cluster) pair) has a block of shared memory with one stripe per worker; each worker's
// StatsRegistry writes only its own stripe, with plain stores (a stripe has one writer), so the data path
// sends no message and takes no lock. The main thread sums the stripes into its own registry's objects
// before every collection (`refresh`): telemetry reads that registry exactly as in a single-threaded
// gateway, and its objects keep their identity (first-seen times, labels) across collections. Counters and gauges
// sum; a histogram combines as histogram.ts says (min of mins, max of maxes, each bucket's latest exemplar).
import { ClusterStats } from './cluster-stats.ts';
import type { Histogram } from './histogram.ts';
import { ListenerStats, initListenerMemory } from './listener-stats.ts';
import { clusterKey, type StatsMemory, type StatsRegistry } from './registry.ts';

/** The shared blocks a worker needs, structured-clonable: one SharedArrayBuffer per stats object. */
export interface StatsBlocks {
  readonly stripes: number;
  readonly listeners: ReadonlyArray<readonly [name: string, block: SharedArrayBuffer]>;
  readonly clusters: ReadonlyArray<readonly [listener: string, cluster: string, block: SharedArrayBuffer]>;
}

const BYTES = Float64Array.BYTES_PER_ELEMENT;

export class SharedStats {
  readonly stripes: number;
  readonly #registry: StatsRegistry;
  /** Each listener's block, and its histogram as each worker's stripe holds it. */
  readonly #listeners = new Map<string, { block: SharedArrayBuffer; histograms: Histogram[] }>();
  readonly #clusters = new Map<string, { listener: string; cluster: string; block: SharedArrayBuffer }>();

  /** `registry` is the main thread's: its objects receive the sums. */
  constructor(registry: StatsRegistry, stripes: number) {
    this.#registry = registry;
    this.stripes = stripes;
    registry.setRefresher(() => this.refresh());
  }

  /**
   * Makes sure every listener and routed pair of `routes` has its block (and its object in the registry), forgets
   * the others as the registry does, and returns the blocks for the workers.
   */
  blocks(routes: ReadonlyMap<string, readonly string[]>): StatsBlocks {
    for (const [listener, clusters] of routes) {
      this.#registry.listener(listener);
      if (!this.#listeners.has(listener)) {
        const block = new SharedArrayBuffer(this.stripes * stride(ListenerStats.SLOTS) * BYTES);
        const histograms: Histogram[] = [];
        for (let i = 0; i < this.stripes; i++) {
          const memory = stripe(block, i, ListenerStats.SLOTS);
          initListenerMemory(memory);
          histograms.push(new ListenerStats(listener, memory).allocationDuration);
        }
        this.#listeners.set(listener, { block, histograms });
      }
      for (const cluster of clusters) {
        this.#registry.cluster(listener, cluster);
        const key = clusterKey(listener, cluster);
        if (!this.#clusters.has(key)) {
          this.#clusters.set(key, { listener, cluster, block: new SharedArrayBuffer(this.stripes * stride(ClusterStats.SLOTS) * BYTES) });
        }
      }
    }
    this.#registry.retain(routes);
    for (const name of this.#listeners.keys()) if (!this.#registry.listeners.has(name)) this.#listeners.delete(name);
    for (const key of this.#clusters.keys()) if (!this.#registry.clusters.has(key)) this.#clusters.delete(key);
    return {
      stripes: this.stripes,
      listeners: [...this.#listeners].map(([name, l]) => [name, l.block] as const),
      clusters: [...this.#clusters.values()].map((c) => [c.listener, c.cluster, c.block] as const),
    };
  }

  /** Combines every stripe into the registry's objects. */
  refresh(): void {
    for (const [name, l] of this.#listeners) {
      const s = this.#registry.listeners.get(name);
      if (s === undefined) continue;
      sumStripes(s.memory, l.block, this.stripes, ListenerStats.HISTOGRAM_SLOTS);
      s.allocationDuration.combine(l.histograms);
    }
    for (const [key, c] of this.#clusters) {
      const s = this.#registry.clusters.get(key);
      if (s !== undefined) sumStripes(s.memory, c.block, this.stripes);
    }
  }

  /** Allocations open now in each worker's stripe, summed over the listeners. */
  allocationsByWorker(): number[] {
    const out = new Array<number>(this.stripes).fill(0);
    for (const { block } of this.#listeners.values()) {
      for (let i = 0; i < this.stripes; i++) out[i] += new ListenerStats('', stripe(block, i, ListenerStats.SLOTS)).allocationsActive;
    }
    return out;
  }

  /** A worker is gone and with it everything it held open: its stripes' "open now" slots go to 0. Its counters
   *  stay, so that totals never go down; so do its exemplars, unless it died writing one. */
  clearGauges(worker: number): void {
    for (const { block, histograms } of this.#listeners.values()) {
      const m = stripe(block, worker, ListenerStats.SLOTS);
      for (const slot of ListenerStats.GAUGE_SLOTS) m[slot] = 0;
      histograms[worker].writerGone();
    }
    for (const c of this.#clusters.values()) {
      const m = stripe(c.block, worker, ClusterStats.SLOTS);
      for (const slot of ClusterStats.GAUGE_SLOTS) m[slot] = 0;
    }
  }
}

/** A worker's view: its stripe of each block. Objects the blocks do not know get private memory. */
export function stripeMemory(blocks: StatsBlocks, worker: number): StatsMemory {
  const listeners = new Map(blocks.listeners);
  const clusters = new Map(blocks.clusters.map(([l, c, b]) => [clusterKey(l, c), b]));
  return {
    listener: (name) => {
      const b = listeners.get(name);
      return b === undefined ? undefined : stripe(b, worker, ListenerStats.SLOTS);
    },
    cluster: (listener, cluster) => {
      const b = clusters.get(clusterKey(listener, cluster));
      return b === undefined ? undefined : stripe(b, worker, ClusterStats.SLOTS);
    },
  };
}

/**
 * Slots from one stripe to the next: whole 128-byte blocks, so two workers never write the same cache line (nor
 * the pair a CPU fetches together); a cluster's six counters would otherwise share one line between workers and
 * bounce it between their cores on every packet.
 */
export function stride(slots: number): number {
  return Math.ceil(slots / 16) * 16;
}

function stripe(block: SharedArrayBuffer, i: number, slots: number): Float64Array<ArrayBufferLike> {
  return new Float64Array(block, i * stride(slots) * BYTES, slots);
}

/** target[k] = sum over stripes of slot k, except the slots of `histogram` (they combine by Histogram.combine). */
function sumStripes(target: Float64Array<ArrayBufferLike>, block: SharedArrayBuffer, stripes: number,
  histogram?: { readonly start: number; readonly end: number }): void {
  const all = new Float64Array(block);
  const n = target.length;
  const step = stride(n);
  for (let k = 0; k < n; k++) {
    if (histogram !== undefined && k === histogram.start) k = histogram.end;
    if (k >= n) break;
    let sum = 0;
    for (let i = 0; i < stripes; i++) sum += all[i * step + k];
    target[k] = sum;
  }
}
