// A fixed-bucket histogram of plain numbers, recorded on lifecycle events (not per packet) and read by
// telemetry at collection time. Its values are slots of a Float64Array<ArrayBufferLike>, like every stats field (see
// traffic-counters.ts): bucket counts, then sum, count, min, max.

/** Seconds; a TURN allocation lives from a failed handshake (0 s) to many hours. */
export const ALLOCATION_DURATION_BUCKETS: readonly number[] = [
  1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200,
];

/** Float64 slots a histogram with `boundaries` occupies. */
export function histogramSlots(boundaries: readonly number[]): number {
  return boundaries.length + 1 + 4;
}

/** Sets the slots of an empty histogram (min +Inf, max -Inf, the rest 0). */
export function clearHistogram(memory: Float64Array<ArrayBufferLike>): void {
  memory.fill(0);
  memory[memory.length - 2] = Infinity;
  memory[memory.length - 1] = -Infinity;
}

export class Histogram {
  /** Upper bounds, ascending; an implicit +Inf bucket follows. */
  readonly boundaries: readonly number[];
  /** Non-cumulative counts; `counts.length === boundaries.length + 1`. */
  readonly counts: Float64Array<ArrayBufferLike>;
  readonly #memory: Float64Array<ArrayBufferLike>;
  readonly #sum: number;

  /** `memory` holds `histogramSlots(boundaries)` slots, cleared by the caller when new. */
  constructor(boundaries: readonly number[], memory?: Float64Array<ArrayBufferLike>) {
    this.boundaries = boundaries;
    if (memory === undefined) {
      memory = new Float64Array(histogramSlots(boundaries));
      clearHistogram(memory);
    }
    this.#memory = memory;
    this.#sum = boundaries.length + 1;
    this.counts = memory.subarray(0, this.#sum);
  }

  get sum(): number { return this.#memory[this.#sum]; }
  get count(): number { return this.#memory[this.#sum + 1]; }
  get min(): number { return this.#memory[this.#sum + 2]; }
  get max(): number { return this.#memory[this.#sum + 3]; }

  record(value: number): void {
    let i = 0;
    while (i < this.boundaries.length && value > this.boundaries[i]) i++;
    const m = this.#memory;
    const s = this.#sum;
    m[i]++;
    m[s] += value;
    m[s + 1]++;
    if (value < m[s + 2]) m[s + 2] = value;
    if (value > m[s + 3]) m[s + 3] = value;
  }
}
