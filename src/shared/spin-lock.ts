// Waiting on a word of shared memory that another worker thread holds for a few instructions (a lock, or a
// table slot being written). Spinning is cheapest while the holder runs; if it was descheduled, sleeping
// beats burning the core it may need.

const SPINS = 100;

/** Between two failed tries on view[index] while it reads `held`: nothing at first, then sleeps up to 1 ms. */
export function backoff(view: Int32Array, index: number, held: number, tries: number): void {
  if (tries >= SPINS) Atomics.wait(view, index, held, 1);
}

/** Takes the lock word view[index] (0 free, 1 held). */
export function lock(view: Int32Array, index: number): void {
  for (let tries = 0; Atomics.compareExchange(view, index, 0, 1) !== 0; tries++) backoff(view, index, 1, tries);
}

export function unlock(view: Int32Array, index: number): void {
  Atomics.store(view, index, 0);
}
