// AllocationQuota's counts shared by every worker thread: allocations in total and per user id, in one
// SharedArrayBuffer, so admin.limits.max_allocations and admin.user_quota hold for the whole process.
//
// Per user: an open-addressing table (linear probing) keyed by a 64-bit hash of the user id; a user whose
// count drops to 0 leaves the table (backward-shift deletion, so no tombstones pile up). Every operation runs
// under one lock word: they happen per Allocate and per deletion, never per packet, and take a few dozen
// instructions. The table has a fixed size: when it is as full as linear probing stays fast, a user not in it
// yet is refused (answered as quota reached), not let through uncounted.
import { hashKey, newSeed } from './key-hash.ts';
import { lock, unlock } from './spin-lock.ts';

const SLOTS = 1 << 17;
const MASK = SLOTS - 1;
/** Users (slots in use) beyond which a new user is refused. */
const MAX_USERS = (SLOTS / 8) * 7;
/** Int32 words: lock, total, users, seed; then per slot: key high, key low, count, unused. */
const LOCK = 0;
const TOTAL = 1;
const USERS = 2;
const SEED = 3;
const SLOT0 = 4;
const STRIDE = 4;

export class SharedUserCounts {
  static createBuffer(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((SLOT0 + SLOTS * STRIDE) * 4);
    new Int32Array(buffer)[SEED] = newSeed();
    return buffer;
  }

  readonly #words: Int32Array;
  readonly #seed: number;
  readonly #key = new Int32Array(2);

  constructor(buffer: SharedArrayBuffer) {
    this.#words = new Int32Array(buffer);
    this.#seed = this.#words[SEED];
  }

  /** Allocations held now, by every user in every worker. */
  get total(): number {
    return Atomics.load(this.#words, TOTAL);
  }

  /** Takes one allocation for `userId`; false if a limit is reached (0 = unlimited) or the table is full. */
  acquire(userId: string, userQuota: number, maxAllocations: number): boolean {
    hashKey(userId, this.#seed, this.#key);
    const w = this.#words;
    lock(w, LOCK);
    try {
      const at = this.#find();
      const n = at >= 0 ? w[at + 2] : 0;
      if (userQuota > 0 && n >= userQuota) return false;
      if (maxAllocations > 0 && w[TOTAL] >= maxAllocations) return false;
      if (at >= 0) {
        w[at + 2] = n + 1;
      } else {
        if (w[USERS] >= MAX_USERS) return false;
        const slot = ~at;
        w[slot] = this.#key[0];
        w[slot + 1] = this.#key[1];
        w[slot + 2] = 1;
        w[USERS]++;
      }
      w[TOTAL]++;
      return true;
    } finally {
      unlock(w, LOCK);
    }
  }

  release(userId: string): void {
    hashKey(userId, this.#seed, this.#key);
    const w = this.#words;
    lock(w, LOCK);
    try {
      const at = this.#find();
      if (at < 0) return;
      if (w[at + 2] > 1) w[at + 2]--;
      else this.#remove(at);
      if (w[TOTAL] > 0) w[TOTAL]--;
    } finally {
      unlock(w, LOCK);
    }
  }

  usage(userId: string): number {
    hashKey(userId, this.#seed, this.#key);
    const w = this.#words;
    lock(w, LOCK);
    try {
      const at = this.#find();
      return at >= 0 ? w[at + 2] : 0;
    } finally {
      unlock(w, LOCK);
    }
  }

  /** The word index of the slot holding #key, or ~index of the empty slot where its probe ends. Locked. */
  #find(): number {
    const w = this.#words;
    const [high, low] = this.#key;
    for (let i = low & MASK; ; i = (i + 1) & MASK) {
      const at = SLOT0 + i * STRIDE;
      if (w[at] === high && w[at + 1] === low) return at;
      if (w[at] === 0 && w[at + 1] === 0) return ~at;
    }
  }

  /** Empties the slot at `at`, moving later entries of its probe run back so every probe still finds them. */
  #remove(at: number): void {
    const w = this.#words;
    let hole = (at - SLOT0) / STRIDE;
    for (let j = (hole + 1) & MASK; ; j = (j + 1) & MASK) {
      const from = SLOT0 + j * STRIDE;
      if (w[from] === 0 && w[from + 1] === 0) break;
      const home = w[from + 1] & MASK;
      // The entry may move back to the hole only if the hole lies between its home slot and where it is.
      if (((j - home) & MASK) < ((j - hole) & MASK)) continue;
      const to = SLOT0 + hole * STRIDE;
      w[to] = w[from];
      w[to + 1] = w[from + 1];
      w[to + 2] = w[from + 2];
      hole = j;
    }
    const slot = SLOT0 + hole * STRIDE;
    w[slot] = 0;
    w[slot + 1] = 0;
    w[slot + 2] = 0;
    w[USERS]--;
  }
}
