// The relay ports of one listener's relays (UDP or TCP), per address family: which ports our relays hold, and
// which port to bind next: a random free port of the configured range, or 0 (the kernel picks an ephemeral
// port) when the listener has no range.
//
// The state is one buffer: the range, packed in one word, then per family a bitmap of taken ports and an owner
// per port (16 bits: the holder tag of the worker thread that holds it, spin-lock.ts). With a SharedArrayBuffer
// (createBuffer()) every worker thread's pool is the same pool: a port is claimed by setting its owner with
// compareExchange before it is bound, so two workers never try the same port, and the range is one atomic
// word that every worker's reload stores alike. When a worker dies, the main thread frees the ports whose
// owner it was (releaseWorker). Without a shared buffer the pool is local to its allocator (a plain
// ArrayBuffer, the same code, every owner NO_WORKER).
//
// The owner is what holds a port; the bitmap is its index, 32 ports a word, so that probing a dense range and
// full() skip taken ports a word at a time. A claim sets the owner, then the bit; a release clears the bit,
// then the owner: a set bit always has an owner, and a thread stopped between the two leaves an owner the
// main thread frees. A bit may lag behind its owner (clear while the owner is set, when a release by one thread
// crosses another's claim): a clear bit is only a candidate, which the owner's compareExchange decides.
//
// Whether the range is full is counted from the bitmap and owners when asked, not kept as a count: a count
// beside them could not stay exact across a range change made in another thread without a lock around every
// take and release, and nothing on the relay path asks (claim() finds a full range by probing it).
import { randomInt } from 'node:crypto';
import { holderTag } from '../shared/spin-lock.ts';

/** 'even': an even port (EVEN-PORT); 'pair': an even port whose next port is free too (EVEN-PORT with R). */
export type PortPick = 'any' | 'even' | 'pair';

const PORTS = 65536;
const WORDS_PER_FAMILY = PORTS / 32;
/** 32-bit word 0: the range, min << 16 | max; words 1-7 unused; then the IPv4 bitmap, then the IPv6 one. */
const RANGE = 0;
const BITMAP = 8;
const BITMAP_OF = { 4: BITMAP, 6: BITMAP + WORDS_PER_FAMILY } as const;
/** Then the owners, a 16-bit word per port, IPv4 then IPv6 (indexes of 16-bit words; 4-byte aligned). */
const OWNERS = (BITMAP + 2 * WORDS_PER_FAMILY) * 2;
const OWNERS_OF = { 4: OWNERS, 6: OWNERS + PORTS } as const;
const BUFFER_BYTES = (OWNERS + 2 * PORTS) * 2;
const ALL_TAKEN = 0xffffffff;

