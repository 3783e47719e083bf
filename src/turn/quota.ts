// Allocation limits: per user id (admin.user_quota, answered 486) and in total (admin.limits.max_allocations).
// With worker threads the counts are one SharedUserCounts for every worker, so the limits hold for the whole
// process, and each worker's share is counted apart, so the main thread can give back what a worker that died
// held; single-threaded they stay in a Map, which has no fixed size to run out of.
import { SharedUserCounts } from '../shared/user-counts.ts';

export class AllocationQuota {
  userQuota: number;
  maxAllocations: number;
  #total = 0;
  readonly #perUser = new Map<string, number>();
  readonly #shared: SharedUserCounts | undefined;

  /**
   * `shared`: a buffer from SharedUserCounts.createBuffer(), the same in every worker; `worker`: this worker's
   * id (worker-pool.ts), under which its allocations are counted.
   */
  constructor(userQuota = 0, maxAllocations = 0, shared?: SharedArrayBuffer, worker?: number) {
    this.userQuota = userQuota;
    this.maxAllocations = maxAllocations;
    this.#shared = shared === undefined ? undefined : new SharedUserCounts(shared, worker);
  }

  /** Allocations held now, by every user (in every worker). */
  get total(): number {
    return this.#shared?.total ?? this.#total;
  }

  /** Takes one allocation for `userId`; false if either limit is reached (0 = unlimited). */
  acquire(userId: string): boolean {
    if (this.#shared !== undefined) return this.#shared.acquire(userId, this.userQuota, this.maxAllocations);
    const n = this.#perUser.get(userId) ?? 0;
    if (this.userQuota > 0 && n >= this.userQuota) return false;
    if (this.maxAllocations > 0 && this.#total >= this.maxAllocations) return false;
    this.#perUser.set(userId, n + 1);
    this.#total++;
    return true;
  }

  /** Gives back one allocation of `userId` (taken through this quota: in this worker). */
  release(userId: string): void {
    if (this.#shared !== undefined) return this.#shared.release(userId);
    const n = this.#perUser.get(userId) ?? 0;
    if (n <= 1) this.#perUser.delete(userId);
    else this.#perUser.set(userId, n - 1);
    if (this.#total > 0) this.#total--;
  }

  usage(userId: string): number {
    if (this.#shared !== undefined) return this.#shared.usage(userId);
    return this.#perUser.get(userId) ?? 0;
  }
}
