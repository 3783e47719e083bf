// Stats striped over workers: each worker's registry writes its own stripe of shared memory; the main
// thread's registry holds the sums after refresh(), with the same objects from one collection to the next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DROP, ListenerStats, requestKey } from '../../src/stats/listener-stats.ts';
import { StatsRegistry } from '../../src/stats/registry.ts';
import { ClusterStats } from '../../src/stats/cluster-stats.ts';
import { SharedStats, stride, stripeMemory } from '../../src/stats/shared-stats.ts';

const routes = new Map([['udp', ['media']], ['tcp', []]]);

test('two stripes written separately sum exactly; histograms merge min and max', () => {
  const main = new StatsRegistry();
  const shared = new SharedStats(main, 2);
  const blocks = shared.blocks(routes);
  const w0 = new StatsRegistry(stripeMemory(blocks, 0));
  const w1 = new StatsRegistry(stripeMemory(blocks, 1));
  for (const [w, n] of [[w0, 3], [w1, 5]] as const) {
    const l = w.listener('udp');
    const c = w.cluster('udp', 'media');
    for (let i = 0; i < n; i++) {
      l.rxPackets++;
      l.rxBytes += 100;
      c.txPackets++;
      l.drops[DROP.no_permission]++;
      l.countRequest('allocate', 200);
    }
    l.connectionOpened();
    l.allocationsActive++;
    l.allocationDuration.record(n);
    l.countRequest('refresh', 999); // not a STUN code: counted as 500
  }
  const ls = main.listener('udp');
  const cs = main.cluster('udp', 'media');
  shared.refresh();
  assert.equal(main.listener('udp'), ls, 'the same object across refreshes');
  assert.deepEqual([ls.rxPackets, ls.rxBytes, cs.txPackets, ls.drops[DROP.no_permission]], [8, 800, 8, 8]);
  assert.deepEqual([ls.connections, ls.connectionsTotal, ls.allocationsActive], [2, 2, 2]);
  assert.equal(ls.requests.get(requestKey('allocate', 200)), 8);
  assert.equal(ls.requests.get(requestKey('refresh', 500)), 2);
  assert.equal(ls.requests.size, 2);
  const h = ls.allocationDuration;
  assert.deepEqual([h.count, h.sum, h.min, h.max], [2, 8, 3, 5]);
  assert.equal(main.listener('tcp').allocationDuration.count, 0);
  assert.deepEqual([main.listener('tcp').allocationDuration.min, main.listener('tcp').allocationDuration.max], [Infinity, -Infinity]);

  for (let b = 0; b < h.counts.length; b++) assert.equal(h.exemplar(b), undefined, 'no span was recorded');

  // Worker 1 is gone: what it held open is no longer open; what it counted stays counted.
  shared.clearGauges(1);
  shared.refresh();
  assert.deepEqual([ls.connections, ls.connectionsTotal, ls.allocationsActive, ls.rxPackets], [1, 2, 1, 8]);
});

test('exemplars combine per bucket by time: the latest of the stripes wins, whichever stripe it is in', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
  const main = new StatsRegistry();
  const shared = new SharedStats(main, 2);
  const blocks = shared.blocks(routes);
  const h0 = new StatsRegistry(stripeMemory(blocks, 0)).listener('udp').allocationDuration;
  const h1 = new StatsRegistry(stripeMemory(blocks, 1)).listener('udp').allocationDuration;
  const span = (n: number): { traceId: string; spanId: string } =>
    ({ traceId: n.toString(16).padStart(32, 'a'), spanId: n.toString(16).padStart(16, 'b') });
  // Bucket (30, 60]: worker 1 first, worker 0 later. Bucket (1, 5]: worker 0 first, worker 1 later.
  h1.record(40, span(1));
  h0.record(2, span(2));
  t.mock.timers.tick(5);
  h0.record(45, span(3));
  h1.record(3, span(4));
  h1.record(50); // counted, no span: the exemplars stay
  const h = main.listener('udp').allocationDuration;
  shared.refresh();
  assert.deepEqual(h.exemplar(4), { value: 45, timeMs: 1_700_000_000_005, ...span(3) });
  assert.deepEqual(h.exemplar(1), { value: 3, timeMs: 1_700_000_000_005, ...span(4) });
  assert.equal(h.exemplar(0), undefined);
  assert.deepEqual([h.count, h.sum, h.counts[1], h.counts[4]], [5, 140, 2, 3], 'counts still sum');

  // A later span in the other stripe takes over at the next refresh; the main thread's object stays the same.
  t.mock.timers.tick(1000);
  h1.record(31, span(5));
  shared.refresh();
  assert.deepEqual(h.exemplar(4), { value: 31, timeMs: 1_700_000_001_005, ...span(5) });
  assert.deepEqual(h.exemplar(1), { value: 3, timeMs: 1_700_000_000_005, ...span(4) });
});

