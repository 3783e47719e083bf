// The relay ports of one listener's relays (UDP or TCP), per address family: which ports our relays hold, and
// which port to bind next: a random free port of the configured range, or 0 (the kernel picks an ephemeral
// port) when the listener has no range.
//
// The state is one buffer: the range, packed in one word, and a bitmap of taken ports per family. With a
// SharedArrayBuffer (createBuffer()) every worker thread's pool is the same pool: a port is claimed by setting
// its bit with compareExchange before it is bound, so two workers never try the same port, and the range is
// one atomic word that every worker's reload stores alike. Without one the pool is local to its allocator
// (a plain ArrayBuffer, the same code).
//
// Whether the range is full is counted from the bitmap when asked, not kept as a count: a count beside the
// bits could not stay exact across a range change made in another thread without a lock around every take
// and release, and nothing on the relay path asks (claim() finds a full range by probing it).
import { randomInt } from 'node:crypto';

/** 'even': an even port (EVEN-PORT); 'pair': an even port whose next port is free too (EVEN-PORT with R). */
export type PortPick = 'any' | 'even' | 'pair';

const PORTS = 65536;
const WORDS_PER_FAMILY = PORTS / 32;
/** Word 0: the range, min << 16 | max; words 1-7 unused; then the IPv4 bitmap, then the IPv6 one. */
const RANGE = 0;
const BITMAP = 8;
const BITMAP_OF = { 4: BITMAP, 6: BITMAP + WORDS_PER_FAMILY } as const;
const BUFFER_BYTES = (BITMAP + 2 * WORDS_PER_FAMILY) * 4;
const ALL_TAKEN = 0xffffffff;

export class RelayPortPool {
  /** The buffer to pass to every worker's pool for one listener's UDP (or TCP) relays. */
  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(BUFFER_BYTES);
  }

  /** Unsigned words: bit p of a family's bitmap set = port p is held by one of our relays (or reservations). */
  readonly #words: Uint32Array;

  /** `buffer` from createBuffer() shares the pool with every pool built on it; its range is set to this one. */
  constructor(minPort: number, maxPort: number, buffer?: SharedArrayBuffer) {
    this.#words = new Uint32Array(buffer ?? new ArrayBuffer(BUFFER_BYTES));
    this.setRange(minPort, maxPort);
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
      if ((word & (1 << (port & 31))) === 0) return false;
    }
    return true;
  }

  /**
   * Claims a port to bind: its bit (both bits for 'pair') is set before this returns, so no other relay of
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
    const mask = 1 << (port & 31);
    return (Atomics.or(this.#words, BITMAP_OF[family] + (port >>> 5), mask) & mask) === 0;
  }

  /** Frees a port; releasing a free port changes nothing. */
  release(family: 4 | 6, port: number): void {
    Atomics.and(this.#words, BITMAP_OF[family] + (port >>> 5), ~(1 << (port & 31)) >>> 0);
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
      const index = base + (port >>> 5);
      const word = Atomics.load(this.#words, index);
      if (word === ALL_TAKEN) {
        // The rest of this word, but not past the range's end: the probe wraps to `min` there.
        i += Math.min(32 - (port & 31), max - port + 1);
        continue;
      }
      if (kind !== 'any' && port % 2 !== 0) {
        i++;
        continue;
      }
      // An even port and the next one share a word (bits 2k and 2k+1): a pair is claimed in one exchange.
      if (kind === 'pair' && port + 1 > max) {
        i++;
        continue;
      }
      const mask = (kind === 'pair' ? 3 : 1) << (port & 31);
      if ((word & mask) !== 0) {
        i++;
        continue;
      }
      if (!claim) return port;
      if (Atomics.compareExchange(this.#words, index, word, (word | mask) >>> 0) === word) return port;
      // Another worker changed this word meanwhile: look at the same port again.
    }
    return undefined;
  }
}

function isRanged(range: number): boolean {
  const min = range >>> 16;
  const max = range & 0xffff;
  return min > 0 && !(min <= 1024 && max >= 65535);
}
