// stunnerd as a process: loads the config, runs the gateway and its telemetry, reloads on SIGHUP, a file
// change or a config discovery update, drains on SIGTERM. A config that fails to load or apply never replaces
// the running one.
import type { StunnerConfig } from '../config/types.ts';
import { isZeroConfig } from '../config/cds/zero-config.ts';
import { ConfigError, formatProblem, type ConfigProblem } from '../config/errors.ts';
import { loadConfigFile } from '../config/load.ts';
import type { Dataplane } from '../dataplane/dataplane.ts';
import { WorkerPool } from '../dataplane/worker-pool.ts';
import { Gateway } from '../server/gateway.ts';
import { ConfigWatch, fileDigest, type ConfigWatchOptions } from './config-watch.ts';
import { LoggerFactory, type LogFormat, type Logger } from '../log/logger.ts';
import { StatsRegistry } from '../stats/registry.ts';
import { Telemetry } from '../telemetry/telemetry.ts';
import { statusFromConfig, type ConfigSourceStatus, type GatewayStatusSnapshot, type StatusSource } from '../telemetry/health.ts';
import { MAIN_EVENT_LOOP, type EventLoop } from '../telemetry/runtime-metrics.ts';
import type { DrainMode } from './command-line.ts';
import { DryRunDataplane } from './dry-run-dataplane.ts';

/** A config to apply, with what validation found questionable in it. */
export interface ConfigUpdate {
  readonly config: StunnerConfig;
  readonly warnings: readonly ConfigProblem[];
}

export interface DaemonOptions {
  /** A stunnerd config or Kubernetes resources file. */
  readonly configPath?: string;
  /** Used when there is no file: a config built in (turn:// URI or the demo default). */
  readonly builtin?: StunnerConfig;
  /** -l: overrides admin.loglevel when given. */
  readonly logLevel?: string;
  readonly logFormat: LogFormat;
  readonly env?: NodeJS.ProcessEnv;
  /** -u: dataplane workers; 1 (the default) runs the gateway on the main thread. */
  readonly workers?: number;
  /** With workers: TURN-UDP clients get connected sockets of their own (default true; see udp-listener.ts). */
  readonly clientSockets?: boolean;
  /** -d: configs are validated and logged, nothing is bound (no listener, no metrics or health server). */
  readonly dryRun?: boolean;
  /** --force-ready-status: /ready answers 200 even while not ready or draining. */
  readonly forceReady?: boolean;
  /** `builtin` is the -w bootstrap zero-config (its health endpoint may differ): not ready until another config. */
  readonly bootstrap?: boolean;
}

