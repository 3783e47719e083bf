// RelayPortPool on a SharedArrayBuffer: pools built on one buffer are one pool, in one thread and across
// worker threads. Two workers claiming at once never get the same port, pairs included, every port of the
// range is handed out exactly once, and a full range is known exactly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RelayPortPool } from '../../src/server/port-pool.ts';
import { createSharedDataplaneState } from '../../src/shared/dataplane-state.ts';
import { holderTag, MAX_WORKERS } from '../../src/shared/spin-lock.ts';
import { startWorkers } from './workers.ts';

describe('RelayPortPool on a SharedArrayBuffer, one thread', () => {
  it('pools on one buffer are one pool: a port one claims the other does not get', () => {
    const buffer = RelayPortPool.createBuffer();
    const a = new RelayPortPool(40000, 40001, buffer);
    const b = new RelayPortPool(40000, 40001, buffer);
    assert.equal(a.shared, true);
    assert.equal(new RelayPortPool(40000, 40001).shared, false);
    const first = a.claim(4)!;
    const second = b.claim(4)!;
    assert.deepEqual([first, second].sort(), [40000, 40001]);
    assert.equal(a.claim(4), undefined);
    assert.equal(b.full(4), true);
    assert.equal(b.full(6), false, 'each family has its own ports');
    b.release(4, first);
    assert.equal(a.full(4), false);
    assert.equal(a.claim(4), first);
  });

  it('pick only looks; claim takes; a failed bind releases what was claimed', () => {
    const pool = new RelayPortPool(40000, 40000, RelayPortPool.createBuffer());
    assert.equal(pool.pick(4), 40000);
    assert.equal(pool.pick(4), 40000);
    assert.equal(pool.claim(4), 40000);
    assert.equal(pool.pick(4), undefined);
    assert.equal(pool.take(4, 40000), false, 'claimed already');
    pool.release(4, 40000);
    assert.equal(pool.take(4, 40000), true);
  });

  it('setRange is one word: every worker storing the same range leaves that range, whatever the order', () => {
    const buffer = RelayPortPool.createBuffer();
    const a = new RelayPortPool(40000, 40001, buffer);
    const b = new RelayPortPool(40000, 40001, buffer);
    a.claim(4);
    a.claim(4);
    a.setRange(50000, 50001);
    assert.equal(b.full(4), false, 'the new range is every pool\'s');
    assert.ok([50000, 50001].includes(b.pick(4)!));
    b.setRange(50000, 50001);
    b.claim(4);
    a.setRange(50000, 50001);
    b.claim(4);
    assert.equal(a.full(4), true);
    a.setRange(0, 0);
    assert.equal(b.ranged, false);
    assert.equal(b.claim(4, 'pair'), 0, 'no range: the kernel picks');
    assert.equal(b.full(4), false);
  });

  it('full() counts exactly on a range that does not start or end on a word', () => {
    const pool = new RelayPortPool(40003, 40100, RelayPortPool.createBuffer());
    const got = new Set<number>();
    for (let p = pool.claim(4); p !== undefined; p = pool.claim(4)) got.add(p);
    assert.equal(got.size, 98);
    assert.equal(pool.full(4), true);
    pool.release(4, 40100);
    assert.equal(pool.full(4), false);
    assert.equal(pool.claim(4), 40100);
  });
});

describe('RelayPortPool owners', () => {
  it('releaseWorker frees every port of that worker, in both families, pairs included, and no other', () => {
    const buffer = RelayPortPool.createBuffer();
    const [a, b] = [new RelayPortPool(40000, 40099, buffer, 0), new RelayPortPool(40000, 40099, buffer, 1)];
    const mine = [a.claim(4)!, a.claim(6)!, a.claim(4, 'pair')!];
    const theirs = [b.claim(4)!, b.claim(6)!, b.claim(6, 'pair')!, b.claim(4, 'even')!];
    assert.equal(b.take(4, 40100), true, 'outside the range too (a port the kernel chose)');
    const main = RelayPortPool.attach(buffer);
    assert.equal(main.releaseWorker(1), 6);
    assert.equal(main.releaseWorker(1), 0);
    assert.equal(b.take(4, 40100), true);
    assert.equal(b.take(4, theirs[0]), true, 'free again');
    assert.equal(b.take(6, theirs[2] + 1), true);
    assert.equal(a.take(4, mine[0]), false, 'worker 0 still holds its ports');
    assert.equal(a.take(4, mine[2] + 1), false);
    assert.equal(main.releaseWorker(0), 4);
    assert.equal(a.release(4, mine[0]), false, 'gone already');
  });

  it('attach() leaves the range as the workers set it', () => {
    const buffer = RelayPortPool.createBuffer();
    new RelayPortPool(40000, 40000, buffer, 0).claim(4);
    const main = RelayPortPool.attach(buffer);
    assert.equal(main.ranged, true);
    assert.equal(main.full(4), true);
  });

  it('a port is released only by its holder; adopt() moves a held port to another worker', () => {
    const buffer = RelayPortPool.createBuffer();
    const [a, b] = [new RelayPortPool(40000, 40001, buffer, 0), new RelayPortPool(40000, 40001, buffer, 1)];
    const port = a.claim(4)!;
    assert.equal(b.release(4, port), false, 'not worker 1\'s');
    assert.equal(b.take(4, port), false);
    assert.equal(b.adopt(4, port, holderTag(1)), false, 'worker 1 does not hold it');
    assert.equal(b.adopt(4, port, holderTag(0)), true);
    assert.equal(a.release(4, port), false, 'worker 0 holds it no more');
    assert.equal(RelayPortPool.attach(buffer).releaseWorker(0), 0);
    assert.equal(b.full(4), false);
    assert.equal(b.release(4, port), true);
    assert.equal(b.adopt(4, port, holderTag(0)), false, 'a free port is adopted from nobody');
  });

  it('worker ids must fit a tag', () => {
    assert.throws(() => new RelayPortPool(0, 0, RelayPortPool.createBuffer(), MAX_WORKERS), RangeError);
    assert.throws(() => new RelayPortPool(0, 0, RelayPortPool.createBuffer(), -1), RangeError);
    assert.equal(new RelayPortPool(0, 0, RelayPortPool.createBuffer(), MAX_WORKERS - 1).ranged, false);
  });
});

