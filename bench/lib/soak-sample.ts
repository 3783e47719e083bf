// One soak sample of a running stunnerd: what /proc says of the process (RSS, open descriptors), what its own
// /metrics says (heap, active resources by type, allocations, packet counters) and /status's allocation count.
import { readdirSync } from 'node:fs';
import { rssBytes } from './proc.ts';

export interface SoakSample {
  /** Seconds since the soak started. */
  readonly t: number;
  readonly rssMiB: number;
  readonly fds: number;
  /** Descriptors other than an allocation's own: its relay socket, and with several workers (reuseport) a UDP
   *  socket connected to its client (src/server/udp-listener.ts). What must not grow with the load. */
  readonly otherFds: number;
  readonly heapUsedMiB: number;
  /** What the heaps hold from the system (heapUsed plus free space V8 keeps), and memory outside them that V8
   *  knows of (ArrayBuffers: datagrams, Buffers): with rssMiB, where memory goes. Summed over threads. */
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  /** nodejs_active_resources summed over types; `timers` is its Timeout (and Immediate) part. */
  readonly resources: number;
  readonly timers: number;
  /** stunner_allocations_active summed over listeners, and /status allocationCount. */
  readonly allocations: number;
  readonly statusAllocations: number;
  /** stunner_cluster_packets_total, summed over clusters. */
  readonly clusterTx: number;
  readonly clusterRx: number;
}

/** `series -> value` of a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** Sum of the samples of `family` whose series matches `filter` (a substring of the label set). */
export function sumFamily(m: ReadonlyMap<string, number>, family: string, filter = ''): number {
  let sum = 0;
  for (const [series, v] of m) {
    if ((series === family || series.startsWith(`${family}{`)) && series.includes(filter)) sum += v;
  }
  return sum;
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

export async function takeSample(pid: number, metricsUrl: string, statusUrl: string, t: number,
  fdsPerAllocation: number): Promise<SoakSample> {
  const m = parseExposition(await getText(metricsUrl));
  const status = JSON.parse(await getText(statusUrl)) as { allocationCount: number };
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const allocations = sumFamily(m, 'stunner_allocations_active');
  return {
    t,
    rssMiB: rssBytes(pid) / 2 ** 20,
    fds,
    otherFds: fds - fdsPerAllocation * allocations,
    heapUsedMiB: sumFamily(m, 'nodejs_heap_size_used_bytes') / 2 ** 20,
    heapTotalMiB: sumFamily(m, 'nodejs_heap_size_total_bytes') / 2 ** 20,
    externalMiB: sumFamily(m, 'nodejs_external_memory_bytes') / 2 ** 20,
    resources: sumFamily(m, 'nodejs_active_resources'),
    timers: sumFamily(m, 'nodejs_active_resources', 'Timeout') + sumFamily(m, 'nodejs_active_resources', 'Immediate'),
    allocations,
    statusAllocations: status.allocationCount,
    clusterTx: sumFamily(m, 'stunner_cluster_packets_total', 'direction="tx"'),
    clusterRx: sumFamily(m, 'stunner_cluster_packets_total', 'direction="rx"'),
  };
}
