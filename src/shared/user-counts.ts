// AllocationQuota's counts shared by every worker thread: allocations in total and per user id, in one
// SharedArrayBuffer, so admin.limits.max_allocations and admin.user_quota hold for the whole process; and per
// user and worker, so that what a worker that died held is given back (releaseWorker).
//
// One open-addressing table (linear probing) keyed by a 64-bit hash of the user id and a tag: tag 0 is the
// user's count in every worker (what user_quota is checked against), a holder tag (spin-lock.ts) the user's
// count in that worker. An entry whose count drops to 0 leaves the table (backward-shift deletion, so no
// tombstones pile up). Every operation runs under one lock word: they happen per Allocate and per deletion,
// never per packet, and take a few dozen instructions. The table has a fixed size: when it is as full as
// linear probing stays fast, a user not in it yet is refused (answered as quota reached), not let through
// uncounted.
//
// The lock word names its holder. A worker that dies holding it (worker.terminate() can stop a thread between
// any two instructions) may leave a count, the total or a backward shift half done. releaseWorker() repairs
// that without knowing what was done: the per-worker entries of the live workers are the truth, and it builds
// the table again from them, summing the per-user entries and the total. For that, the writes under the lock
// keep one rule: an entry of another worker is only ever moved, and a slot being written to or cleared reads
// tag INVALID until it is whole, so every live worker's entry is whole in some slot, at worst twice.
import { hashKey, newSeed } from './key-hash.ts';
import { forceUnlock, holderTag, lock, lockWithin, NO_WORKER, unlock } from './spin-lock.ts';
import { removeSlot, type ProbeLayout } from './linear-probe.ts';

const SLOTS = 1 << 18;
const MASK = SLOTS - 1;
/** Entries (slots in use) beyond which a new one is refused. */
const MAX_ENTRIES = (SLOTS / 8) * 7;
/** Int32 words: lock, total, entries, seed; then per slot: key high, key low, tag, count. */
const LOCK = 0;
const TOTAL = 1;
const ENTRIES = 2;
const SEED = 3;
const SLOT0 = 4;
const STRIDE = 4;
const HIGH = 0;
const LOW = 1;
const TAG = 2;
const COUNT = 3;
/** The tag of a user's count in every worker. */
const ALL = 0;
/** The tag of a slot half written: not an entry. */
const INVALID = -1;
/** How long releaseWorker waits for the lock held by another thread (that worker died too, unhandled yet). */
const LOCK_WAIT_MS = 1000;

export class SharedUserCounts {
  static createBuffer(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((SLOT0 + SLOTS * STRIDE) * 4);
    new Int32Array(buffer)[SEED] = newSeed();
    return buffer;
  }

  readonly #words: Int32Array;
  readonly #seed: number;
  readonly #tag: number;
  readonly #key = new Int32Array(2);

  /** `worker`: the id of the worker thread whose allocations this counts (worker-pool.ts). */
  constructor(buffer: SharedArrayBuffer, worker?: number) {
    this.#words = new Int32Array(buffer);
    this.#seed = this.#words[SEED];
    this.#tag = holderTag(worker);
  }

