// Reserved relay ports (RFC 8656 §7.2, EVEN-PORT with R and RESERVATION-TOKEN) shared by the worker threads of
// one listener: RESERVATION-TOKEN → family, port and expiry, in a SharedArrayBuffer, so the Allocate that
// presents the token may land on any worker. The port's bit stays set in the shared RelayPortPool while its
// entry lives; the table only records who may have it.
//
// Entries are few and short-lived, so the table is small and searched whole: a token is put in the first free
// slot from its hash, and looked for everywhere, which needs no probe-chain invariant when entries go.
// Each slot's state word is its lock: EMPTY → BUSY (compareExchange) while one thread writes or removes it.

const SLOTS = 1024;
/** Int32 words per slot: state, token high, token low, family << 16 | port, unused, unused, expiry (Float64). */
const STRIDE = 8;
const EMPTY = 0;
const BUSY = 1;
const LIVE = 2;

export interface Reservation {
  readonly family: 4 | 6;
  readonly port: number;
  /** Clock milliseconds after which the token no longer claims the port. */
  readonly expiresAt: number;
}

export class RelayReservations {
  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(SLOTS * STRIDE * 4);
  }

  readonly #words: Int32Array;
  readonly #expiry: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#words = new Int32Array(buffer);
    this.#expiry = new Float64Array(buffer);
  }

  /** Records a reservation under `token` (8 bytes); false when every slot is in use. */
  add(token: Uint8Array, r: Reservation): boolean {
    const [high, low] = tokenWords(token);
    const start = (high ^ low) & (SLOTS - 1);
    for (let i = 0; i < SLOTS; i++) {
      const slot = ((start + i) & (SLOTS - 1)) * STRIDE;
      if (Atomics.compareExchange(this.#words, slot, EMPTY, BUSY) !== EMPTY) continue;
      this.#words[slot + 1] = high;
      this.#words[slot + 2] = low;
      this.#words[slot + 3] = (r.family << 16) | r.port;
      this.#expiry[slot / 2 + 3] = r.expiresAt;
      // The store publishes the fields written before it to every thread that loads LIVE.
      Atomics.store(this.#words, slot, LIVE);
      return true;
    }
    return false;
  }

  /** Removes the reservation of `token` and returns it (expired or not); undefined if there is none. */
  take(token: Uint8Array): Reservation | undefined {
    if (token.byteLength !== 8) return undefined;
    const [high, low] = tokenWords(token);
    const start = (high ^ low) & (SLOTS - 1);
    for (let i = 0; i < SLOTS; i++) {
      const slot = ((start + i) & (SLOTS - 1)) * STRIDE;
      if (Atomics.load(this.#words, slot) !== LIVE) continue;
      if (this.#words[slot + 1] !== high || this.#words[slot + 2] !== low) continue;
      const r = this.#remove(slot, (s) => this.#words[s + 1] === high && this.#words[s + 2] === low);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Removes every reservation expired at `now`, handing each to `expired` (which frees its port). */
  sweep(now: number, expired: (r: Reservation) => void): void {
    for (let slot = 0; slot < SLOTS * STRIDE; slot += STRIDE) {
      if (Atomics.load(this.#words, slot) !== LIVE || this.#expiry[slot / 2 + 3] > now) continue;
      const r = this.#remove(slot, (s) => this.#expiry[s / 2 + 3] <= now);
      if (r !== undefined) expired(r);
    }
  }

  /** Locks a LIVE slot, and empties it if `still` holds once locked (the slot may have changed meanwhile). */
  #remove(slot: number, still: (slot: number) => boolean): Reservation | undefined {
    if (Atomics.compareExchange(this.#words, slot, LIVE, BUSY) !== LIVE) return undefined;
    if (!still(slot)) {
      Atomics.store(this.#words, slot, LIVE);
      return undefined;
    }
    const packed = this.#words[slot + 3];
    const r: Reservation = { family: (packed >>> 16) === 6 ? 6 : 4, port: packed & 0xffff, expiresAt: this.#expiry[slot / 2 + 3] };
    Atomics.store(this.#words, slot, EMPTY);
    return r;
  }
}

function tokenWords(token: Uint8Array): [number, number] {
  const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
  return [view.getInt32(0), view.getInt32(4)];
}
