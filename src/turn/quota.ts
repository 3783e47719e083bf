// Allocation limits: per user id (admin.user_quota, answered 486) and in total (admin.limits.max_allocations).

export class AllocationQuota {
  userQuota: number;
  maxAllocations: number;
  #total = 0;
  readonly #perUser = new Map<string, number>();

  constructor(userQuota = 0, maxAllocations = 0) {
    this.userQuota = userQuota;
    this.maxAllocations = maxAllocations;
  }

  /** Allocations held now, by every user. */
  get total(): number {
    return this.#total;
  }

  /** Takes one allocation for `userId`; false if either limit is reached (0 = unlimited). */
  acquire(userId: string): boolean {
    const n = this.#perUser.get(userId) ?? 0;
    if (this.userQuota > 0 && n >= this.userQuota) return false;
    if (this.maxAllocations > 0 && this.#total >= this.maxAllocations) return false;
    this.#perUser.set(userId, n + 1);
    this.#total++;
    return true;
  }

  release(userId: string): void {
    const n = this.#perUser.get(userId) ?? 0;
    if (n <= 1) this.#perUser.delete(userId);
    else this.#perUser.set(userId, n - 1);
    if (this.#total > 0) this.#total--;
  }

  usage(userId: string): number {
    return this.#perUser.get(userId) ?? 0;
  }
}
