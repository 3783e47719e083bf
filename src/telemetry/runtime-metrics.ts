// Runtime metrics (docs/metrics.md): Node counterparts of the Go collector metrics, under the names prom-client
// users know. Registered as SDK instruments on the one MeterProvider; every series here has a fixed, small label set.
import { monitorEventLoopDelay, performance, PerformanceObserver, constants, type ELDHistogram, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { countOpenFds, readMaxOpenFiles, readProcStatus, type ProcStatus } from './proc-stats.ts';

/** prom-client's default GC buckets, seconds. */
export const GC_DURATION_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

/** `PerformanceEntry.detail.kind` of a `gc` entry -> label value (prom-client's names). */
const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** A p99 window shorter than this is reported again rather than restarted (two readers collecting back to back). */
/** Shortest window whose event-loop utilisation is reported (ms). */
const MIN_ELU_WINDOW_MS = 100;
const MIN_LAG_WINDOW_MS = 5000;

export interface RuntimeMetrics {
  stop(): void;
  /** A garbage collection in another thread of the process (a dataplane worker): `kind` as a `gc` entry's. */
  recordGc(kind: number, seconds: number): void;
}

/** The heap of another thread of the process (a dataplane worker), as it last reported it. */
export interface ThreadHeap {
  readonly used: number;
  readonly total: number;
  readonly external: number;
}

/** An event loop whose utilisation is exported: the main thread's, or a dataplane worker's. */
export interface EventLoop {
  /** The `worker` label: `main`, or the worker's number. */
  readonly worker: string;
  /** Identifies this loop across collections (a restarted worker is a new loop). */
  readonly key: object;
  utilization(prev?: EventLoopUtilization): EventLoopUtilization;
}

/** The main thread's loop alone: a single-threaded gateway. */
export const MAIN_EVENT_LOOP: readonly EventLoop[] = [
  { worker: 'main', key: performance, utilization: (prev) => performance.eventLoopUtilization(prev) },
];

/** Where the /proc-only figures come from; undefined = the OS has none (the series is then absent). */
export interface ProcSource {
  status(): ProcStatus | undefined;
  openFds(): number | undefined;
  maxFds(): number | undefined;
}

export const LINUX_PROC: ProcSource = { status: readProcStatus, openFds: countOpenFds, maxFds: readMaxOpenFiles };

export function registerRuntimeMetrics(meter: Meter, proc: ProcSource = LINUX_PROC,
  eventLoops: () => readonly EventLoop[] = () => MAIN_EVENT_LOOP, threads: () => readonly ThreadHeap[] = () => []): RuntimeMetrics {
  const counter = (name: string, unit: string, description: string): Observable =>
    meter.createObservableCounter(name, { unit, description });
  const gauge = (name: string, unit: string, description: string): Observable =>
    meter.createObservableGauge(name, { unit, description });

  const cpuTotal = counter('process_cpu_seconds_total', 's', 'Total user and system CPU time spent in seconds.');
  const cpuUser = counter('process_cpu_user_seconds_total', 's', 'Total user CPU time spent in seconds.');
  const cpuSystem = counter('process_cpu_system_seconds_total', 's', 'Total system CPU time spent in seconds.');
  const startTime = gauge('process_start_time_seconds', 's', 'Start time of the process since unix epoch in seconds.');
  const resident = gauge('process_resident_memory_bytes', 'By', 'Resident memory size in bytes.');
  const virtual = gauge('process_virtual_memory_bytes', 'By', 'Virtual memory size in bytes.');
  const heap = gauge('process_heap_bytes', 'By', 'Process heap (data segment) size in bytes.');
  const openFds = gauge('process_open_fds', '{file_descriptor}', 'Number of open file descriptors.');
  const maxFds = gauge('process_max_fds', '{file_descriptor}', 'Maximum number of open file descriptors.');
  const lag = gauge('nodejs_eventloop_lag_seconds', 's', 'Lag of event loop in seconds.');
  const lagP99 = gauge('nodejs_eventloop_lag_p99_seconds', 's',
    'The 99th percentile of the event loop delay since the previous collection, in seconds.');
  const utilization = gauge('nodejs_eventloop_utilization', '',
    'Fraction of time the event loop was busy (not waiting for I/O) over the last window of at least 5 s, by thread.');
  const heapUsed = gauge('nodejs_heap_size_used_bytes', 'By', 'Process heap size used from Node.js in bytes.');
  const heapTotal = gauge('nodejs_heap_size_total_bytes', 'By', 'Process heap size from Node.js in bytes.');
  const external = gauge('nodejs_external_memory_bytes', 'By', 'Node.js external memory size in bytes.');
  const resources = gauge('nodejs_active_resources', '{resource}',
    'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.');
  const versionInfo = gauge('nodejs_version_info', '', 'Node.js version info.');
  const gcDuration = meter.createHistogram('nodejs_gc_duration_seconds', {
    unit: 's',
    description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    advice: { explicitBucketBoundaries: GC_DURATION_BUCKETS },
  });

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const p99 = new LagWindow(delay);
  const gcAttributes = new Map<number, Attributes>();
  const recordGc = (kind: number, seconds: number): void => {
    let attributes = gcAttributes.get(kind);
    if (attributes === undefined) {
      attributes = { kind: GC_KINDS[kind] ?? 'unknown' };
      gcAttributes.set(kind, attributes);
    }
    gcDuration.record(seconds, attributes);
  };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) recordGc((entry as { detail?: { kind?: number } }).detail?.kind ?? 0, entry.duration / 1000);
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const [major, minor, patch] = process.versions.node.split('.');
  const versionLabels = { version: process.version, major, minor, patch };
  const processStart = performance.timeOrigin / 1000;
  // A resource type once seen is reported as 0 when it is gone: an observable gauge would otherwise keep
  // exporting its last count (cumulative storage keeps series that a callback stops observing).
  const resourceTypes = new Set<string>();
  const eluWindows = new WeakMap<object, EluWindow>();

  meter.addBatchObservableCallback(async (result: BatchObservableResult) => {
    // As prom-client: how long a callback queued at the start of the collection waits for the event loop.
    const lagStart = performance.now();
    const lagSeconds = new Promise<number>((resolve) => setImmediate(() => resolve((performance.now() - lagStart) / 1000)));
    const cpu = process.cpuUsage();
    result.observe(cpuUser, cpu.user / 1e6);
    result.observe(cpuSystem, cpu.system / 1e6);
    result.observe(cpuTotal, (cpu.user + cpu.system) / 1e6);
    result.observe(startTime, processStart);

    const status = proc.status();
    // libuv knows the resident set size on every OS; the other figures exist only in /proc.
    result.observe(resident, status?.residentBytes ?? process.memoryUsage.rss());
    observeDefined(result, virtual, status?.virtualBytes);
    observeDefined(result, heap, status?.dataBytes);
    observeDefined(result, openFds, proc.openFds());
    observeDefined(result, maxFds, proc.maxFds());

    // Every thread's heap: the main thread's and the dataplane workers' (each has its own V8 heap).
    const h = getHeapStatistics();
    let used = h.used_heap_size;
    let total = h.total_heap_size;
    let ext = process.memoryUsage().external;
    for (const t of threads()) {
      used += t.used;
      total += t.total;
      ext += t.external;
    }
    result.observe(heapUsed, used);
    result.observe(heapTotal, total);
    result.observe(external, ext);

    const counts = new Map<string, number>();
    for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
    for (const type of counts.keys()) resourceTypes.add(type);
    for (const type of resourceTypes) result.observe(resources, counts.get(type) ?? 0, { type });

    for (const loop of eventLoops()) {
      let w = eluWindows.get(loop.key);
      if (w === undefined) {
        w = new EluWindow(loop);
        eluWindows.set(loop.key, w);
      }
      result.observe(utilization, w.read(), w.attributes);
    }

    result.observe(versionInfo, 1, versionLabels);
    observeDefined(result, lagP99, p99.read());
    result.observe(lag, await lagSeconds);
  }, [cpuTotal, cpuUser, cpuSystem, startTime, resident, virtual, heap, openFds, maxFds, lag, lagP99,
    heapUsed, heapTotal, external, resources, versionInfo, utilization]);

  return {
    stop(): void {
      gcObserver.disconnect();
      delay.disable();
    },
    recordGc,
  };
}