describe('RelayPortPool on a SharedArrayBuffer, two worker threads', () => {
  let w: Awaited<ReturnType<typeof startWorkers>>;
  before(async () => {
    w = await startWorkers(createSharedDataplaneState(), 2);
  });
  after(() => w.stop());

  it('claiming every port of a range at once: each port goes to exactly one worker, then the range is full', async () => {
    const buffer = RelayPortPool.createBuffer();
    const range = [10000, 59999] as const;
    const [a, b] = await w.race<number[]>([
      { op: 'claim-all', buffer, range, family: 4, kind: 'any' },
      { op: 'claim-all', buffer, range, family: 4, kind: 'any' },
    ]);
    assert.ok(a.length > 0 && b.length > 0, `both workers claimed ports (${a.length}, ${b.length})`);
    const all = new Set([...a, ...b]);
    assert.equal(a.length + b.length, 50000, 'no port twice');
    assert.equal(all.size, 50000);
    assert.ok([...all].every((p) => p >= 10000 && p <= 59999));
    const pool = new RelayPortPool(...range, buffer);
    assert.equal(pool.full(4), true);
    assert.equal(pool.claim(4), undefined);
    assert.equal(pool.full(6), false);
  });

  it('EVEN-PORT pairs: both ports of every pair are claimed together, no pair overlaps another', async () => {
    const buffer = RelayPortPool.createBuffer();
    const range = [20001, 40000] as const;
    const [a, b] = await w.race<number[]>([
      { op: 'claim-all', buffer, range, family: 6, kind: 'pair' },
      { op: 'claim-all', buffer, range, family: 6, kind: 'pair' },
    ]);
    assert.ok(a.length > 0 && b.length > 0, `both workers claimed pairs (${a.length}, ${b.length})`);
    const ports = [...a, ...b].flatMap((p) => [p, p + 1]);
    assert.ok([...a, ...b].every((p) => p % 2 === 0 && p >= 20002 && p + 1 <= 40000));
    // 20002..39999: every even port with its successor; 20001 and 40000 have no partner in the range.
    assert.equal(new Set(ports).size, ports.length, 'no port in two pairs');
    assert.equal(ports.length, 19998);
    const pool = new RelayPortPool(...range, buffer);
    assert.equal(pool.claim(6, 'pair'), undefined);
    assert.deepEqual([pool.claim(6), pool.claim(6)].sort(), [20001, 40000]);
    assert.equal(pool.full(6), true);
  });

  it('claims and releases churning over a small range: no port is ever held by two workers at once', async () => {
    const buffer = RelayPortPool.createBuffer();
    const range = [40000, 40063] as const;
    const owners = new SharedArrayBuffer(65536 * 4);
    const results = await w.race<{ clashes: number; claims: number }>([
      { op: 'churn', buffer, range, owners, id: 1, rounds: 50_000 },
      { op: 'churn', buffer, range, owners, id: 2, rounds: 50_000 },
    ]);
    for (const r of results) {
      assert.equal(r.clashes, 0);
      assert.ok(r.claims > 1000, `claims went on (${r.claims})`);
    }
    const pool = new RelayPortPool(...range, buffer);
    assert.equal(pool.full(4), false);
    for (let p = 40000; p <= 40063; p++) assert.equal(pool.take(4, p), true, `port ${p} released`);
  });
});
