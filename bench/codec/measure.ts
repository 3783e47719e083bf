// Timing and allocation measurement for the codec micro-benchmarks: warm up, run for a fixed time, and
// estimate bytes allocated per operation from heap deltas over batches that saw no garbage collection.
import { getHeapStatistics } from 'node:v8';

export interface Measurement {
  readonly name: string;
  readonly nsPerOp: number;
  /** V8 heap bytes allocated per operation (objects, strings, small typed-array headers). */
  readonly heapBytesPerOp: number;
  /** ArrayBuffer bytes per operation (Buffer pool slices, HMAC digests, copies). */
  readonly bufferBytesPerOp: number;
}

/** One operation; returns a number folded into a sink so the work cannot be optimised away. */
export type Op = () => number;

let sink = 0;

/** Keeps the results of the measured operations observable. */
export function sinkValue(): number {
  return sink;
}

function timeFor(op: Op, ms: number): { ops: number; ns: number } {
  const batch = 256;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let ops = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) sink = (sink + op()) | 0;
    ops += batch;
    now = process.hrtime.bigint();
  }
  return { ops, ns: Number(now - start) };
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/**
 * Allocation per op: the growth of the V8 heap and of ArrayBuffer memory over batches of `batch` ops. A
 * batch during which a scavenge ran shows a drop and is discarded; the median of the rest is reported.
 */
function allocation(op: Op, batch: number, batches: number): { heap: number; buffers: number } {
  const heap: number[] = [];
  const buffers: number[] = [];
  for (let b = 0; b < batches; b++) {
    const h0 = getHeapStatistics().used_heap_size;
    const a0 = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < batch; i++) sink = (sink + op()) | 0;
    const h1 = getHeapStatistics().used_heap_size;
    const a1 = process.memoryUsage().arrayBuffers;
    if (h1 >= h0 && a1 >= a0) {
      heap.push((h1 - h0) / batch);
      buffers.push((a1 - a0) / batch);
    }
  }
  return { heap: median(heap), buffers: median(buffers) };
}

export function measure(name: string, op: Op, seconds: number): Measurement {
  timeFor(op, Math.max(200, seconds * 300)); // warm up: let the optimising compiler settle
  const { ops, ns } = timeFor(op, seconds * 1000);
  const { heap, buffers } = allocation(op, 1000, 60);
  return { name, nsPerOp: ns / ops, heapBytesPerOp: heap, bufferBytesPerOp: buffers };
}
