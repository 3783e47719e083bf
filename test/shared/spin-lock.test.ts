// Lock words name their holder (worker id + 1), so the main thread can free a lock whose holder died inside
// its section, and only that one; and the main thread's own wait for a lock is bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forceUnlock, holderTag, lock, lockWithin, MAX_WORKERS, NO_WORKER, unlock } from '../../src/shared/spin-lock.ts';

describe('spin locks with holders', () => {
  it('holderTag: worker + 1, NO_WORKER without a worker, a RangeError outside 0..MAX_WORKERS-1', () => {
    assert.equal(holderTag(0), 1);
    assert.equal(holderTag(MAX_WORKERS - 1), MAX_WORKERS);
    assert.equal(holderTag(undefined), NO_WORKER);
    for (const bad of [-1, 1.5, MAX_WORKERS]) assert.throws(() => holderTag(bad), RangeError);
  });

  it('the lock word reads its holder; forceUnlock frees it for that holder only', () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    lock(word, 0, holderTag(3));
    assert.equal(word[0], holderTag(3));
    assert.equal(forceUnlock(word, 0, holderTag(2)), false, 'worker 2 does not hold it');
    assert.equal(word[0], holderTag(3));
    assert.equal(forceUnlock(word, 0, holderTag(3)), true);
    assert.equal(word[0], 0);
    lock(word, 0, holderTag(2));
    unlock(word, 0);
    assert.equal(forceUnlock(word, 0, holderTag(2)), false, 'a free lock stays free');
  });

  it('lockWithin gives up on a lock held for longer than it waits', () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    lock(word, 0, holderTag(0));
    const start = performance.now();
    assert.equal(lockWithin(word, 0, NO_WORKER, 20), false);
    assert.ok(performance.now() - start >= 20);
    unlock(word, 0);
    assert.equal(lockWithin(word, 0, NO_WORKER, 20), true);
    assert.equal(word[0], NO_WORKER);
  });
});
