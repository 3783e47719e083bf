// A dataplane worker: one Gateway on its own event loop, its listeners bound with SO_REUSEPORT next to the other
// workers' (the kernel spreads clients over them by 5-tuple), its stats in its stripe of shared memory. The main
// thread (worker-pool.ts) tells it what to run; everything per packet stays here.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { StunnerConfig } from '../config/types.ts';
import { LoggerFactory, RateLimitedLog } from '../log/logger.ts';
import { installOtelDiagnostics } from '../telemetry/diag.ts';
import { workerTracing } from '../telemetry/tracing.ts';
import { Gateway } from '../server/gateway.ts';
import { StatsRegistry } from '../stats/registry.ts';
import { stripeMemory } from '../stats/shared-stats.ts';
import type { FlowDirectory } from '../server/flow-directory.ts';
import { stateForWorker } from '../shared/dataplane-state.ts';
import { FlowOwners } from './flow-owners.ts';
import {
  workerError, type BoundPorts, type ForwardedDatagram, type FromWorker, type ToWorker, type WorkerInit,
} from './protocol.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const logs = new LoggerFactory({ format: init.logFormat, levels: init.logLevels });
const log = logs.get('worker');
const post = (msg: FromWorker) => port.postMessage(msg);

function portsOf(gw: Gateway): BoundPorts {
  return Object.fromEntries([...gw.listeners].map(([name, l]) => [name, l.address.port]));
}

// Stats objects are created by name when a listener or route first appears; they take their memory from the
// blocks of the config being applied.
let memory = stripeMemory(init.blocks, init.id);
const registry = new StatsRegistry({
  listener: (name) => memory.listener(name),
  cluster: (listener, cluster) => memory.cluster(listener, cluster),
});

// Flows: recorded in the shared table; datagrams of another worker's flows go to it over a MessagePort.
const owners = new FlowOwners(init.flows, init.id);
const peers = new Map<number, MessagePort>();
const flows: FlowDirectory = {
  claim: (listener, address, p) => void owners.set(listener, address, p, init.id),
  release: (listener, address, p) => owners.delete(listener, address, p, init.id),
  forward(listener, msg, address, p) {
    const owner = owners.owner(listener, address, p);
    const to = owner === init.id ? undefined : peers.get(owner);
    if (to === undefined) return false;
    to.postMessage({ listener, data: msg, address, port: p } satisfies ForwardedDatagram);
    owners.countForwarded();
    return true;
  },
};
// What this worker holds in the shared tables carries its id, so the main thread can give it back if it dies.
const shared = stateForWorker(init.shared, init.id);
// STRICT_DNS host names are resolved by the main thread (main-resolver.ts); the Gateway reads its answers.
let dns = new Map(init.dns);
// Spans are exported from here, by this worker's own provider: nothing crosses threads per request.
const traceLog = new RateLimitedLog(60_000);
if (init.tracing !== undefined) installOtelDiagnostics(logs.get('telemetry'), traceLog);
const tracing = init.tracing === undefined ? undefined : workerTracing(init.tracing, logs.get('telemetry'), traceLog, init.id);
const gateway = new Gateway(init.config, {
  logs, registry, reusePort: true, flows, shared, resolver: async (host) => [...dns.get(host) ?? []], dnsRefreshMs: 0,
  clientSockets: init.clientSockets, tracer: tracing?.turn,
});

function receiveForwarded(d: ForwardedDatagram): void {
  // Forwarded once, never again: the listener handles it here whatever it finds.
  gateway.listeners.get(d.listener)?.receiveForwarded?.(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength),
    { address: d.address, port: d.port });
}

/** How long a stopping worker waits for its last spans to be exported (under the pool's stop timeout). */
const TRACE_FLUSH_TIMEOUT_MS = 5000;

// The main thread's runtime metrics cover this thread too: its heap and its garbage collections.
const RUNTIME_REPORT_MS = 1000;
let gc: [number, number][] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gc.push([(e as { detail?: { kind?: number } }).detail?.kind ?? 0, e.duration / 1000]);
});
gcObserver.observe({ entryTypes: ['gc'] });
setInterval(() => {
  const h = getHeapStatistics();
  post({ type: 'runtime', heap: { used: h.used_heap_size, total: h.total_heap_size, external: process.memoryUsage().external }, gc });
  gc = [];
}, RUNTIME_REPORT_MS).unref();

try {
  await gateway.start();
  if (init.draining) gateway.drain();
  log.debug('worker started', { worker: init.id });
  post({ type: 'started', ports: portsOf(gateway) });
} catch (err) {
  await gateway.stop().catch(() => {});
  post({ type: 'start-failed', error: workerError(err) });
  port.close();
}

port.on('message', (msg: ToWorker) => void handle(msg));

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'reconfigure': {
      memory = stripeMemory(msg.blocks, init.id);
      // The buffers of listeners this config adds (those already here are the same memory).
      for (const [name, buffers] of msg.relayPorts) shared.relayPorts.set(name, buffers);
      dns = new Map(msg.dns);
      try {
        logs.setLevels(msg.logLevels);
      } catch {
        // the main thread has checked and logged the spec
      }
      try {
        await gateway.reconfigure(msg.config as StunnerConfig);
        post({ type: 'done', seq: msg.seq, ports: portsOf(gateway) });
      } catch (err) {
        post({ type: 'failed', seq: msg.seq, error: workerError(err) });
      }
      return;
    }
    case 'drain':
      gateway.drain();
      return;
    case 'dns':
      dns = new Map(msg.dns);
      await gateway.refreshDns();
      return;
    case 'peer':
      peers.set(msg.worker, msg.port);
      msg.port.on('message', receiveForwarded);
      msg.port.on('close', () => {
        if (peers.get(msg.worker) === msg.port) peers.delete(msg.worker);
      });
      return;
    case 'stop':
      await gateway.stop();
      // The spans of the allocations the stop ended, and any still queued; a dead collector cannot hold this up.
      await tracing?.shutdown(TRACE_FLUSH_TIMEOUT_MS);
      post({ type: 'done', seq: msg.seq, ports: {} });
      port.close();
      return;
  }
}
