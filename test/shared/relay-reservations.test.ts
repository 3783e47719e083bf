// EVEN-PORT with R across worker threads: the reservation is an entry of the listener's shared table and the
// port's bit in its shared pool, so the Allocate with the RESERVATION-TOKEN may reach any worker. Also the table
// on its own: take once, sweep what expired, refuse when full.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { RelayPortPool } from '../../src/server/port-pool.ts';
import { createSharedDataplaneState, relayPortBuffers } from '../../src/shared/dataplane-state.ts';
import { RelayReservations, type Reservation } from '../../src/shared/relay-reservations.ts';
import { holderTag, NO_WORKER } from '../../src/shared/spin-lock.ts';
import { startWorkers } from './workers.ts';

/** True if `port` can be bound on loopback now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** An even port that is free on loopback with its successor. */
async function freePair(): Promise<number> {
  for (;;) {
    const p = 30000 + 2 * Math.floor(Math.random() * 5000);
    if (await bindable(p) && await bindable(p + 1)) return p;
  }
}

describe('RelayReservations', () => {
  // A table without a worker (this thread) makes entries as NO_WORKER.
  const r = (port: number, expiresAt = 1000): Reservation => ({ family: 4, port, expiresAt, holder: NO_WORKER });

  it('a token is taken once; another token takes nothing', () => {
    const table = new RelayReservations(RelayReservations.createBuffer());
    const token = randomBytes(8);
    assert.equal(table.add(token, { family: 6, port: 40001, expiresAt: 1234 }), true);
    assert.equal(table.take(randomBytes(8)), undefined);
    assert.equal(table.take(token.subarray(0, 4)), undefined, 'not a token');
    assert.deepEqual(table.take(token), { family: 6, port: 40001, expiresAt: 1234, holder: NO_WORKER });
    assert.equal(table.take(token), undefined);
  });

  it('tables on one buffer are one table', () => {
    const buffer = RelayReservations.createBuffer();
    const token = randomBytes(8);
    new RelayReservations(buffer).add(token, r(40001));
    assert.deepEqual(new RelayReservations(buffer).take(token), r(40001));
  });

  it('sweep hands over what expired, and only that', () => {
    const table = new RelayReservations(RelayReservations.createBuffer());
    const early = randomBytes(8);
    const late = randomBytes(8);
    table.add(early, r(40001, 1000));
    table.add(late, r(40003, 2000));
    const swept: Reservation[] = [];
    table.sweep(999, (x) => swept.push(x));
    assert.equal(swept.length, 0);
    table.sweep(1000, (x) => swept.push(x));
    assert.deepEqual(swept, [r(40001, 1000)]);
    assert.equal(table.take(early), undefined);
    assert.deepEqual(table.take(late), r(40003, 2000));
  });

  it('a full table refuses a new reservation until one goes', () => {
    const table = new RelayReservations(RelayReservations.createBuffer());
    const tokens = Array.from({ length: 1024 }, () => randomBytes(8));
    for (const t of tokens) assert.equal(table.add(t, r(40001)), true);
    assert.equal(table.add(randomBytes(8), r(40003)), false);
    table.take(tokens[500]);
    const token = randomBytes(8);
    assert.equal(table.add(token, r(40005)), true);
    assert.deepEqual(table.take(token), r(40005));
  });
});

describe('RelayReservations of a worker that died', () => {
  const r = (port: number) => ({ family: 4 as const, port, expiresAt: 1000 });

  it('releaseWorker removes the entries that worker made, and only those', () => {
    const buffer = RelayReservations.createBuffer();
    const [a, b] = [new RelayReservations(buffer, 0), new RelayReservations(buffer, 1)];
    const tokens = Array.from({ length: 6 }, () => randomBytes(8));
    tokens.forEach((t, i) => (i % 2 === 0 ? a : b).add(t, r(40000 + i)));
    const main = new RelayReservations(buffer);
    assert.equal(main.releaseWorker(1), 3);
    assert.equal(main.releaseWorker(1), 0);
    tokens.forEach((t, i) => {
      if (i % 2 === 0) assert.deepEqual(b.take(t), { ...r(40000 + i), holder: holderTag(0) });
      else assert.equal(a.take(t), undefined);
    });
  });

  it('a slot the dead worker was writing is emptied; one it was removing stands again', () => {
    const buffer = RelayReservations.createBuffer();
    const words = new Int32Array(buffer);
    const live = new RelayReservations(buffer, 0);
    const token = randomBytes(8);
    live.add(token, r(40001));
    const slot = words.findIndex((v, i) => i % 8 === 0 && v === 1);
    // As worker 1 leaves them when stopped inside take(token), and inside an add() elsewhere.
    words[slot] = -(holderTag(1) + 0x10000);
    const adding = (slot + 8) % words.length;
    words[adding] = -holderTag(1);
    words[adding + 1] = 12345;
    assert.equal(live.take(token), undefined, 'locked');
    assert.equal(new RelayReservations(buffer).releaseWorker(1), 0, 'neither was worker 1\'s');
    assert.equal(words[adding], 0);
    assert.deepEqual(live.take(token), { ...r(40001), holder: holderTag(0) });
    const next = randomBytes(8);
    for (let i = 0; i < 1024; i++) assert.equal(live.add(i === 0 ? next : randomBytes(8), r(40003)), true, 'every slot is free');
  });
});

