// Reserved relay ports (RFC 8656 §7.2, EVEN-PORT with R and RESERVATION-TOKEN) shared by the worker threads of
// one listener: RESERVATION-TOKEN → family, port, expiry and the worker that made it, in a SharedArrayBuffer, so
// the Allocate that presents the token may land on any worker. The port stays held in the shared RelayPortPool,
// owned by the maker, while its entry lives; the table only records who may have it. The worker that takes an
// entry adopts the port from its maker (RelayPortPool.adopt).
//
// Entries are few and short-lived, so the table is small and searched whole: a token is put in the first free
// slot from its hash, and looked for everywhere, which needs no probe-chain invariant when entries go.
// Each slot's state word is its lock: EMPTY → ADDING while one thread writes it, LIVE → REMOVING while one
// thread takes it out; both name that thread (its holder tag, spin-lock.ts), so that the main thread can free
// a slot whose holder died inside the section (releaseWorker): an ADDING slot goes back to EMPTY (it was never
// LIVE, nobody had it, and its half-written fields are never read), a REMOVING one back to LIVE (removing
// writes no field before the slot is EMPTY, so the entry is whole, and its reservation still stands: the
// thread that died took nothing out of it).
import { backoff, holderTag } from './spin-lock.ts';

const SLOTS = 1024;
/** Int32 words per slot: state, token high, token low, family << 16 | port, maker's tag, unused, expiry (Float64). */
const STRIDE = 8;
const EMPTY = 0;
const LIVE = 1;
/** A slot being written by the thread with tag t reads -t; one being removed, -(t + REMOVING). */
const REMOVING = 0x10000;
/** How long the main thread waits for a slot another thread holds before leaving it (that thread died too). */
const WAIT_MS = 1000;

export interface Reservation {
  readonly family: 4 | 6;
  readonly port: number;
  /** Clock milliseconds after which the token no longer claims the port. */
  readonly expiresAt: number;
  /** The holder tag of the worker that made it, and owns its port (RelayPortPool.release, adopt). */
  readonly holder: number;
}

export class RelayReservations {
  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(SLOTS * STRIDE * 4);
  }

  readonly #words: Int32Array;
  readonly #expiry: Float64Array;
  readonly #tag: number;

  /** `worker`: the id of the worker thread that adds and takes through this table (worker-pool.ts). */
  constructor(buffer: SharedArrayBuffer, worker?: number) {
    this.#words = new Int32Array(buffer);
    this.#expiry = new Float64Array(buffer);
    this.#tag = holderTag(worker);
  }

  /** Records a reservation under `token` (8 bytes), made by this table's worker; false when every slot is in use. */
  add(token: Uint8Array, r: Omit<Reservation, 'holder'>): boolean {
    const [high, low] = tokenWords(token);
    const start = (high ^ low) & (SLOTS - 1);
    for (let i = 0; i < SLOTS; i++) {
      const slot = ((start + i) & (SLOTS - 1)) * STRIDE;
      if (Atomics.compareExchange(this.#words, slot, EMPTY, -this.#tag) !== EMPTY) continue;
      this.#words[slot + 1] = high;
      this.#words[slot + 2] = low;
      this.#words[slot + 3] = (r.family << 16) | r.port;
      this.#words[slot + 4] = this.#tag;
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

  /**
   * Main thread, after worker `worker`'s 'exit': frees the slots it held locked, and removes the reservations
   * it made (their ports are its ports: RelayPortPool.releaseWorker frees them). Returns how many it removed.
   */
  releaseWorker(worker: number): number {
    const dead = holderTag(worker);
    const w = this.#words;
    let removed = 0;
    for (let slot = 0; slot < SLOTS * STRIDE; slot += STRIDE) {
      const deadline = performance.now() + WAIT_MS;
      for (let tries = 0; ; tries++) {
        const state = Atomics.load(w, slot);
        if (state === -dead) {
          if (Atomics.compareExchange(w, slot, state, EMPTY) === state) break;
        } else if (state === -(dead + REMOVING)) {
          // Back to LIVE, then looked at again: it may be one the dead worker made.
          Atomics.compareExchange(w, slot, state, LIVE);
        } else if (state === LIVE) {
          if (w[slot + 4] !== dead) break;
          if (this.#remove(slot, (s) => w[s + 4] === dead) !== undefined) {
            removed++;
            break;
          }
        } else if (state === EMPTY || performance.now() >= deadline) {
          break;
        } else {
          // Another thread is in the slot for a few instructions; it may put back one the dead worker made.
          backoff(w, slot, state, tries);
        }
      }
    }
    return removed;
  }

  /** Locks a LIVE slot, and empties it if `still` holds once locked (the slot may have changed meanwhile). */
  #remove(slot: number, still: (slot: number) => boolean): Reservation | undefined {
    if (Atomics.compareExchange(this.#words, slot, LIVE, -(this.#tag + REMOVING)) !== LIVE) return undefined;
    if (!still(slot)) {
      Atomics.store(this.#words, slot, LIVE);
      return undefined;
    }
    const packed = this.#words[slot + 3];
    const r: Reservation = {
      family: (packed >>> 16) === 6 ? 6 : 4, port: packed & 0xffff, expiresAt: this.#expiry[slot / 2 + 3],
      holder: this.#words[slot + 4],
    };
    Atomics.store(this.#words, slot, EMPTY);
    return r;
  }
}

function tokenWords(token: Uint8Array): [number, number] {
  const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
  return [view.getInt32(0), view.getInt32(4)];
}
