// A per-source budget of unauthenticated answers (401/438), so forged-source requests cannot turn the
// gateway into a reflector. Token buckets keyed by client IP, pruned by the sweeper. With worker threads the
// buckets are one SharedTokenBuckets for every worker, so a source has one budget whichever worker it reaches.
import { SharedTokenBuckets } from '../shared/ip-buckets.ts';

export class ChallengeLimiter {
  /** Answers per second per client IP; 0 = unlimited. */
  rate: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #shared: SharedTokenBuckets | undefined;

  /** `shared`: a buffer from SharedTokenBuckets.createBuffer(), the same in every worker; `worker`: this
   *  worker's id (worker-pool.ts). */
  constructor(rate: number, shared?: SharedArrayBuffer, worker?: number) {
    this.rate = rate;
    this.#shared = shared === undefined ? undefined : new SharedTokenBuckets(shared, worker);
  }

  allow(ip: string, now: number): boolean {
    if (this.rate <= 0) return true;
    if (this.#shared !== undefined) return this.#shared.take(ip, now, this.rate);
    const burst = this.rate * 2;
    let b = this.#buckets.get(ip);
    if (b === undefined) {
      if (this.#buckets.size >= 100_000) return false;
      b = { tokens: burst, at: now };
      this.#buckets.set(ip, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled completely. */
  prune(now: number): void {
    if (this.#shared !== undefined) return this.#shared.prune(now, this.rate);
    const full = (this.rate * 2) / Math.max(this.rate, 1e-9) * 1000;
    for (const [ip, b] of this.#buckets) if (now - b.at > full) this.#buckets.delete(ip);
  }
}
