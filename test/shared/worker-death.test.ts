// A dataplane worker that dies leaves its holdings in the shared state: relay ports, reservations, allocations
// counted against max_allocations and user_quota, and maybe a word it held locked. After its 'exit' the main
// thread gives them back (releaseWorkerHoldings): exactly what that worker held, nothing of the others'.
// Workers die here as they do in the dataplane: process.exit(), an uncaught exception, terminate() at any
// instruction.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RelayPortPool } from '../../src/server/port-pool.ts';
import {
  createSharedDataplaneState, relayPortBuffers, releaseWorkerHoldings, type SharedDataplaneState,
} from '../../src/shared/dataplane-state.ts';
import { RelayReservations } from '../../src/shared/relay-reservations.ts';
import { holderTag } from '../../src/shared/spin-lock.ts';
import { AllocationQuota } from '../../src/turn/quota.ts';
import { startWorkers } from './workers.ts';

const MIN = 40000;
const MAX = 40199;
const listener = { name: 'udp', min_relay_port: MIN, max_relay_port: MAX };

interface Held {
  udp: number[];
  tcp: number[];
  reserved: number[];
  tokens: Uint8Array[];
}

/** Every port of the range the main thread can claim now (then released again). */
function free(buffer: SharedArrayBuffer, family: 4 | 6): Set<number> {
  const pool = new RelayPortPool(MIN, MAX, buffer);
  const ports = new Set<number>();
  for (let p = pool.claim(family); p !== undefined; p = pool.claim(family)) ports.add(p);
  for (const p of ports) pool.release(family, p);
  return ports;
}

/** The ports of the range nobody holds, if only `held` are held. */
function except(...held: number[][]): Set<number> {
  const taken = new Set(held.flat());
  const out = new Set<number>();
  for (let p = MIN; p <= MAX; p++) if (!taken.has(p)) out.add(p);
  return out;
}

describe('releaseWorkerHoldings: a worker that dies gives back exactly what it held', () => {
  let state: SharedDataplaneState;
  let w: Awaited<ReturnType<typeof startWorkers>>;
  before(async () => {
    state = createSharedDataplaneState();
    relayPortBuffers(state, 'udp');
    w = await startWorkers(state, 2);
  });
  after(() => w.stop());

  for (const [how, death, code] of [
    ['process.exit()', { op: 'exit', code: 7 }, 7],
    ['an uncaught exception', { op: 'throw' }, 1],
  ] as const) {
    it(`dies by ${how}: its ports, reservations and allocations come back; the other worker's stay`, async () => {
      const buffers = state.relayPorts.get('udp')!;
      const kept = await w.workers[0].call<Held>({ op: 'hold', listener, ports: 10, reservations: 3, users: ['alice', 'alice', 'bob'] });
      const lost = await (await w.restart(1)).call<Held>({
        op: 'hold', listener, ports: 20, reservations: 5, users: ['alice', 'carol', 'carol', 'dave'],
      });
      const quota = new AllocationQuota(0, 0, state.quota);
      assert.equal(quota.total, 7);
      assert.equal(quota.usage('alice'), 3);

      w.workers[1].send(death);
      assert.equal(await w.workers[1].exited, code);
      // 20 UDP and 20 TCP ports, and 5 pairs: the port held and the one reserved.
      assert.deepEqual(releaseWorkerHoldings(state, 1), { ports: 50, reservations: 5, allocations: 4 });
      assert.deepEqual(releaseWorkerHoldings(state, 1), { ports: 0, reservations: 0, allocations: 0 }, 'once');

      assert.deepEqual(free(buffers.udp, 4), except(kept.udp, kept.reserved));
      assert.deepEqual(free(buffers.tcp, 6), except(kept.tcp));
      assert.equal(quota.total, 3);
      assert.deepEqual(['alice', 'bob', 'carol', 'dave'].map((u) => quota.usage(u)), [2, 1, 0, 0]);
      const table = new RelayReservations(buffers.reservations);
      for (const token of lost.tokens) assert.equal(table.take(token), undefined);
      // Worker 0's reservations stand; taken here, their ports stay worker 0's until it dies too.
      for (const [i, token] of kept.tokens.entries()) {
        const r = table.take(token)!;
        assert.deepEqual([r.port, r.holder], [kept.reserved[i], holderTag(0)]);
      }

      // Worker 0 gives back its own allocations as ever; then nothing is held at all.
      assert.equal(await w.workers[0].call({ op: 'quota-release', users: ['alice', 'alice', 'bob'] }), 0);
      assert.deepEqual(releaseWorkerHoldings(state, 0), { ports: 26, reservations: 0, allocations: 0 });
      assert.equal(free(buffers.udp, 4).size, MAX - MIN + 1);
      assert.equal(free(buffers.tcp, 6).size, MAX - MIN + 1);
    });
  }

  it('a restarted worker under the same id claims what its predecessor left', async () => {
    const worker = await w.restart(1);
    const first = await worker.call<Held>({ op: 'hold', listener, ports: MAX - MIN + 1, reservations: 0, users: [] });
    assert.equal(new Set(first.udp).size, MAX - MIN + 1, 'the whole range');
    worker.send({ op: 'exit', code: 1 });
    await worker.exited;
    assert.equal(releaseWorkerHoldings(state, 1).ports, 2 * (MAX - MIN + 1));
    const next = await w.restart(1);
    const again = await next.call<Held>({ op: 'hold', listener, ports: MAX - MIN + 1, reservations: 0, users: [] });
    assert.equal(new Set(again.udp).size, MAX - MIN + 1, 'the whole range again, not 508');
    next.send({ op: 'exit', code: 1 });
    await next.exited;
    releaseWorkerHoldings(state, 1);
  });
});

