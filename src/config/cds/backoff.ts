// Delays between reconnect attempts: doubling from `initialMs` up to `maxMs`, each spread by ±`jitter` so that
// the dataplane pods of a cluster do not all dial a restarted CDS server in the same instant.

export interface BackoffOptions {
  /** First delay; upstream retries every 1 s, forever. */
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly factor?: number;
  /** 0.2 = each delay is drawn from [0.8, 1.2] × the nominal one. */
  readonly jitter?: number;
  /** [0, 1); Math.random by default (tests inject their own). */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 15_000, factor: 2, jitter: 0.2 } as const;

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #nominalMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.#initialMs = opts.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.#maxMs = Math.max(this.#initialMs, opts.maxMs ?? DEFAULT_BACKOFF.maxMs);
    this.#factor = opts.factor ?? DEFAULT_BACKOFF.factor;
    this.#jitter = opts.jitter ?? DEFAULT_BACKOFF.jitter;
    this.#random = opts.random ?? Math.random;
    this.#nominalMs = this.#initialMs;
  }

  /** The delay before the next attempt; each call doubles the one after it, up to the cap. */
  next(): number {
    const nominal = this.#nominalMs;
    this.#nominalMs = Math.min(this.#maxMs, nominal * this.#factor);
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    return Math.round(nominal * spread);
  }

  /** After a connection succeeded: the next failure waits the initial delay again. */
  reset(): void {
    this.#nominalMs = this.#initialMs;
  }
}