describe('UdpRelayAllocator reservations across two worker threads', () => {
  const state = createSharedDataplaneState();
  let w: Awaited<ReturnType<typeof startWorkers>>;
  let base: number;
  let listener: { name: string; min_relay_port: number; max_relay_port: number };
  before(async () => {
    base = await freePair();
    listener = { name: 'udp', min_relay_port: base, max_relay_port: base + 1 };
    // The main thread makes the listener's buffers before the workers get the state.
    relayPortBuffers(state, 'udp');
    w = await startWorkers(state, 2);
  });
  after(() => w.stop());

  it('worker A reserves the next port; worker B claims it with the token; nothing else of ours gets it', async () => {
    const [a, b] = w.workers;
    const pool = new RelayPortPool(base, base + 1, state.relayPorts.get('udp')!.udp);
    const made = await a.call<{ port: number; token: Uint8Array }>({
      op: 'relay-allocate', listener, evenPort: true, reserveNext: true,
    });
    assert.equal(made.port, base);
    assert.equal(made.token.byteLength, 8);
    assert.equal(pool.full(4), true, 'the reserved port is taken in the shared pool');
    assert.equal(await bindable(base + 1), true, 'no socket holds the reserved port');
    assert.deepEqual(await b.call({ op: 'relay-allocate', listener, evenPort: false, reserveNext: false }), { code: 508 });
    assert.deepEqual(await a.call({ op: 'relay-allocate', listener, evenPort: false, reserveNext: false }), { code: 508 });
    assert.deepEqual(await b.call({ op: 'relay-claim', listener, token: made.token }), { port: base + 1 });
    assert.equal(await bindable(base + 1), false, 'worker B binds the reserved port');
    assert.deepEqual(await a.call({ op: 'relay-claim', listener, token: made.token }), { port: undefined }, 'a token claims once');
    await a.call({ op: 'relay-close-all' });
    await b.call({ op: 'relay-close-all' });
    assert.equal(pool.full(4), false);
    assert.equal(pool.claim(4, 'pair'), base, 'both ports free again');
    pool.release(4, base);
    pool.release(4, base + 1);
  });

  it('the worker that made a reservation frees it when its listener closes; the token claims nothing then', async () => {
    const [a, b] = w.workers;
    const pool = new RelayPortPool(base, base + 1, state.relayPorts.get('udp')!.udp);
    const made = await a.call<{ port: number; token: Uint8Array }>({
      op: 'relay-allocate', listener, evenPort: true, reserveNext: true,
    });
    assert.equal(made.port, base);
    await a.call({ op: 'relay-close-all' });
    assert.equal(pool.full(4), false);
    assert.equal(pool.pick(4, 'pair'), base);
    assert.deepEqual(await b.call({ op: 'relay-claim', listener, token: made.token }), { port: undefined });
    await b.call({ op: 'relay-close-all' });
  });

  it('an expired reservation whose maker is gone is freed by the worker that needs its port', async () => {
    const [, b] = w.workers;
    const pool = new RelayPortPool(base, base + 1, state.relayPorts.get('udp')!.udp);
    // As a worker that died leaves it: both ports taken, the next one by an entry that has expired.
    assert.equal(pool.claim(4, 'pair'), base);
    pool.release(4, base);
    new RelayReservations(state.relayPorts.get('udp')!.reservations).add(randomBytes(8), { family: 4, port: base + 1, expiresAt: Date.now() - 1 });
    assert.equal(pool.claim(4), base);
    assert.equal(pool.full(4), true);
    assert.deepEqual(await b.call({ op: 'relay-allocate', listener, evenPort: false, reserveNext: false }), { port: base + 1 });
    pool.release(4, base);
    await b.call({ op: 'relay-close-all' });
    assert.equal(pool.full(4), false);
  });
});
