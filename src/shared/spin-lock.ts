// Waiting on a word of shared memory that another worker thread holds for a few instructions (a lock, or a
// table slot being written). Spinning is cheapest while the holder runs; if it was descheduled, sleeping
// beats burning the core it may need.
//
// A held word names its holder (holderTag), so that the main thread can free what a dead worker held: a worker
// stopped inside a section (worker.terminate() stops a thread between any two instructions) would otherwise
// hold it for ever, and every other worker would wait on it. Each table says what the data under a word it
// frees looks like then (forceUnlock's callers).

/** What a thread that is no dataplane worker (the main thread, a test) writes as holder or owner. */
export const NO_WORKER = 0xffff;
/** Worker ids are 0..MAX_WORKERS-1: every tag fits 16 bits (the port pools' owner arrays). */
export const MAX_WORKERS = NO_WORKER - 1;

const SPINS = 100;

/** The tag of worker `worker` in held words and owner fields: worker + 1 (0 is "nobody"); NO_WORKER without one. */
export function holderTag(worker: number | undefined): number {
  if (worker === undefined) return NO_WORKER;
  if (!Number.isInteger(worker) || worker < 0 || worker >= MAX_WORKERS) {
    throw new RangeError(`worker: want an integer 0..${MAX_WORKERS - 1}, got ${worker}`);
  }
  return worker + 1;
}

/** Between two failed tries on view[index] while it reads `held`: nothing at first, then sleeps up to 1 ms. */
export function backoff(view: Int32Array, index: number, held: number, tries: number): void {
  if (tries >= SPINS) Atomics.wait(view, index, held, 1);
}

/** Takes the lock word view[index] (0 free, else the holder's tag: holderTag(worker)). */
export function lock(view: Int32Array, index: number, holder = NO_WORKER): void {
  for (let tries = 0; ; tries++) {
    const held = Atomics.compareExchange(view, index, 0, holder);
    if (held === 0) return;
    backoff(view, index, held, tries);
  }
}

/**
 * lock(), giving up after `ms`: for the main thread, which must not wait for ever on a lock whose holder may
 * be a worker that died too and whose 'exit' it has not handled yet.
 */
export function lockWithin(view: Int32Array, index: number, holder: number, ms: number): boolean {
  const deadline = performance.now() + ms;
  for (let tries = 0; ; tries++) {
    const held = Atomics.compareExchange(view, index, 0, holder);
    if (held === 0) return true;
    if (performance.now() >= deadline) return false;
    backoff(view, index, held, tries);
  }
}

export function unlock(view: Int32Array, index: number): void {
  Atomics.store(view, index, 0);
}

/** Main thread, after a worker's 'exit': frees view[index] if `holder` (that worker's tag) holds it. */
export function forceUnlock(view: Int32Array, index: number, holder: number): boolean {
  if (Atomics.compareExchange(view, index, holder, 0) !== holder) return false;
  Atomics.notify(view, index);
  return true;
}