  /** Allocations held now, by every user in every worker. */
  get total(): number {
    return Atomics.load(this.#words, TOTAL);
  }

  /** Takes one allocation for `userId`; false if a limit is reached (0 = unlimited) or the table is full. */
  acquire(userId: string, userQuota: number, maxAllocations: number): boolean {
    hashKey(userId, this.#seed, this.#key);
    const w = this.#words;
    lock(w, LOCK, this.#tag);
    try {
      const all = this.#find(ALL);
      const n = all >= 0 ? w[all + COUNT] : 0;
      if (userQuota > 0 && n >= userQuota) return false;
      if (maxAllocations > 0 && w[TOTAL] >= maxAllocations) return false;
      const mine = this.#find(this.#tag);
      if (w[ENTRIES] + (all < 0 ? 1 : 0) + (mine < 0 ? 1 : 0) > MAX_ENTRIES) return false;
      this.#add(all, ALL);
      // The user's entry may have taken the slot where the probe for this worker's ended.
      this.#add(mine >= 0 ? mine : this.#find(this.#tag), this.#tag);
      w[TOTAL]++;
      return true;
    } finally {
      unlock(w, LOCK);
    }
  }

  /** Gives back one allocation of `userId` taken by this worker; nothing if it holds none. */
  release(userId: string): void {
    hashKey(userId, this.#seed, this.#key);
    const w = this.#words;
    lock(w, LOCK, this.#tag);
    try {
      const mine = this.#find(this.#tag);
      if (mine < 0) return;
      this.#subtract(mine);
      // Removing this worker's entry may have moved the user's back.
      const all = this.#find(ALL);
      if (all >= 0) this.#subtract(all);
      if (w[TOTAL] > 0) w[TOTAL]--;
    } finally {
      unlock(w, LOCK);
    }
  }

  /** Allocations `userId` holds in every worker. */
  usage(userId: string): number {
    hashKey(userId, this.#seed, this.#key);
    const w = this.#words;
    lock(w, LOCK, this.#tag);
    try {
      const at = this.#find(ALL);
      return at >= 0 ? w[at + COUNT] : 0;
    } finally {
      unlock(w, LOCK);
    }
  }

  /**
   * Main thread, after worker `worker`'s 'exit': gives back every allocation it held, in the total and per user,
   * and frees the lock if it died holding it. Returns how many allocations. Throws if another thread holds the
   * lock for longer than a section can take (another worker that died and whose 'exit' comes next).
   */
  releaseWorker(worker: number): number {
    const dead = holderTag(worker);
    const w = this.#words;
    forceUnlock(w, LOCK, dead);
    if (!lockWithin(w, LOCK, NO_WORKER, LOCK_WAIT_MS)) {
      const holder = Atomics.load(w, LOCK);
      throw new Error(`allocation counts: the lock is held by ${holder === NO_WORKER ? 'a thread' : `worker ${holder - 1}`} for over ${LOCK_WAIT_MS} ms`);
    }
    try {
      return this.#rebuild(dead);
    } finally {
      unlock(w, LOCK);
    }
  }

  /**
   * Builds the table again from the per-worker entries of every worker but `dead`'s; returns how many
   * allocations `dead` held. Locked. It runs once per worker that dies, so it may take its time and memory.
   */
  #rebuild(dead: number): number {
    const w = this.#words;
    // By key and tag: a shift cut short leaves an entry whole in two slots, which is one entry.
    const entries = new Map<string, readonly [number, number, number, number]>();
    for (let at = SLOT0; at < SLOT0 + SLOTS * STRIDE; at += STRIDE) {
      const tag = w[at + TAG];
      if ((w[at + HIGH] === 0 && w[at + LOW] === 0) || tag === ALL || tag === INVALID) continue;
      entries.set(`${w[at + HIGH]},${w[at + LOW]},${tag}`, [w[at + HIGH], w[at + LOW], tag, w[at + COUNT]]);
    }
    w.fill(0, SLOT0);
    w[ENTRIES] = 0;
    let total = 0;
    let released = 0;
    for (const [high, low, tag, count] of entries.values()) {
      if (tag === dead) {
        released += count;
        continue;
      }
      this.#key[0] = high;
      this.#key[1] = low;
      this.#add(this.#find(tag), tag, count);
      this.#add(this.#find(ALL), ALL, count);
      total += count;
    }
    // One store: `total` is read without the lock.
    Atomics.store(w, TOTAL, total);
    return released;
  }

  /** The word index of the slot holding (#key, tag), or ~index of the empty slot where its probe ends. Locked. */
  #find(tag: number): number {
    const w = this.#words;
    const [high, low] = this.#key;
    for (let i = home(low, tag); ; i = (i + 1) & MASK) {
      const at = SLOT0 + i * STRIDE;
      if (w[at + HIGH] === high && w[at + LOW] === low && w[at + TAG] === tag) return at;
      if (w[at + HIGH] === 0 && w[at + LOW] === 0) return ~at;
    }
  }

  /** Adds `n` to the entry #find returned (`at`), or puts (#key, tag) with count `n` in the slot ~at. Locked. */
  #add(at: number, tag: number, n = 1): void {
    const w = this.#words;
    if (at >= 0) {
      w[at + COUNT] += n;
      return;
    }
    const slot = ~at;
    w[slot + TAG] = INVALID;
    w[slot + COUNT] = n;
    w[slot + HIGH] = this.#key[0];
    w[slot + LOW] = this.#key[1];
    w[slot + TAG] = tag;
    w[ENTRIES]++;
  }

  /** Takes 1 from the entry at `at`, removing it at 0. Locked. */
  #subtract(at: number): void {
    const w = this.#words;
    if (w[at + COUNT] > 1) w[at + COUNT]--;
    else this.#remove(at);
  }

  /** Empties the slot at `at` (backward-shift deletion). Locked. */
  #remove(at: number): void {
    removeSlot(this.#layout, at);
    this.#words[ENTRIES]--;
  }

  /** Slots of (high, low, tag, count); a slot being written carries tag INVALID until it is whole. */
  readonly #layout: ProbeLayout = {
    mask: MASK, slot0: SLOT0, stride: STRIDE,
    isEmpty: (at) => this.#words[at + HIGH] === 0 && this.#words[at + LOW] === 0,
    home: (at) => home(this.#words[at + LOW], this.#words[at + TAG]),
    move: (from, to) => {
      const w = this.#words;
      w[to + TAG] = INVALID;
      w[to + HIGH] = w[from + HIGH];
      w[to + LOW] = w[from + LOW];
      w[to + COUNT] = w[from + COUNT];
      w[to + TAG] = w[from + TAG];
    },
    clear: (at) => {
      const w = this.#words;
      w[at + TAG] = INVALID;
      w[at + HIGH] = 0;
      w[at + LOW] = 0;
      w[at + COUNT] = 0;
      w[at + TAG] = 0;
    },
  };
}

/** The slot where the probe for (a key whose low half is `low`, tag) starts. */
function home(low: number, tag: number): number {
  return (low + Math.imul(tag, 0x9e3779b1)) & MASK;
}
