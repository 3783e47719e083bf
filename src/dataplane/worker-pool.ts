// The main thread's side of a multi-worker dataplane: N workers (worker.ts), each running the whole config with
// its listeners bound with SO_REUSEPORT, so the kernel spreads clients over them by 5-tuple and each client's
// allocations, relay sockets and timers live in one worker. The main thread owns the config and applies it to
// every worker all-or-nothing, sums the workers' stats stripes at collection, drains them together and
// restarts one that dies.
//
// Listeners whose routes include a TCP cluster (RFC 6062 TCP relaying) run in worker 0 only: a ConnectionBind
// arrives on a new TCP connection that the kernel may hand to any worker, and must find the allocation that
// issued its CONNECTION-ID.
import { createSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo } from 'node:net';
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';
import { LISTENER_SOCKET_FIELDS } from '../config/diff.ts';
import type { ListenerConfig, StunnerConfig } from '../config/types.ts';
import type { Logger, LoggerFactory, LogFormat } from '../log/logger.ts';
import { GatewayError } from '../server/gateway-error.ts';
import { routeMapOf, type Resolver } from '../server/gateway.ts';
import type { StatsRegistry } from '../stats/registry.ts';
import { SharedStats, type StatsBlocks } from '../stats/shared-stats.ts';
import type { ThreadHeap } from '../telemetry/runtime-metrics.ts';
import {
  createSharedDataplaneState, relayPortBuffers, releaseWorkerHoldings, type SharedDataplaneState,
} from '../shared/dataplane-state.ts';
import { FlowOwners } from './flow-owners.ts';
import { MainResolver } from './main-resolver.ts';
import type { BoundPorts, FromWorker, ToWorker, WorkerError, WorkerInit } from './protocol.ts';
import type { TracingInit } from '../telemetry/tracing.ts';

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly logs: LoggerFactory;
  readonly logFormat: LogFormat;
  /** The main thread's registry: it receives the sum of the workers' stripes. */
  readonly registry: StatsRegistry;
  /** Delay before the first restart of a dead worker; doubled per quick successive death (default 100 ms). */
  readonly restartDelayMs?: number;
  /** Resolves STRICT_DNS host names (the system resolver by default). */
  readonly resolver?: Resolver;
  /** A garbage collection in a worker ([kind of the `gc` entry, seconds]). */
  readonly onGc?: (kind: number, seconds: number) => void;
  /** TURN-UDP clients with an allocation get a connected socket of their own (default true; tests of forwarding
   *  turn it off, as a client whose socket could not be made is served). */
  readonly clientSockets?: boolean;
  /** Tracing options for the workers (Telemetry.tracingInit()); absent = tracing off. */
  readonly tracing?: TracingInit;
}

const MAX_RESTART_DELAY_MS = 10_000;
/** A worker that ran this long before dying restarts after the base delay again. */
const STABLE_AFTER_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** The listeners a worker runs: all of them in worker 0, those without TCP relaying in the others. */
export function configForWorker(config: StunnerConfig, worker: number): StunnerConfig {
  if (worker === 0) return config;
  const tcpClusters = new Set(config.clusters.filter((c) => c.protocol === 'TCP').map((c) => c.name));
  return { ...config, listeners: config.listeners.filter((l) => !relaysTcp(l, tcpClusters)) };
}

function relaysTcp(l: ListenerConfig, tcpClusters: ReadonlySet<string>): boolean {
  return (l.protocol === 'TURN-TCP' || l.protocol === 'TURN-TLS') && l.routes.some((r) => tcpClusters.has(r));
}

interface Pending {
  resolve(ports: BoundPorts): void;
  reject(err: Error): void;
}

/** One worker thread and its requests in flight. */
class WorkerHandle {
  readonly id: number;
  readonly thread: Worker;
  readonly started: Promise<BoundPorts>;
  readonly startedAt = Date.now();
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #exited = false;
  /** Started: its listeners are bound. */
  running = false;
  /** Its heap as it last reported it. */
  heap: ThreadHeap | undefined;

