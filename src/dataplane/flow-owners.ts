// Which worker owns a client's 5-tuple. SO_REUSEPORT hashes each client onto one worker's socket, but the
// mapping changes whenever the group of sockets changes: when a dead worker is restarted and binds again,
// part of every other worker's clients start arriving at the new one. Their allocations did not move, so the
// new worker looks the 5-tuple up here and forwards the datagram to the owner instead of answering 437.
//
// One open-addressing table in a SharedArrayBuffer, keyed by a 64-bit hash of (listener, client address, client
// port); the value is the owner's worker number. Writers (an allocation created or deleted: not per packet)
// take one lock; readers (a datagram that found no allocation in its worker) read without it: a lookup that
// races a deletion's backward shift may miss, and the datagram is then handled where it arrived, as it would
// be without this table. When the table is full a new flow is not recorded, with the same outcome.
import { hashKey, mix, newSeed } from '../shared/key-hash.ts';
import { forceUnlock, holderTag, lock, lockWithin, unlock } from '../shared/spin-lock.ts';
import { removeSlot, type ProbeLayout } from '../shared/linear-probe.ts';

const SLOTS = 1 << 18;
const MASK = SLOTS - 1;
const MAX_FLOWS = (SLOTS / 8) * 7;
/** Int32 words: lock, flows, seed, forwarded; then per slot: key high, key low, owner + 1, unused. */
const LOCK = 0;
const FLOWS = 1;
const SEED = 2;
const FORWARDED = 3;
const SLOT0 = 4;
const STRIDE = 4;

export class FlowOwners {
  static createBuffer(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((SLOT0 + SLOTS * STRIDE) * 4);
    new Int32Array(buffer)[SEED] = newSeed();
    return buffer;
  }

  readonly #words: Int32Array;
  readonly #seed: number;
  readonly #key = new Int32Array(2);
  readonly #listeners = new Map<string, number>();

  readonly #holder: number;

  /** `worker`: the worker using the table (its lock tag), none for the main thread. */
  constructor(buffer: SharedArrayBuffer, worker?: number) {
    this.#words = new Int32Array(buffer);
    this.#seed = this.#words[SEED];
    this.#holder = holderTag(worker);
  }

  /** Flows recorded now. */
  get size(): number {
    return Atomics.load(this.#words, FLOWS);
  }

  /** Datagrams forwarded to their owner so far (wraps at 2^31). */
  get forwarded(): number {
    return Atomics.load(this.#words, FORWARDED);
  }

  /** Counts one forwarded datagram. */
  countForwarded(): void {
    Atomics.add(this.#words, FORWARDED, 1);
  }

  /** Records `worker` as the owner of the flow (replacing any owner before it); false when the table is full. */
  set(listener: string, address: string, port: number, worker: number): boolean {
    this.#hash(listener, address, port);
    const w = this.#words;
    lock(w, LOCK, this.#holder);
    try {
      const at = this.#find();
      if (at >= 0) {
        Atomics.store(w, at + 2, worker + 1);
        return true;
      }
      if (w[FLOWS] >= MAX_FLOWS) return false;
      const slot = ~at;
      Atomics.store(w, slot + 2, worker + 1);
      Atomics.store(w, slot + 1, this.#key[1]);
      Atomics.store(w, slot, this.#key[0]);
      w[FLOWS]++;
      return true;
    } finally {
      unlock(w, LOCK);
    }
  }

  /** Forgets the flow if `worker` owns it. */
  delete(listener: string, address: string, port: number, worker: number): void {
    this.#hash(listener, address, port);
    const w = this.#words;
    lock(w, LOCK, this.#holder);
    try {
      const at = this.#find();
      if (at >= 0 && w[at + 2] === worker + 1) this.#remove(at);
    } finally {
      unlock(w, LOCK);
    }
  }

  /** The owner of the flow, or -1 when none is recorded. Lock-free. */
  owner(listener: string, address: string, port: number): number {
    this.#hash(listener, address, port);
    const w = this.#words;
    const [high, low] = this.#key;
    for (let i = low & MASK, n = 0; n < SLOTS; i = (i + 1) & MASK, n++) {
      const at = SLOT0 + i * STRIDE;
      const h = Atomics.load(w, at);
      const l = Atomics.load(w, at + 1);
      if (h === high && l === low) return Atomics.load(w, at + 2) - 1;
      if (h === 0 && l === 0) return -1;
    }
    return -1;
  }

  /**
   * A worker is gone: forgets every flow it owned (its allocations ended with it). Should it have died holding
   * the lock, the lock is freed: at worst the slot it was writing is half written (a key without an owner reads
   * as owned by nobody, an owner without its whole key matches no lookup) until this sweep, or a later write,
   * clears it.
   */
  forgetWorker(worker: number): number {
    const w = this.#words;
    forceUnlock(w, LOCK, holderTag(worker));
    // The main thread does not wait for ever: another dead worker's lock is freed when its exit is handled.
    if (!lockWithin(w, LOCK, this.#holder, 1000)) return 0;
    let n = 0;
    try {
      for (let i = 0; i < SLOTS;) {
        const at = SLOT0 + i * STRIDE;
        // A removal shifts a later entry into this slot: look at it again.
        if ((w[at] !== 0 || w[at + 1] !== 0) && w[at + 2] === worker + 1) {
          this.#remove(at);
          n++;
        } else {
          i++;
        }
      }
    } finally {
      unlock(w, LOCK);
    }
    return n;
  }

  /**
   * The key of a flow into #key, without building a string: it runs for datagrams that find no allocation, a
   * flood's included. The listener's part is hashed once per name.
   */
  #hash(listener: string, address: string, port: number): void {
    let l = this.#listeners.get(listener);
    if (l === undefined) {
      hashKey(listener, this.#seed, this.#key);
      l = this.#key[0] ^ this.#key[1];
      if (this.#listeners.size < 1024) this.#listeners.set(listener, l);
    }
    let high = this.#seed ^ l ^ 0x811c9dc5;
    let low = Math.imul(this.#seed ^ port, 0x9e3779b1) ^ l;
    for (let i = 0; i < address.length; i++) {
      const c = address.charCodeAt(i);
      high = Math.imul(high ^ c, 0x01000193);
      low = Math.imul(low ^ c, 0x5bd1e995);
      low ^= low >>> 15;
    }
    high = mix(high ^ port);
    low = mix(low ^ high);
    this.#key[0] = high;
    this.#key[1] = high === 0 && low === 0 ? 1 : low;
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

  /** Empties the slot at `at` (backward-shift deletion). Locked. */
  #remove(at: number): void {
    removeSlot(this.#layout, at);
    this.#words[FLOWS]--;
  }

  /** Slots of (high, low, owner + 1); readers look without the lock, so every word is stored atomically. */
  readonly #layout: ProbeLayout = {
    mask: MASK, slot0: SLOT0, stride: STRIDE,
    isEmpty: (at) => this.#words[at] === 0 && this.#words[at + 1] === 0,
    home: (at) => this.#words[at + 1] & MASK,
    move: (from, to) => {
      const w = this.#words;
      Atomics.store(w, to + 2, w[from + 2]);
      Atomics.store(w, to + 1, w[from + 1]);
      Atomics.store(w, to, w[from]);
    },
    clear: (at) => {
      const w = this.#words;
      Atomics.store(w, at, 0);
      Atomics.store(w, at + 1, 0);
      Atomics.store(w, at + 2, 0);
    },
  };
}
