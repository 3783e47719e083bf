// A fixed-bucket histogram of plain numbers, recorded on lifecycle events (not per packet) and read by
// telemetry at collection time. Its values are slots of a Float64Array<ArrayBufferLike>, like every stats field (see
// traffic-counters.ts): bucket counts, sum, count, min, max, then each bucket's latest exemplar (the sampled span an
// observation belongs to). With several workers the memory is one worker's stripe of shared memory, read by the
// main thread while the worker records (shared-stats.ts): an exemplar is several slots, so its writes are fenced by
// a sequence number (a seqlock) and a reader never takes the trace id of one observation with the value of another.

/** Seconds; a TURN allocation lives from a failed handshake (0 s) to many hours. */
export const ALLOCATION_DURATION_BUCKETS: readonly number[] = [
  1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200,
];

/** The sampled span an observation belongs to: lowercase hex, 32 and 16 digits. */
export interface ExemplarRef { readonly traceId: string; readonly spanId: string }

/** A bucket's exemplar as readers see it. */
export interface Exemplar {
  /** The observed value. */
  readonly value: number;
  /** When it was recorded: ms since the epoch (wall clock). */
  readonly timeMs: number;
  readonly traceId: string;
  readonly spanId: string;
}

/** Where the exemplars are, for readers that write them out (openmetrics-text.ts, the OTLP producer). */
export interface ExemplarSource {
  exemplar(bucket: number): Exemplar | undefined;
}

/**
 * Slots of one exemplar: time (ms, 0 = none), value, the trace id as four 32-bit words and the span id as two
 * (most significant first). Every word is an integer below 2^32, exact in a float64.
 */
export const EXEMPLAR_SLOTS = 8;
const E_TIME = 0;
const E_VALUE = 1;
const E_TRACE = 2;
const E_SPAN = 6;

/** Where a histogram's fields are, relative to its first slot. */
function layout(buckets: number): { sum: number; seq: number; exemplars: number; slots: number } {
  const sum = buckets;
  const seq = sum + 4; // after sum, count, min, max
  return { sum, seq, exemplars: seq + 1, slots: seq + 1 + buckets * EXEMPLAR_SLOTS };
}

/** Float64 slots a histogram with `boundaries` occupies. */
export function histogramSlots(boundaries: readonly number[]): number {
  return layout(boundaries.length + 1).slots;
}

/** Sets the slots of an empty histogram (min +Inf, max -Inf, the rest 0: no exemplars). */
export function clearHistogram(memory: Float64Array<ArrayBufferLike>, boundaries: readonly number[]): void {
  const { sum } = layout(boundaries.length + 1);
  memory.fill(0);
  memory[sum + 2] = Infinity;
  memory[sum + 3] = -Infinity;
}

/** Scratch for consistent reads (one thread, never re-entered). */
const candidate = new Float64Array(EXEMPLAR_SLOTS);
const latest = new Float64Array(EXEMPLAR_SLOTS);

export class Histogram implements ExemplarSource {
  /** Upper bounds, ascending; an implicit +Inf bucket follows. */
  readonly boundaries: readonly number[];
  /** Non-cumulative counts; `counts.length === boundaries.length + 1`. */
  readonly counts: Float64Array<ArrayBufferLike>;
  readonly #memory: Float64Array<ArrayBufferLike>;
  readonly #sum: number;
  readonly #exemplars: number;
  /** The sequence number of the exemplar slots, odd while a record writes them; an Int32 view (for Atomics) of the
   *  first half of its float64 slot. */
  readonly #seq: Int32Array<ArrayBufferLike>;

  /** `memory` holds `histogramSlots(boundaries)` slots, cleared by the caller when new. */
  constructor(boundaries: readonly number[], memory?: Float64Array<ArrayBufferLike>) {
    this.boundaries = boundaries;
    if (memory === undefined) {
      memory = new Float64Array(histogramSlots(boundaries));
      clearHistogram(memory, boundaries);
    }
    const l = layout(boundaries.length + 1);
    this.#memory = memory;
    this.#sum = l.sum;
    this.#exemplars = l.exemplars;
    this.#seq = new Int32Array(memory.buffer, memory.byteOffset + l.seq * Float64Array.BYTES_PER_ELEMENT, 1);
    this.counts = memory.subarray(0, l.sum);
  }

