// AllocationQuota on shared counts: admin.limits.max_allocations and admin.user_quota hold across worker
// threads (two workers racing get exactly the limit between them, each gives back only its own), and the
// shared per-user table agrees with a Map through any mix of acquires and releases, and refuses new users when
// it is full.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSharedDataplaneState } from '../../src/shared/dataplane-state.ts';
import { SharedUserCounts } from '../../src/shared/user-counts.ts';
import { AllocationQuota } from '../../src/turn/quota.ts';
import { startWorkers } from './workers.ts';

describe('AllocationQuota shared by two worker threads', () => {
  const state = createSharedDataplaneState();
  let w: Awaited<ReturnType<typeof startWorkers>>;
  before(async () => {
    w = await startWorkers(state, 2);
  });
  after(() => w.stop());

  it('max_allocations: the two workers racing get exactly the limit between them, then 10 as well', async () => {
    const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    // Long enough for the two to overlap: each worker alone could take the whole limit.
    const many = await w.race<number>([
      { op: 'quota', userQuota: 0, maxAllocations: 20_000, users: users('x', 20_000) },
      { op: 'quota', userQuota: 0, maxAllocations: 20_000, users: users('y', 20_000) },
    ]);
    assert.equal(many[0] + many[1], 20_000);
    assert.ok(many[0] > 0 && many[1] > 0, `both workers took some (${many})`);
    await w.workers[0].call({ op: 'quota-release', users: users('x', many[0]) });
    assert.equal(await w.workers[1].call({ op: 'quota-release', users: users('y', many[1]) }), 0);
    const granted = await w.race<number>([
      { op: 'quota', userQuota: 0, maxAllocations: 10, users: users('a', 200) },
      { op: 'quota', userQuota: 0, maxAllocations: 10, users: users('b', 200) },
    ]);
    assert.equal(granted[0] + granted[1], 10);
    const quota = new AllocationQuota(0, 10, state.quota);
    assert.equal(quota.total, 10);
    assert.equal(quota.acquire('main'), false);
    // A release in one worker makes room in every other.
    const [holder, user] = granted[0] > 0 ? [w.workers[0], 'a-0'] : [w.workers[1], 'b-0'];
    assert.equal(await holder.call({ op: 'quota-release', users: [user] }), 9);
    assert.equal(quota.acquire('main'), true);
    quota.release('main');
    await w.workers[0].call({ op: 'quota-release', users: users('a', granted[0]) });
    await w.workers[1].call({ op: 'quota-release', users: users('b', granted[1]) });
    assert.equal(quota.total, 0);
  });

  it('user_quota: one user racing in both workers gets exactly the quota; other users are not held back', async () => {
    const carol = Array.from({ length: 20_000 }, () => 'carol');
    const many = await w.race<number>([
      { op: 'quota', userQuota: 20_000, maxAllocations: 0, users: carol },
      { op: 'quota', userQuota: 20_000, maxAllocations: 0, users: carol },
    ]);
    assert.equal(many[0] + many[1], 20_000);
    // Each worker gives back only what it took: its share is what the main thread gives back if it dies.
    assert.equal(await w.workers[0].call({ op: 'quota-release', users: carol }), many[1], 'worker 0 gives back its own');
    assert.equal(await w.workers[1].call({ op: 'quota-release', users: carol }), 0);
    const alice = Array.from({ length: 100 }, () => 'alice');
    const granted = await w.race<number>([
      { op: 'quota', userQuota: 3, maxAllocations: 0, users: alice },
      { op: 'quota', userQuota: 3, maxAllocations: 0, users: alice },
    ]);
    assert.equal(granted[0] + granted[1], 3);
    const quota = new AllocationQuota(3, 0, state.quota);
    assert.equal(quota.usage('alice'), 3);
    assert.equal(quota.acquire('bob'), true);
    assert.equal(await w.workers[granted[1] > 0 ? 1 : 0].call({ op: 'quota-release', users: ['alice'] }), 3);
    assert.equal(quota.usage('alice'), 2);
    assert.equal(quota.acquire('alice'), true);
  });
});

