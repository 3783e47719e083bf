// ChallengeLimiter's token buckets shared by every worker thread, keyed by a 64-bit hash of the client IP, so
// the per-IP budget of 401/438 answers holds for the whole process whichever worker a source's datagrams
// reach.
//
// A key lives in the first slot holding it within a window of WINDOW slots from its hash. Each slot's state
// word is its lock (EMPTY, LIVE, or busy while one thread updates it), taken around the float update. A bucket
// that has refilled completely is as good as none, so a new key may take over such a slot (or an EMPTY one);
// prune() empties them. When a window has neither, the new key is refused: the answer is dropped, as the
// single-threaded limiter drops it when it holds too many sources.
//
// A busy slot names its holder (-tag, spin-lock.ts): every thread looking up a key of that window waits on it,
// so when its holder dies inside the section the main thread frees it (releaseWorker), as EMPTY: its key or
// floats may be half-written, and an empty slot is a full bucket, which is what prune() makes of a bucket
// anyway. At worst one source's budget starts again full once.
import { hashKey, newSeed } from './key-hash.ts';
import { backoff, holderTag } from './spin-lock.ts';

const SLOTS = 1 << 16;
const MASK = SLOTS - 1;
const WINDOW = 16;
/** Header: seed (Int32 word 0), then unused up to 32 bytes. Per slot, 32 bytes: Int32 words state, key high,
 *  key low, unused; Float64 tokens, at (the clock ms of the last update). */
const HEADER_BYTES = 32;
const SLOT_BYTES = 32;
const SEED = 0;
const EMPTY = 0;
const LIVE = 1;

export class SharedTokenBuckets {
  static createBuffer(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(HEADER_BYTES + SLOTS * SLOT_BYTES);
    new Int32Array(buffer)[SEED] = newSeed();
    return buffer;
  }

  readonly #words: Int32Array;
  readonly #floats: Float64Array;
  readonly #seed: number;
  readonly #key = new Int32Array(2);
  /** The state of a slot this thread holds: -(holder tag). */
  readonly #busy: number;

  /** `worker`: the id of the worker thread that takes through this table (worker-pool.ts). */
  constructor(buffer: SharedArrayBuffer, worker?: number) {
    this.#words = new Int32Array(buffer);
    this.#floats = new Float64Array(buffer);
    this.#seed = this.#words[SEED];
    this.#busy = -holderTag(worker);
  }

  /** Takes one token of `key`'s bucket (`rate` per second, `rate` × 2 deep) at `now`; false if it has none. */
  take(key: string, now: number, rate: number): boolean {
    hashKey(key, this.#seed, this.#key);
    const high = this.#key[0];
    const low = this.#key[1];
    const burst = rate * 2;
    const w = this.#words;
    for (let tries = 0; ; tries++) {
      let free = -1;
      let found = -1;
      let busy = -1;
      let holder = 0;
      for (let i = 0; i < WINDOW; i++) {
        const s = ((low + i) & MASK) * (SLOT_BYTES / 4) + HEADER_BYTES / 4;
        const state = Atomics.load(w, s);
        if (state < 0) {
          // Its key is being written: it may be ours, so nothing after it can be trusted to be the first.
          busy = s;
          holder = state;
          break;
        }
        if (state === LIVE && w[s + 1] === high && w[s + 2] === low) {
          found = s;
          break;
        }
        if (free < 0 && (state === EMPTY || this.#refilled(s, now, burst, rate))) free = s;
      }
      if (busy >= 0) {
        backoff(w, busy, holder, tries);
        continue;
      }
      if (found >= 0) {
        if (Atomics.compareExchange(w, found, LIVE, this.#busy) !== LIVE) continue;
        if (w[found + 1] !== high || w[found + 2] !== low) {
          Atomics.store(w, found, LIVE);
          continue;
        }
        const f = found / 2;
        const tokens = Math.min(burst, this.#floats[f + 2] + ((now - this.#floats[f + 3]) / 1000) * rate);
        const allowed = tokens >= 1;
        this.#floats[f + 2] = allowed ? tokens - 1 : tokens;
        this.#floats[f + 3] = now;
        Atomics.store(w, found, LIVE);
        return allowed;
      }
      if (free < 0) return false;
      const was = Atomics.load(w, free);
      if (was < 0 || Atomics.compareExchange(w, free, was, this.#busy) !== was) continue;
      // Another thread may have put a live bucket here since the look.
      if (was === LIVE && !this.#refilled(free, now, burst, rate)) {
        Atomics.store(w, free, LIVE);
        continue;
      }
      w[free + 1] = high;
      w[free + 2] = low;
      const f = free / 2;
      this.#floats[f + 2] = burst >= 1 ? burst - 1 : burst;
      this.#floats[f + 3] = now;
      Atomics.store(w, free, LIVE);
      return burst >= 1;
    }
  }

  /** Empties the slots whose buckets have refilled completely at `now`. */
  prune(now: number, rate: number): void {
    const w = this.#words;
    const burst = rate * 2;
    for (let i = 0; i < SLOTS; i++) {
      const s = i * (SLOT_BYTES / 4) + HEADER_BYTES / 4;
      if (Atomics.load(w, s) !== LIVE || !this.#refilled(s, now, burst, rate)) continue;
      if (Atomics.compareExchange(w, s, LIVE, this.#busy) !== LIVE) continue;
      Atomics.store(w, s, this.#refilled(s, now, burst, rate) ? EMPTY : LIVE);
    }
  }

  /** Main thread, after worker `worker`'s 'exit': empties the slots it held; how many (one at most). */
  releaseWorker(worker: number): number {
    const busy = -holderTag(worker);
    const w = this.#words;
    let freed = 0;
    for (let i = 0; i < SLOTS; i++) {
      const s = i * (SLOT_BYTES / 4) + HEADER_BYTES / 4;
      if (Atomics.load(w, s) === busy && Atomics.compareExchange(w, s, busy, EMPTY) === busy) {
        Atomics.notify(w, s);
        freed++;
      }
    }
    return freed;
  }

  /** The bucket at word `s` holds `burst` tokens at `now` (read unlocked: a guess until its slot is locked). */
  #refilled(s: number, now: number, burst: number, rate: number): boolean {
    const f = s / 2;
    return this.#floats[f + 2] + ((now - this.#floats[f + 3]) / 1000) * rate >= burst;
  }
}