function observeDefined(result: BatchObservableResult, o: Observable, value: number | undefined): void {
  if (value !== undefined) result.observe(o, value);
}

/** p99 of the event loop delay over a window that restarts at each collection at least MIN_LAG_WINDOW_MS apart. */
class LagWindow {
  readonly #h: ELDHistogram;
  #windowStart = performance.now();
  #last: number | undefined;

  constructor(h: ELDHistogram) {
    this.#h = h;
  }

  read(): number | undefined {
    if (this.#h.count > 0) this.#last = this.#h.percentile(99) / 1e9;
    if (performance.now() - this.#windowStart >= MIN_LAG_WINDOW_MS) {
      this.#h.reset();
      this.#windowStart = performance.now();
    }
    return this.#last;
  }
}

/** Event-loop utilisation over a window that restarts at each collection at least MIN_LAG_WINDOW_MS apart. */
class EluWindow {
  readonly attributes: Attributes;
  readonly #loop: EventLoop;
  #start: EventLoopUtilization;
  #last: number;

  constructor(loop: EventLoop) {
    this.#loop = loop;
    this.attributes = { worker: loop.worker };
    this.#start = loop.utilization();
    this.#last = this.#start.utilization;
  }

  read(): number {
    const now = this.#loop.utilization();
    const active = now.active - this.#start.active;
    const total = active + now.idle - this.#start.idle;
    // A window too short to mean anything keeps the value before it (at first: the loop's lifetime figure).
    if (total >= MIN_ELU_WINDOW_MS) this.#last = Math.min(1, Math.max(0, active / total));
    if (total >= MIN_LAG_WINDOW_MS) this.#start = now;
    return this.#last;
  }
}