describe('SharedUserCounts', () => {
  it('agrees with a Map through random acquires and releases of many users', () => {
    const counts = new SharedUserCounts(SharedUserCounts.createBuffer());
    const model = new Map<string, number>();
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 200_000; i++) {
      const user = `user-${random(20_000)}`;
      const n = model.get(user) ?? 0;
      if (random(3) === 0 && n > 0) {
        counts.release(user);
        if (n === 1) model.delete(user);
        else model.set(user, n - 1);
      } else if (n < 4) {
        assert.equal(counts.acquire(user, 4, 0), true);
        model.set(user, n + 1);
      } else {
        assert.equal(counts.acquire(user, 4, 0), false, 'user_quota 4');
      }
    }
    let total = 0;
    for (let u = 0; u < 20_000; u++) {
      const n = model.get(`user-${u}`) ?? 0;
      total += n;
      assert.equal(counts.usage(`user-${u}`), n, `user-${u}`);
    }
    assert.equal(counts.total, total);
    for (const [user, n] of model) for (let i = 0; i < n; i++) counts.release(user);
    assert.equal(counts.total, 0);
    for (let u = 0; u < 20_000; u++) assert.equal(counts.usage(`user-${u}`), 0);
    counts.release('nobody');
    assert.equal(counts.total, 0, 'releasing a user with nothing changes nothing');
  });

  it('a full table refuses new users (as quota reached); users in it go on, and users leaving make room', () => {
    const counts = new SharedUserCounts(SharedUserCounts.createBuffer());
    let users = 0;
    while (counts.acquire(`u${users}`, 0, 0)) users++;
    assert.ok(users > 100_000, `${users} users fit`);
    assert.equal(counts.total, users);
    assert.equal(counts.acquire('newcomer', 0, 0), false);
    assert.equal(counts.acquire('u0', 0, 0), true, 'a user in the table takes more');
    counts.release('u1');
    assert.equal(counts.acquire('newcomer', 0, 0), true);
    assert.equal(counts.usage('u0'), 2);
  });
});

describe('SharedUserCounts per worker', () => {
  it('releaseWorker gives back exactly one worker\'s allocations, in total and per user, through random traffic', () => {
    const buffer = SharedUserCounts.createBuffer();
    // Three workers' counts in this thread (the tag is all that tells workers apart), and the main thread's.
    const workers = [0, 1, 2].map((id) => new SharedUserCounts(buffer, id));
    const main = new SharedUserCounts(buffer);
    const model = workers.map(() => new Map<string, number>());
    let seed = 11;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const usage = (user: string) => model.reduce((sum, m) => sum + (m.get(user) ?? 0), 0);
    for (let i = 0; i < 100_000; i++) {
      const k = random(3);
      const user = `user-${random(3000)}`;
      const n = model[k].get(user) ?? 0;
      if (random(3) === 0 && n > 0) {
        workers[k].release(user);
        if (n === 1) model[k].delete(user);
        else model[k].set(user, n - 1);
      } else {
        const granted = workers[k].acquire(user, 5, 0);
        assert.equal(granted, usage(user) < 5, 'user_quota 5 over every worker');
        if (granted) model[k].set(user, n + 1);
      }
    }
    const held = [...model[1].values()].reduce((a, b) => a + b, 0);
    assert.equal(main.releaseWorker(1), held);
    model[1].clear();
    assert.equal(main.releaseWorker(1), 0, 'once');
    let total = 0;
    for (let u = 0; u < 3000; u++) {
      total += usage(`user-${u}`);
      assert.equal(main.usage(`user-${u}`), usage(`user-${u}`), `user-${u}`);
    }
    assert.equal(main.total, total);
    // What worker 1 held is worker 1's no more: a release there finds nothing; workers 0 and 2 go on.
    workers[1].release('user-1');
    assert.equal(main.total, total);
    for (const k of [0, 2]) for (const [user, n] of model[k]) for (let i = 0; i < n; i++) workers[k].release(user);
    assert.equal(main.total, 0);
  });

  it('a worker releases only what it acquired', () => {
    const buffer = SharedUserCounts.createBuffer();
    const [a, b] = [new SharedUserCounts(buffer, 0), new SharedUserCounts(buffer, 1)];
    assert.equal(a.acquire('alice', 0, 0), true);
    b.release('alice');
    assert.equal(a.usage('alice'), 1);
    assert.equal(b.total, 1);
    a.release('alice');
    assert.equal(b.total, 0);
  });
});
