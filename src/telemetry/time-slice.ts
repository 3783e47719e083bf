// Cooperative time slicing for collection work that grows with the number of listeners and clusters: after each
// slice the event loop gets a turn (setImmediate runs after pending I/O callbacks), so relaying packets is
// delayed by at most one slice, never by a whole scrape.

export const DEFAULT_SLICE_MS = 1;

export class TimeSlice {
  readonly sliceMs: number;
  #deadline: number;

  constructor(sliceMs = DEFAULT_SLICE_MS) {
    this.sliceMs = sliceMs;
    this.#deadline = performance.now() + sliceMs;
  }

  /** Whether the current slice is used up; cheap enough to call every few hundred items. */
  get due(): boolean {
    return performance.now() >= this.#deadline;
  }

  /** Lets the event loop run pending I/O, then starts a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.restart();
  }

  /** Starts a new slice now (after an await that already gave the event loop its turn). */
  restart(): void {
    this.#deadline = performance.now() + this.sliceMs;
  }
}
