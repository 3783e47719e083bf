// ChallengeLimiter on shared buckets: one per-IP budget of 401/438 answers across worker threads (two workers
// answering one source give exactly its burst between them), refilled with time, pruned, and refusing new
// sources when a probe window has no free slot.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSharedDataplaneState } from '../../src/shared/dataplane-state.ts';
import { SharedTokenBuckets } from '../../src/shared/ip-buckets.ts';
import { ChallengeLimiter } from '../../src/turn/challenge-limiter.ts';
import { startWorkers } from './workers.ts';

const RATE = 5;
/** The bucket holds two seconds' worth. */
const BURST = 2 * RATE;
const IP = '198.51.100.7';

describe('ChallengeLimiter shared by two worker threads', () => {
  const state = createSharedDataplaneState();
  let w: Awaited<ReturnType<typeof startWorkers>>;
  before(async () => {
    w = await startWorkers(state, 2);
  });
  after(() => w.stop());

  it('one source answered by both workers at once gets its burst exactly, then the rate a second', async () => {
    const now = 1_000_000;
    // A deep bucket first, so that the two workers overlap for long: each alone could empty it.
    const deep = await w.race<number>([
      { op: 'challenges', rate: 10_000, ip: '192.0.2.9', now, tries: 20_000 },
      { op: 'challenges', rate: 10_000, ip: '192.0.2.9', now, tries: 20_000 },
    ]);
    assert.equal(deep[0] + deep[1], 20_000);
    assert.ok(deep[0] > 0 && deep[1] > 0, `both workers answered some (${deep})`);
    const call = (t: number) => ({ op: 'challenges' as const, rate: RATE, ip: IP, now: t, tries: 1000 });
    const first = await w.race<number>([call(now), call(now)]);
    assert.equal(first[0] + first[1], BURST);
    const later = await w.race<number>([call(now + 1000), call(now + 1000)]);
    assert.equal(later[0] + later[1], RATE);
    const main = new ChallengeLimiter(RATE, state.challenges);
    assert.equal(main.allow(IP, now + 1000), false, 'the main thread sees the same bucket');
    assert.equal(main.allow('203.0.113.1', now + 1000), true, 'another source has its own');
  });
});

describe('SharedTokenBuckets', () => {
  it('prune keeps a bucket that has not refilled; a refilled source starts again with a full burst', () => {
    const buckets = new SharedTokenBuckets(SharedTokenBuckets.createBuffer());
    const limiter = new ChallengeLimiter(RATE, SharedTokenBuckets.createBuffer());
    let n = 0;
    while (buckets.take(IP, 0, RATE)) n++;
    assert.equal(n, BURST);
    buckets.prune(1000, RATE);
    n = 0;
    while (buckets.take(IP, 1000, RATE)) n++;
    assert.equal(n, RATE, 'half refilled after a second: kept, not pruned');
    buckets.prune(10_000, RATE);
    n = 0;
    while (buckets.take(IP, 10_000, RATE)) n++;
    assert.equal(n, BURST);
    limiter.rate = 0;
    assert.equal(limiter.allow(IP, 0), true, 'rate 0 is unlimited');
  });

  it('sources that fill a probe window are refused (fail closed); refilled ones give their slots up', () => {
    const buckets = new SharedTokenBuckets(SharedTokenBuckets.createBuffer());
    let refused = 0;
    for (let i = 0; i < 70_000; i++) if (!buckets.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 0, RATE)) refused++;
    // 65,536 slots: at least the sources beyond them are refused, a few more where windows filled first.
    assert.ok(refused >= 70_000 - 65_536 && refused < 20_000, `${refused} refused`);
    // Two seconds on, every bucket has refilled: a new source takes one of their slots.
    assert.equal(buckets.take('192.0.2.1', 2000, RATE), true);
  });
});