describe('releaseWorkerHoldings: a worker that dies inside a section', () => {
  let state: SharedDataplaneState;
  let w: Awaited<ReturnType<typeof startWorkers>>;
  before(async () => {
    state = createSharedDataplaneState();
    relayPortBuffers(state, 'udp');
    w = await startWorkers(state, 2);
  });
  after(() => w.stop());

  /** True if `p` has not settled within `ms`. */
  async function stillWaiting(p: Promise<unknown>, ms: number): Promise<boolean> {
    return await Promise.race([p.then(() => false), sleep(ms).then(() => true)]);
  }

  it('holding the allocation counts\' lock: the other worker waits for it, and goes on once it is freed', async () => {
    await w.workers[0].call({ op: 'hold', listener, ports: 0, reservations: 0, users: ['erin'] });
    const dying = await w.restart(1);
    dying.send({ op: 'exit-holding-quota-lock' });
    await dying.exited;
    assert.equal(Atomics.load(new Int32Array(state.quota), 0), holderTag(1), 'the lock word names the dead worker');
    const acquire = w.race<number>([{ op: 'quota', userQuota: 0, maxAllocations: 0, users: ['erin', 'frank'] }]);
    assert.equal(await stillWaiting(acquire, 100), true, 'worker 0 waits on the dead worker\'s lock');
    assert.equal(releaseWorkerHoldings(state, 1).allocations, 0);
    assert.deepEqual(await acquire, [2]);
    assert.deepEqual(await w.workers[0].call({ op: 'usage', users: ['erin', 'frank'] }), { total: 3, users: [2, 1] });
  });

  it('holding a 401 bucket: lookups of that source wait, then find a full bucket', async () => {
    const ip = '192.0.2.44';
    const dying = await w.restart(1);
    dying.send({ op: 'exit-holding-bucket', ip, now: 5000 });
    await dying.exited;
    const answers = w.race<number>([{ op: 'challenges', rate: 5, ip, now: 5000, tries: 100 }]);
    assert.equal(await stillWaiting(answers, 100), true, 'worker 0 waits on the dead worker\'s slot');
    releaseWorkerHoldings(state, 1);
    // The slot was half-updated when its holder died: emptied, the source starts again with a full burst.
    assert.deepEqual(await answers, [10]);
  });

  it('removing another worker\'s reservation: the reservation stands, and its token still claims it', async () => {
    const made = await w.workers[0].call<Held>({ op: 'hold', listener, ports: 0, reservations: 1, users: [] });
    const dying = await w.restart(1);
    dying.send({ op: 'exit-removing-reservation', listener, token: made.tokens[0] });
    await dying.exited;
    const table = new RelayReservations(state.relayPorts.get('udp')!.reservations);
    assert.equal(table.take(made.tokens[0]), undefined, 'locked by the dead worker');
    assert.equal(releaseWorkerHoldings(state, 1).reservations, 0, 'it was worker 0\'s');
    const r = table.take(made.tokens[0])!;
    assert.deepEqual([r.port, r.holder], [made.reserved[0], holderTag(0)]);
  });

  it('terminated at any instruction while acquiring and releasing: the counts come out exact', async (t) => {
    const mine = Array.from({ length: 50 }, (_, i) => `kept-${i % 20}`);
    await w.workers[0].call({ op: 'hold', listener, ports: 0, reservations: 0, users: mine });
    const churned = Array.from({ length: 500 }, (_, i) => `churn-${i}`);
    const quota = new AllocationQuota(0, 0, state.quota);
    const before = quota.total;
    let insideLock = 0;
    for (let round = 0; round < 24; round++) {
      const worker = await w.restart(1);
      // Running (its modules loaded) before the clock starts.
      await worker.call({ op: 'usage', users: [] });
      worker.send({ op: 'quota-churn', users: [...churned, ...mine.slice(0, 5)] });
      await sleep(5 + (round % 6) * 4);
      await worker.terminate();
      if (Atomics.load(new Int32Array(state.quota), 0) === holderTag(1)) insideLock++;
      releaseWorkerHoldings(state, 1);
      assert.equal(quota.total, before, `round ${round}`);
    }
    t.diagnostic(`${insideLock} of 24 workers were stopped holding the lock`);
    for (const u of churned) assert.equal(quota.usage(u), 0, u);
    for (let i = 0; i < 20; i++) assert.equal(quota.usage(`kept-${i}`), i < 10 ? 3 : 2);
    assert.equal(quota.acquire('late'), true, 'the lock is free');
  });
});