export class RelayPortPool {
  /** The buffer to pass to every worker's pool for one listener's UDP (or TCP) relays. */
  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(BUFFER_BYTES);
  }

  static #attaching = false;

  /** A pool on `buffer` as the workers left it, its range untouched: the main thread's, for releaseWorker(). */
  static attach(buffer: SharedArrayBuffer): RelayPortPool {
    RelayPortPool.#attaching = true;
    try {
      return new RelayPortPool(0, 0, buffer);
    } finally {
      RelayPortPool.#attaching = false;
    }
  }

  /** Unsigned words: bit p of a family's bitmap set = port p is held by one of our relays (or reservations). */
  readonly #words: Uint32Array;
  /** The same buffer in 16-bit words: the owners. */
  readonly #owners: Uint16Array;
  /** What this pool writes as owner: its worker's holder tag. */
  readonly #tag: number;

  /**
   * `buffer` from createBuffer() shares the pool with every pool built on it; its range is set to this one.
   * `worker`: the id of the worker thread this pool claims for (worker-pool.ts), with a shared buffer.
   */
  constructor(minPort: number, maxPort: number, buffer?: SharedArrayBuffer, worker?: number) {
    const memory = buffer ?? new ArrayBuffer(BUFFER_BYTES);
    this.#words = new Uint32Array(memory);
    this.#owners = new Uint16Array(memory);
    this.#tag = holderTag(worker);
    if (!RelayPortPool.#attaching) this.setRange(minPort, maxPort);
  }

  /** True when the pool lives in a SharedArrayBuffer (worker threads). */
  get shared(): boolean {
    return this.#words.buffer instanceof SharedArrayBuffer;
  }

  /** 0..0 and ranges covering every unprivileged port mean "let the kernel pick". */
  get ranged(): boolean {
    return isRanged(Atomics.load(this.#words, RANGE));
  }

  /**
   * Picks from now on come from this range. Relays bound before keep their ports, and count again when a later
   * range covers them. One atomic store: every worker applying the same reload leaves the same range.
   */
  setRange(minPort: number, maxPort: number): void {
    Atomics.store(this.#words, RANGE, ((minPort << 16) | maxPort) >>> 0);
  }

  /** True when every port of the range is taken (never without a range: the kernel decides then). */
  full(family: 4 | 6): boolean {
    const range = Atomics.load(this.#words, RANGE);
    if (!isRanged(range)) return false;
    const min = range >>> 16;
    const max = range & 0xffff;
    for (let port = min; port <= max; port++) {
      const word = Atomics.load(this.#words, BITMAP_OF[family] + (port >>> 5));
      if (word === ALL_TAKEN && (port & 31) === 0 && port + 31 <= max) {
        port += 31;
        continue;
      }
      if ((word & (1 << (port & 31))) === 0 && Atomics.load(this.#owners, OWNERS_OF[family] + port) === 0) return false;
    }
    return true;
  }

  /**
   * Claims a port to bind: its owner (both owners for 'pair') is set before this returns, so no other relay of
   * ours, in any worker, gets it; release() it if the bind fails. 0 = no range: bind port 0, then take() the
   * port the kernel chose. undefined = no free port of the range fits.
   */
  claim(family: 4 | 6, kind: PortPick = 'any'): number | undefined {
    return this.#probe(family, kind, true);
  }

  /** The port claim() would take now, without claiming it. */
  pick(family: 4 | 6, kind: PortPick = 'any'): number | undefined {
    return this.#probe(family, kind, false);
  }

  /** Marks a bound port as held; false if it was held already (taking a held port changes nothing). */
  take(family: 4 | 6, port: number): boolean {
    return this.#own(family, port, false);
  }

  /**
   * Frees a port held by `holder` (by default this pool's worker; a reservation's maker when one worker frees
   * what another reserved); a port held by anyone else, or by nobody, is left as it is. True if it was freed.
   */
  release(family: 4 | 6, port: number, holder = this.#tag): boolean {
    const owner = OWNERS_OF[family] + port;
    if (Atomics.load(this.#owners, owner) !== holder) return false;
    Atomics.and(this.#words, BITMAP_OF[family] + (port >>> 5), ~(1 << (port & 31)) >>> 0);
    return Atomics.compareExchange(this.#owners, owner, holder, 0) === holder;
  }

  /**
   * Makes a port that `holder` holds this pool's worker's (a reserved port claimed by another worker than the
   * one that reserved it). False if `holder` does not hold it: the main thread freed it when its worker died.
   */
  adopt(family: 4 | 6, port: number, holder: number): boolean {
    if (Atomics.compareExchange(this.#owners, OWNERS_OF[family] + port, holder, this.#tag) !== holder) return false;
    Atomics.or(this.#words, BITMAP_OF[family] + (port >>> 5), (1 << (port & 31)) >>> 0);
    return true;
  }

  /** Main thread, after worker `worker`'s 'exit': frees every port it held, in both families; how many. */
  releaseWorker(worker: number): number {
    const tag = holderTag(worker);
    let freed = 0;
    for (const family of [4, 6] as const) {
      // Two owners per 32-bit word: most words are 0 (nobody) and skipped whole.
      const first = OWNERS_OF[family] >>> 1;
      for (let i = 0; i < PORTS / 2; i++) {
        if (Atomics.load(this.#words, first + i) === 0) continue;
        if (this.release(family, 2 * i, tag)) freed++;
        if (this.release(family, 2 * i + 1, tag)) freed++;
      }
    }
    return freed;
  }

  /** Sets the owner of `port` (and of port + 1 for a pair, in one exchange) if it had none, then its bit(s). */
  #own(family: 4 | 6, port: number, pair: boolean): boolean {
    const tag = this.#tag;
    if (pair) {
      // An even port and the next one are one 32-bit word of owners (and bits 2k, 2k+1 of one bitmap word).
      if (Atomics.compareExchange(this.#words, (OWNERS_OF[family] + port) >>> 1, 0, (tag | (tag << 16)) >>> 0) !== 0) return false;
    } else if (Atomics.compareExchange(this.#owners, OWNERS_OF[family] + port, 0, tag) !== 0) {
      return false;
    }
    Atomics.or(this.#words, BITMAP_OF[family] + (port >>> 5), ((pair ? 3 : 1) << (port & 31)) >>> 0);
    return true;
  }

  /** Random start, then linear probe: O(1) while the range is sparse, a word at a time when it is dense. */
  #probe(family: 4 | 6, kind: PortPick, claim: boolean): number | undefined {
    const range = Atomics.load(this.#words, RANGE);
    if (!isRanged(range)) return 0;
    const min = range >>> 16;
    const max = range & 0xffff;
    const size = max - min + 1;
    const base = BITMAP_OF[family];
    const start = randomInt(size);
    let i = 0;
    while (i < size) {
      const port = min + ((start + i) % size);
      const word = Atomics.load(this.#words, base + (port >>> 5));
      if (word === ALL_TAKEN) {
        // The rest of this word, but not past the range's end: the probe wraps to `min` there.
        i += Math.min(32 - (port & 31), max - port + 1);
        continue;
      }
      if (kind !== 'any' && port % 2 !== 0) {
        i++;
        continue;
      }
      if (kind === 'pair' && port + 1 > max) {
        i++;
        continue;
      }
      const mask = (kind === 'pair' ? 3 : 1) << (port & 31);
      if ((word & mask) !== 0) {
        i++;
        continue;
      }
      if (!claim) {
        if (this.#free(family, port) && (kind !== 'pair' || this.#free(family, port + 1))) return port;
      } else if (this.#own(family, port, kind === 'pair')) {
        return port;
      }
      // Its owner is set (a claim or a release in another thread is under way): the port is not free.
      i++;
    }
    return undefined;
  }

  #free(family: 4 | 6, port: number): boolean {
    return Atomics.load(this.#owners, OWNERS_OF[family] + port) === 0;
  }
}

function isRanged(range: number): boolean {
  const min = range >>> 16;
  const max = range & 0xffff;
  return min > 0 && !(min <= 1024 && max >= 65535);
}