  constructor(id: number, init: WorkerInit, onExit: (handle: WorkerHandle, code: number, error: Error | undefined) => void,
    onGc: (kind: number, seconds: number) => void) {
    this.id = id;
    this.thread = new Worker(new URL('./worker.ts', import.meta.url), { workerData: init, name: `dataplane-${id}` });
    let error: Error | undefined;
    this.started = new Promise<BoundPorts>((resolve, reject) => {
      this.thread.on('message', (msg: FromWorker) => {
        if (msg.type === 'started') resolve(msg.ports);
        else if (msg.type === 'start-failed') reject(toError(msg.error));
        else if (msg.type === 'runtime') {
          this.heap = msg.heap;
          for (const [kind, seconds] of msg.gc) onGc(kind, seconds);
        } else this.#settle(msg);
      });
      this.thread.on('error', (err) => {
        error = err;
        reject(err);
      });
      this.thread.on('exit', (code) => {
        this.#exited = true;
        this.running = false;
        reject(new Error(`worker ${id} exited with code ${code}`));
        for (const p of this.#pending.values()) p.reject(new Error(`worker ${id} exited with code ${code}`));
        this.#pending.clear();
        onExit(this, code, error);
      });
    });
    this.started.then(() => (this.running = !this.#exited), () => {});
  }

  get exited(): boolean {
    return this.#exited;
  }

  post(msg: ToWorker, transfer?: readonly TransferListItem[]): void {
    if (!this.#exited) this.thread.postMessage(msg, transfer);
  }

  request(make: (seq: number) => ToWorker): Promise<BoundPorts> {
    if (this.#exited) return Promise.reject(new Error(`worker ${this.id} is not running`));
    const seq = ++this.#seq;
    return new Promise<BoundPorts>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.thread.postMessage(make(seq));
    });
  }

  #settle(msg: Extract<FromWorker, { seq: number }>): void {
    const p = this.#pending.get(msg.seq);
    if (p === undefined) return;
    this.#pending.delete(msg.seq);
    if (msg.type === 'done') p.resolve(msg.ports);
    else p.reject(toError(msg.error));
  }
}

function toError(e: WorkerError): Error {
  return e.code === undefined ? new Error(e.message) : new GatewayError(e.code, e.message);
}

export class WorkerPool {
  readonly size: number;
  readonly stats: SharedStats;
  config: StunnerConfig;
  /** Incremented on every applied config, as Gateway.generation. */
  generation = 0;
  readonly #opts: WorkerPoolOptions;
  readonly #log: Logger;
  readonly #registry: StatsRegistry;
  readonly #workers: (WorkerHandle | undefined)[];
  /** The running config as the workers have it: a port in place of every port 0. */
  #resolved: StunnerConfig | undefined;
  /** Which worker owns each client flow; shared with every worker. */
  readonly #flowBuffer = FlowOwners.createBuffer();
  readonly #flows = new FlowOwners(this.#flowBuffer);
  /** Relay ports, quota, the 401 budget and the nonce key, shared with every worker. */
  readonly #shared = createSharedDataplaneState();
  readonly #dns: MainResolver;
  readonly #restartDelay: number[] = [];
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #draining = false;
  #stopping = false;

  constructor(config: StunnerConfig, opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers: want an integer >= 1, got ${opts.workers}`);
    this.size = opts.workers;
    this.config = config;
    this.#opts = opts;
    this.#log = opts.logs.get('dataplane');
    this.#registry = opts.registry;
    this.stats = new SharedStats(opts.registry, opts.workers);
    this.#workers = new Array<WorkerHandle | undefined>(opts.workers).fill(undefined);
    this.#dns = new MainResolver(opts.logs.get('stunner'), opts.resolver);
  }

  /** Starts every worker. Throws (and stops them all) when one fails. */
  async start(): Promise<void> {
    try {
      const config = await this.#resolvePorts(undefined, this.config);
      await this.#dns.resolve(config);
      const blocks = this.stats.blocks(routeMapOf(config));
      await Promise.all(Array.from({ length: this.size }, (_, i) => this.#spawn(i, config, blocks).started));
      for (let i = 1; i < this.size; i++) this.#connect(i, true);
      this.#resolved = config;
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.generation = 1;
    this.#dns.start((dns) => {
      for (const h of this.#workers) h?.post({ type: 'dns', dns });
    });
    this.#log.info('dataplane workers running', { workers: this.size });
  }

  /**
   * `next` with a port in place of port 0, the same for every worker: the port it had before when the listener's
   * socket does not change, else a free one found by binding and closing a socket of the listener's protocol.
   */
  async #resolvePorts(prev: StunnerConfig | undefined, next: StunnerConfig): Promise<StunnerConfig> {
    const before = new Map((prev?.listeners ?? []).map((l) => [l.name, l]));
    const resolved = new Map(this.#resolved?.listeners.map((l) => [l.name, l.port]));
    const listeners: ListenerConfig[] = [];
    for (const l of next.listeners) {
      if (l.port !== 0) {
        listeners.push(l);
        continue;
      }
      const p = before.get(l.name);
      const kept = p !== undefined && LISTENER_SOCKET_FIELDS.every((f) => p[f] === l[f]) ? resolved.get(l.name) : undefined;
      listeners.push({ ...l, port: kept ?? await freePort(l) });
    }
    return { ...next, listeners };
  }

  #spawn(id: number, config: StunnerConfig, blocks: StatsBlocks): WorkerHandle {
    const own = configForWorker(config, id);
    const handle = new WorkerHandle(id, {
      id, config: own, blocks, logFormat: this.#opts.logFormat, logLevels: this.#opts.logs.levelSpec, draining: this.#draining,
      flows: this.#flowBuffer, shared: this.#sharedFor(config), dns: this.#dns.answers,
      clientSockets: this.#opts.clientSockets ?? true,
      tracing: this.#opts.tracing,
    }, (h, code, error) => this.#exited(h, code, error), (kind, seconds) => this.#opts.onGc?.(kind, seconds));
    this.#workers[id] = handle;
    return handle;
  }

  /** The shared state, with relay port buffers for every listener of `config`. */
  #sharedFor(config: StunnerConfig): SharedDataplaneState {
    for (const l of config.listeners) relayPortBuffers(this.#shared, l.name);
    return this.#shared;
  }

  /** Gives worker `id` a channel to every other running worker (`below`: only those with a lower id), for
   *  forwarded datagrams. */
  #connect(id: number, below = false): void {
    const h = this.#workers[id];
    if (h === undefined || h.exited) return;
    for (const other of this.#workers) {
      if (other === undefined || other === h || other.exited || (below && other.id > id)) continue;
      const { port1, port2 } = new MessageChannel();
      h.post({ type: 'peer', worker: other.id, port: port1 }, [port1]);
      other.post({ type: 'peer', worker: id, port: port2 }, [port2]);
    }
  }

  /**
   * Applies `next` in every worker, all or nothing: if any fails, those that applied it go back to the running
   * config and the error is rethrown.
   * Listeners that did not change keep their sockets in every worker, so the kernel's reuseport group, and
   * with it the worker of every client, stays the same.
   */
  async reconfigure(next: StunnerConfig): Promise<void> {
    const prev = this.#resolved ?? this.config;
    const config = await this.#resolvePorts(this.config, next);
    await this.#dns.resolve(config);
    const blocks = this.stats.blocks(routeMapOf(config));
    const logLevels = this.#opts.logs.levelSpec;
    const apply = async (h: WorkerHandle, target: StunnerConfig, b: StatsBlocks) => {
      const own = configForWorker(target, h.id);
      const { relayPorts } = this.#sharedFor(target);
      const dns = this.#dns.answers;
      await h.request((seq) => ({ type: 'reconfigure', seq, config: own, blocks: b, logLevels, relayPorts, dns }));
    };
    const live = this.#workers.filter((h): h is WorkerHandle => h !== undefined && !h.exited);
    const applied: WorkerHandle[] = [];
    const results = await Promise.allSettled(live.map(async (h) => {
      await apply(h, config, blocks);
      applied.push(h);
    }));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      const err = failed.reason as Error;
      this.#log.warn('reconfiguration failed in a worker, restoring the running config in every worker',
        { error: err.message });
      await this.#dns.resolve(prev);
      const prevBlocks = this.stats.blocks(routeMapOf(prev));
      await Promise.allSettled(applied.map((h) => apply(h, prev, prevBlocks)));
      throw err;
    }
    this.config = next;
    this.#resolved = config;
    this.generation++;
  }

  /** The port a listener is bound to (port 0 in the config resolves here). */
  boundPort(name: string): number | undefined {
    return this.#resolved?.listeners.find((l) => l.name === name)?.port;
  }

  /** Allocations open now in every worker (from the stats stripes). */
  allocations(): number {
    this.#registry.refresh();
    let n = 0;
    for (const s of this.#registry.listeners.values()) n += s.allocationsActive;
    return n;
  }

  /** Every worker stops accepting new allocations; existing ones keep relaying. */
  drain(): void {
    this.#draining = true;
    for (const h of this.#workers) h?.post({ type: 'drain' });
  }

  /** Workers whose listeners are bound and serving now. */
  runningWorkers(): number[] {
    return this.#workers.filter((h): h is WorkerHandle => h !== undefined && h.running && !h.exited).map((h) => h.id);
  }

  /** The worker that holds the client's allocation at `listener` (TURN-UDP), or -1. */
  flowOwner(listener: string, address: string, port: number): number {
    return this.#flows.owner(listener, address, port);
  }

  /** Datagrams a worker received for another worker's client and forwarded to it, so far. */
  get forwardedDatagrams(): number {
    return this.#flows.forwarded;
  }

  /** The heaps of the running workers, as they last reported them. */
  heaps(): ThreadHeap[] {
    return this.#workers.flatMap((h) => (h !== undefined && !h.exited && h.heap !== undefined ? [h.heap] : []));
  }

  /** Event-loop utilisation of each running worker, for the runtime metrics. */
  eventLoops(): { worker: number; thread: Worker }[] {
    return this.#workers.filter((h): h is WorkerHandle => h !== undefined && !h.exited)
      .map((h) => ({ worker: h.id, thread: h.thread }));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#dns.stop();
    for (const t of this.#restartTimers) clearTimeout(t);
    this.#restartTimers.clear();
    await Promise.all(this.#workers.map(async (h) => {
      if (h === undefined || h.exited) return;
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
      await Promise.race([h.request((seq) => ({ type: 'stop', seq })).catch(() => {}), timeout]);
      await h.thread.terminate();
    }));
  }

  #exited(h: WorkerHandle, code: number, error: Error | undefined): void {
    if (this.#workers[h.id] !== h) return;
    this.#workers[h.id] = undefined;
    if (this.#stopping || this.generation === 0) return;
    this.#registry.gateway.workerRestarts++;
    // Its allocations ended with it: what it held open is open no longer; what it counted stays.
    this.stats.clearGauges(h.id);
    this.#flows.forgetWorker(h.id);
    // Its relay ports, reservations and allocation counts go back to the other workers.
    let released: ReturnType<typeof releaseWorkerHoldings> | undefined;
    try {
      released = releaseWorkerHoldings(this.#shared, h.id);
    } catch (err) {
      this.#log.error('cannot release what a dead worker held', { worker: h.id, error: (err as Error).message });
    }
    const quick = Date.now() - h.startedAt < STABLE_AFTER_MS;
    const base = this.#opts.restartDelayMs ?? 100;
    const delay = quick ? Math.min(MAX_RESTART_DELAY_MS, (this.#restartDelay[h.id] ?? base / 2) * 2) : base;
    this.#restartDelay[h.id] = delay;
    this.#log.error('dataplane worker died, restarting it', { worker: h.id, exitCode: code, error: error?.message,
      restartInMs: delay, ...released });
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#stopping) return;
      const config = this.#resolved ?? this.config;
      const handle = this.#spawn(h.id, config, this.stats.blocks(routeMapOf(config)));
      handle.started.then(
        () => {
          this.#connect(h.id);
          this.#log.info('dataplane worker restarted', { worker: h.id });
        },
        (err: Error) => this.#log.error('dataplane worker could not restart', { worker: h.id, error: err.message }),
      );
    }, delay);
    this.#restartTimers.add(timer);
  }
}

/** A port that is free now for the listener's protocol on its address (the kernel's pick for port 0). */
function freePort(l: ListenerConfig): Promise<number> {
  return new Promise((resolve, reject) => {
    if (l.protocol === 'TURN-UDP' || l.protocol === 'TURN-DTLS') {
      const s = createSocket(isIPv6(l.address) ? 'udp6' : 'udp4');
      s.once('error', reject);
      s.bind(0, l.address, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    } else {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, l.address, () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(port));
      });
    }
  });
}