  get sum(): number { return this.#memory[this.#sum]; }
  get count(): number { return this.#memory[this.#sum + 1]; }
  get min(): number { return this.#memory[this.#sum + 2]; }
  get max(): number { return this.#memory[this.#sum + 3]; }

  /** Counts `value`; with `exemplar` (a sampled span), that span becomes the exemplar of `value`'s bucket. */
  record(value: number, exemplar?: ExemplarRef): void {
    let i = 0;
    while (i < this.boundaries.length && value > this.boundaries[i]) i++;
    const m = this.#memory;
    const s = this.#sum;
    m[i]++;
    m[s] += value;
    m[s + 1]++;
    if (value < m[s + 2]) m[s + 2] = value;
    if (value > m[s + 3]) m[s + 3] = value;
    if (exemplar !== undefined) this.#recordExemplar(i, value, exemplar);
  }

  /** The latest exemplar of `bucket` (index into `counts`), if one was recorded. */
  exemplar(bucket: number): Exemplar | undefined {
    if (bucket < 0 || bucket >= this.counts.length || !this.#readExemplar(bucket, candidate) || candidate[E_TIME] === 0) {
      return undefined;
    }
    return {
      value: candidate[E_VALUE],
      timeMs: candidate[E_TIME],
      traceId: hex(candidate[E_TRACE]) + hex(candidate[E_TRACE + 1]) + hex(candidate[E_TRACE + 2]) + hex(candidate[E_TRACE + 3]),
      spanId: hex(candidate[E_SPAN]) + hex(candidate[E_SPAN + 1]),
    };
  }

  /**
   * This histogram becomes the combination of `parts` (the same histogram as counted by each worker): counts, sum
   * and count add up, min and max combine, and each bucket takes the exemplar recorded last (by wall-clock time).
   * A part being written at this very moment keeps this bucket's previous exemplar until the next combination.
   */
  combine(parts: readonly Histogram[]): void {
    const m = this.#memory;
    const s = this.#sum;
    for (let k = 0; k < s + 2; k++) {
      let total = 0;
      for (const p of parts) total += p.#memory[k];
      m[k] = total;
    }
    let min = Infinity;
    let max = -Infinity;
    for (const p of parts) {
      min = Math.min(min, p.#memory[s + 2]);
      max = Math.max(max, p.#memory[s + 3]);
    }
    m[s + 2] = min;
    m[s + 3] = max;
    for (let b = 0; b < this.counts.length; b++) {
      latest.fill(0);
      let torn = false;
      for (const p of parts) {
        if (!p.#readExemplar(b, candidate)) torn = true;
        else if (candidate[E_TIME] > latest[E_TIME]) latest.set(candidate);
      }
      if (!torn) m.set(latest, this.#exemplars + b * EXEMPLAR_SLOTS);
    }
  }

  /**
   * The thread that recorded into this memory is gone (a dataplane worker died): a write it left half-done would
   * keep every reader out of its exemplars for good, so they are dropped and the sequence number made even.
   */
  writerGone(): void {
    if ((Atomics.load(this.#seq, 0) & 1) === 0) return;
    this.#memory.fill(0, this.#exemplars);
    Atomics.add(this.#seq, 0, 1);
  }

  #recordExemplar(bucket: number, value: number, ref: ExemplarRef): void {
    const { traceId, spanId } = ref;
    if (traceId.length !== 32 || spanId.length !== 16) return;
    const t0 = hexWord(traceId, 0);
    const t1 = hexWord(traceId, 8);
    const t2 = hexWord(traceId, 16);
    const t3 = hexWord(traceId, 24);
    const s0 = hexWord(spanId, 0);
    const s1 = hexWord(spanId, 8);
    // W3C trace context: an all-zero id is invalid, as is anything not hex (-1).
    if (Math.min(t0, t1, t2, t3, s0, s1) < 0 || t0 + t1 + t2 + t3 === 0 || s0 + s1 === 0) return;
    const m = this.#memory;
    const at = this.#exemplars + bucket * EXEMPLAR_SLOTS;
    Atomics.add(this.#seq, 0, 1);
    m[at + E_TIME] = Date.now();
    m[at + E_VALUE] = value;
    m[at + E_TRACE] = t0;
    m[at + E_TRACE + 1] = t1;
    m[at + E_TRACE + 2] = t2;
    m[at + E_TRACE + 3] = t3;
    m[at + E_SPAN] = s0;
    m[at + E_SPAN + 1] = s1;
    Atomics.add(this.#seq, 0, 1);
  }

  /**
   * Copies `bucket`'s exemplar slots into `out`; false when a record was writing them throughout a few attempts.
   * The closing read is an atomic read-modify-write (adding 0), not a load: it orders the plain reads before it
   * (H.-J. Boehm, "Can seqlocks get along with programming language memory models?", 2012).
   */
  #readExemplar(bucket: number, out: Float64Array): boolean {
    const m = this.#memory;
    const at = this.#exemplars + bucket * EXEMPLAR_SLOTS;
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = Atomics.load(this.#seq, 0);
      if ((before & 1) !== 0) continue;
      for (let k = 0; k < EXEMPLAR_SLOTS; k++) out[k] = m[at + k];
      if (Atomics.add(this.#seq, 0, 0) === before) return true;
    }
    return false;
  }
}

/** The 32-bit word of 8 hex digits at `from`, or -1 if one is not a hex digit. */
function hexWord(s: string, from: number): number {
  let word = 0;
  for (let i = from; i < from + 8; i++) {
    const c = s.charCodeAt(i);
    let digit: number;
    if (c >= 48 && c <= 57) digit = c - 48; // 0-9
    else if (c >= 97 && c <= 102) digit = c - 87; // a-f
    else if (c >= 65 && c <= 70) digit = c - 55; // A-F
    else return -1;
    word = word * 16 + digit;
  }
  return word;
}

function hex(word: number): string {
  return word.toString(16).padStart(8, '0');
}