export class Daemon implements StatusSource {
  readonly logs: LoggerFactory;
  readonly registry = new StatsRegistry();
  readonly #opts: DaemonOptions;
  readonly #log: Logger;
  #dataplane: Dataplane | undefined;
  #telemetry: Telemetry | undefined;
  #reloading: Promise<boolean> = Promise.resolve(true);
  #draining = false;
  /** Upstream's readiness: set by the first config that is not the bootstrap zero-config, never cleared. */
  #configured = false;
  /** Warnings already logged: a config discovery server resends the same config on every reconnect. */
  readonly #warned = new Set<string>();
  /** What the config file held just before the first load; a watch starts from it. */
  #startDigest: string | undefined;
  /** Where the config comes from, for /status; set by the command. */
  configSource: ConfigSourceStatus | undefined;
  readonly forceReady: boolean;

  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    this.forceReady = opts.forceReady ?? false;
    this.logs = new LoggerFactory({ format: opts.logFormat, levels: opts.logLevel ?? 'all:INFO' });
    this.#log = this.logs.get('stunnerd');
  }

  /** The gateway when it runs on the main thread (one worker). */
  get gateway(): Gateway | undefined {
    return this.#dataplane instanceof Gateway ? this.#dataplane : undefined;
  }

  /** The worker pool when several workers run. */
  get workers(): WorkerPool | undefined {
    return this.#dataplane instanceof WorkerPool ? this.#dataplane : undefined;
  }

  get dataplane(): Dataplane | undefined {
    return this.#dataplane;
  }

  get telemetry(): Telemetry | undefined {
    return this.#telemetry;
  }

  /** The config running now (undefined before start). */
  get config(): StunnerConfig | undefined {
    return this.#dataplane?.config;
  }

  ready(): boolean {
    return this.#dataplane !== undefined && this.#configured && !this.#draining;
  }

  status(): GatewayStatusSnapshot {
    const dp = this.#dataplane;
    const source = this.configSource === undefined ? {} : { configSource: this.configSource };
    if (dp === undefined) return { name: '', configGeneration: 0, listeners: [], clusters: [], ...source };
    const s = statusFromConfig(dp.config, dp.generation);
    // Report the ports actually bound (a config may ask for port 0).
    const listeners = s.listeners.map((l) => ({ ...l, port: dp.boundPort(l.name) ?? l.port }));
    const workers = this.workers?.stats.allocationsByWorker().map((allocations, worker) => ({ worker, allocations }));
    return { ...s, listeners, ...(workers === undefined ? {} : { workers }), ...source };
  }

  async #load(): Promise<ConfigUpdate> {
    if (this.#opts.configPath === undefined) return { config: this.#opts.builtin!, warnings: [] };
    const { config, warnings, source } = await loadConfigFile(this.#opts.configPath, this.#opts.env);
    this.#log.debug('config loaded', { file: this.#opts.configPath, source });
    return { config, warnings };
  }

  #logWarnings(warnings: readonly ConfigProblem[]): void {
    for (const w of warnings) {
      const line = `config: ${formatProblem(w)}`;
      if (this.#warned.has(line)) continue;
      this.#warned.add(line);
      this.#log.warn(line);
    }
  }

  /** Loads the first config and starts everything; throws (with a message naming the problem) on failure. */
  async start(): Promise<void> {
    // Taken before the load: should the file change in between, the watch sees a difference and reloads.
    if (this.#opts.configPath !== undefined) this.#startDigest = await fileDigest(this.#opts.configPath);
    const { config, warnings } = await this.#load();
    this.#logWarnings(warnings);
    this.#applyLogLevel(config);
    this.#configured = this.#opts.bootstrap !== true && !isZeroConfig(config);
    if (this.#opts.dryRun === true) {
      this.#dataplane = new DryRunDataplane(config);
      this.#log.info('dry run: config valid; no listener, metrics or health server is started',
        { name: config.admin.name, listeners: config.listeners.length, clusters: config.clusters.length });
      return;
    }
    const workers = this.#opts.workers ?? 1;
    let pool: WorkerPool | undefined;
    this.#telemetry = new Telemetry({ registry: this.registry, logger: this.logs, status: this, env: this.#opts.env,
      eventLoops: () => pool === undefined ? MAIN_EVENT_LOOP : [...MAIN_EVENT_LOOP, ...workerLoops(pool)],
      threadHeaps: () => pool?.heaps() ?? [] });
    await this.#telemetry.start(config.admin);
    let dataplane: Gateway | WorkerPool;
    if (workers > 1) {
      pool = new WorkerPool(config, { workers, logs: this.logs, logFormat: this.#opts.logFormat, registry: this.registry,
        onGc: (kind, seconds) => this.#telemetry?.recordGc(kind, seconds), clientSockets: this.#opts.clientSockets,
        tracing: this.#telemetry.tracingInit() });
      dataplane = pool;
    } else {
      dataplane = new Gateway(config, { logs: this.logs, registry: this.registry, tracer: this.#telemetry.startTracing()?.turn });
    }
    try {
      await dataplane.start();
    } catch (err) {
      await dataplane.stop();
      await this.#telemetry.shutdown();
      throw err;
    }
    this.#dataplane = dataplane;
    this.registry.gateway.lastReloadSuccessful = 1;
    this.#log.info('stunnerd running', { name: config.admin.name, listeners: config.listeners.length,
      clusters: config.clusters.length, generation: dataplane.generation, workers });
  }

  #applyLogLevel(config: StunnerConfig): void {
    if (this.#opts.logLevel !== undefined) return;
    try {
      this.logs.setLevels(config.admin.loglevel);
    } catch (err) {
      this.#log.warn(`admin.loglevel: ${(err as Error).message}`);
    }
  }

  /**
   * -w: reloads whenever the file's content differs from what the running config was loaded from, including
   * a change made while start() was still binding sockets. A file missing for a second (deleted, unreadable) is
   * logged and counted as a failed reload, once until it is back.
   */
  watch(opts?: ConfigWatchOptions): ConfigWatch {
    if (this.#opts.configPath === undefined) throw new Error('Daemon.watch() needs a config file');
    const file = this.#opts.configPath;
    const stats = this.registry.gateway;
    const watch = new ConfigWatch(file, () => void this.reload('file changed'), {
      ...opts,
      // A config that is not there is a failed reload, counted once per disappearance; nothing is applied.
      onMissing: () => {
        stats.configReloadsFailure++;
        stats.lastReloadSuccessful = 0;
        this.#log.error('config file missing, keeping the running config until it is back', { file });
      },
      onBack: (changed) => {
        this.#log.info(`config file back${changed ? '' : ', as the running config'}`, { file });
        // The file and the running config agree again; a changed file is a reload, which sets it.
        if (!changed) stats.lastReloadSuccessful = 1;
      },
    });
    watch.prime(this.#startDigest);
    return watch;
  }

  /**
   * Loads the config again and applies it in place. Reloads are serialised; a failure keeps the running
   * config, is logged, and counted in stunner_config_reloads_total{result="failure"}.
   */
  reload(reason: string): Promise<boolean> {
    return this.update(reason, () => this.#load());
  }

  /**
   * Applies the config `load` produces, after any reload or update in progress (config discovery pushes them).
   * `load` may resolve undefined to skip (an ignored delete, an unchanged config): nothing is counted then. A
   * throw is a rejected config, counted and logged as a failed reload.
   */
  update(reason: string, load: () => Promise<ConfigUpdate | undefined> | ConfigUpdate | undefined): Promise<boolean> {
    this.#reloading = this.#reloading.then(() => this.#reload(reason, load));
    return this.#reloading;
  }

  async #reload(reason: string, load: () => Promise<ConfigUpdate | undefined> | ConfigUpdate | undefined):
    Promise<boolean> {
    const gw = this.#dataplane;
    if (gw === undefined || this.#draining) return false;
    const stats = this.registry.gateway;
    let next: StunnerConfig;
    try {
      const update = await load();
      if (update === undefined) return false;
      this.#logWarnings(update.warnings);
      next = update.config;
    } catch (err) {
      stats.configReloadsFailure++;
      stats.lastReloadSuccessful = 0;
      this.#log.error('config rejected, keeping the running config',
        { reason, error: err instanceof ConfigError ? err.message : String(err) });
      return false;
    }
    try {
      // The gateway restores the running config itself when the new one cannot be applied.
      await gw.reconfigure(next);
    } catch (err) {
      this.#log.error('config could not be applied, keeping the running config', { reason, error: (err as Error).message });
      stats.configReloadsFailure++;
      stats.lastReloadSuccessful = 0;
      return false;
    }
    this.#applyLogLevel(next);
    try {
      // Endpoint problems come back as a list (already logged); anything thrown must not stop later reloads.
      await this.#telemetry?.reconfigure(next.admin);
    } catch (err) {
      this.#log.error('metrics/health servers could not be reconfigured', { reason, error: (err as Error).message });
    }
    stats.configReloadsSuccess++;
    stats.lastReloadSuccessful = 1;
    if (!this.#configured && !isZeroConfig(next)) this.#configured = true;
    this.#log.info('config reloaded', { reason, generation: gw.generation });
    return true;
  }

  /**
   * SIGTERM: /ready turns 503 (unless forced ready), no more config is applied, existing allocations keep
   * relaying until they end or `drainTimeoutS` passes; new allocations are still accepted (mode `accept`,
   * upstream's) or answered 486 (mode `refuse`). Resolves when it is time to exit.
   */
  async drain(drainTimeoutS?: number, mode: DrainMode = 'refuse'): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#telemetry?.setShuttingDown();
    const dp = this.#dataplane;
    if (dp === undefined) return;
    if (mode === 'refuse') dp.drain();
    const timeoutS = drainTimeoutS ?? dp.config.admin.limits.drain_timeout;
    const deadline = Date.now() + timeoutS * 1000;
    this.#log.info('draining', { allocations: dp.allocations(), timeoutSeconds: timeoutS, mode });
    while (dp.allocations() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    this.#log.info('drained', { remaining: dp.allocations() });
  }

  async stop(): Promise<void> {
    this.#draining = true;
    this.#telemetry?.setShuttingDown();
    await this.#dataplane?.stop();
    await this.#telemetry?.shutdown();
  }
}

function workerLoops(pool: WorkerPool): EventLoop[] {
  return pool.eventLoops().map(({ worker, thread }) => ({
    worker: String(worker), key: thread, utilization: (prev) => thread.performance.eventLoopUtilization(prev),
  }));
}