test('a route removed by reload drops its block and series; a new one starts at 0', () => {
  const main = new StatsRegistry();
  const shared = new SharedStats(main, 2);
  const w0 = new StatsRegistry(stripeMemory(shared.blocks(routes), 0));
  w0.cluster('udp', 'media').rxPackets = 7;
  const next = shared.blocks(new Map([['udp', ['other']]]));
  assert.deepEqual(next.listeners.map(([n]) => n), ['udp']);
  assert.deepEqual(next.clusters.map(([l, c]) => `${l}/${c}`), ['udp/other']);
  assert.equal(main.clusters.size, 1);
  shared.refresh();
  assert.equal(main.cluster('udp', 'other').rxPackets, 0);
});

test('real workers: each adds to its stripe concurrently, the sum is exact', async () => {
  const main = new StatsRegistry();
  const shared = new SharedStats(main, 2);
  const blocks = shared.blocks(routes);
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    const [block] = workerData.blocks.listeners.find(([n]) => n === 'udp').slice(1);
    const m = new Float64Array(block, workerData.stripe * workerData.stride * 8, workerData.slots);
    for (let i = 0; i < 1e6; i++) { m[2]++; m[3] += 160; }
    parentPort.postMessage('done');`;
  await Promise.all([0, 1].map((stripe) => new Promise<void>((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { blocks, stripe, slots: ListenerStats.SLOTS, stride: stride(ListenerStats.SLOTS) } });
    w.once('message', () => void w.terminate().then(() => resolve()));
    w.once('error', reject);
  })));
  shared.refresh();
  assert.equal(main.listener('udp').rxPackets, 2e6);
  assert.equal(main.listener('udp').rxBytes, 2e6 * 160);
});

test('an exemplar being written (its sequence number odd) is not read: the bucket keeps the previous one', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
  const main = new StatsRegistry();
  const shared = new SharedStats(main, 2);
  const blocks = shared.blocks(routes);
  const w0 = new StatsRegistry(stripeMemory(blocks, 0)).listener('udp');
  const first = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };
  w0.allocationDuration.record(20, first);
  const h = main.listener('udp').allocationDuration;
  shared.refresh();
  assert.equal(h.exemplar(3)?.spanId, first.spanId);

  // A writer stopped half-way: sequence odd, value and time new, ids still old. histogram.ts's layout: the sequence
  // number follows the 15 counts and sum, count, min, max.
  const seq = new Int32Array(w0.memory.buffer, w0.memory.byteOffset + (ListenerStats.HISTOGRAM_SLOTS.start + 15 + 4) * 8, 1);
  Atomics.add(seq, 0, 1);
  const exemplar3 = ListenerStats.HISTOGRAM_SLOTS.start + 15 + 4 + 1 + 3 * 8;
  w0.memory[exemplar3] = Date.now() + 1000;
  w0.memory[exemplar3 + 1] = 25;
  shared.refresh();
  assert.deepEqual(h.exemplar(3), { value: 20, timeMs: 1_700_000_000_000, ...first }, 'the previous, whole exemplar');
  Atomics.add(seq, 0, 1);
  shared.refresh();
  assert.deepEqual(h.exemplar(3), { value: 25, timeMs: 1_700_000_001_000, ...first }, 'the write has ended');

  // A worker that died half-way through a write does not keep its stripe's exemplars unreadable for good.
  const w1 = new StatsRegistry(stripeMemory(blocks, 1)).listener('udp');
  t.mock.timers.tick(5000);
  w0.allocationDuration.record(100, { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16) });
  Atomics.add(seq, 0, 1);
  shared.clearGauges(0);
  w1.allocationDuration.record(200, { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16) });
  shared.refresh();
  assert.equal(Atomics.load(seq, 0) % 2, 0);
  assert.equal(h.exemplar(5), undefined, 'what the dead worker recorded is dropped');
  assert.equal(h.exemplar(3), undefined);
  assert.equal(h.exemplar(6)?.spanId, 'f'.repeat(16), 'the other worker\'s exemplars are read');
  assert.equal(h.count, 3, 'its counts stay');
});

test('real workers: exemplars read while a worker records them are never torn (value and ids of one record)', async () => {
  const main = new StatsRegistry();
  const shared = new SharedStats(main, 2);
  const blocks = shared.blocks(routes);
  const histogramUrl = pathToFileURL(new URL('../../src/stats/registry.ts', import.meta.url).pathname).href;
  const memoryUrl = pathToFileURL(new URL('../../src/stats/shared-stats.ts', import.meta.url).pathname).href;
  // Each record's value n is written into its trace and span ids too: a torn read would mix two n.
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      const { StatsRegistry } = await import(workerData.registry);
      const { stripeMemory } = await import(workerData.shared);
      const h = new StatsRegistry(stripeMemory(workerData.blocks, workerData.stripe)).listener('udp').allocationDuration;
      const view = new Int32Array(workerData.stop);
      let n = workerData.stripe * 1e9;
      while (Atomics.load(view, 0) === 0) {
        n++;
        const hex = n.toString(16);
        h.record(10 + (n % 20), { traceId: hex.padStart(32, '1'), spanId: hex.padStart(16, '0') });
      }
      parentPort.postMessage(n);
    })();`;
  const stop = new SharedArrayBuffer(4);
  const workers = [0, 1].map((stripe) => new Worker(source, { eval: true,
    workerData: { blocks, stripe, stop, registry: histogramUrl, shared: memoryUrl } }));
  const done = workers.map((w) => new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const h = main.listener('udp').allocationDuration;
  let seen = 0;
  try {
    // Both workers started and recording (import() takes a while), then refresh in a tight loop: many reads race
    // a write.
    await until('both workers to record', 10_000, () => {
      shared.refresh();
      return h.count > 1000 ? true : undefined;
    });
    const end = Date.now() + 500;
    while (Date.now() < end) {
      shared.refresh();
      for (let b = 0; b < h.counts.length; b++) {
        const e = h.exemplar(b);
        if (e === undefined) continue;
        const n = parseInt(e.spanId, 16);
        assert.equal(e.traceId, n.toString(16).padStart(32, '1'), `trace id of record ${n}`);
        assert.equal(e.value, 10 + (n % 20), `value of record ${n}`);
        seen++;
      }
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await Promise.all(done);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  shared.refresh();
  assert.ok(seen > 100, `${seen} exemplars checked`);
});

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('stripes of one object never share a cache line: two workers counting one cluster do not bounce it', () => {
  for (const slots of [ClusterStats.SLOTS, 6, 1, 16, 17]) {
    assert.equal((stride(slots) * 8) % 128, 0);
    assert.ok(stride(slots) >= slots);
  }
  const main = new StatsRegistry();
  const blocks = new SharedStats(main, 2).blocks(routes);
  const [, , block] = blocks.clusters[0];
  assert.equal(block.byteLength, 2 * 128);
});
