// Stats striped over workers: each worker's registry writes its own stripe of shared memory; the main
// thread's registry holds the sums after refresh(), with the same objects from one collection to the next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { DROP, requestKey } from '../../src/stats/listener-stats.ts';
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

  // Worker 1 is gone: what it held open is no longer open; what it counted stays counted.
  shared.clearGauges(1);
  shared.refresh();
  assert.deepEqual([ls.connections, ls.connectionsTotal, ls.allocationsActive, ls.rxPackets], [1, 2, 1, 8]);
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
  const { ListenerStats } = await import('../../src/stats/listener-stats.ts');
  await Promise.all([0, 1].map((stripe) => new Promise<void>((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { blocks, stripe, slots: ListenerStats.SLOTS, stride: stride(ListenerStats.SLOTS) } });
    w.once('message', () => void w.terminate().then(() => resolve()));
    w.once('error', reject);
  })));
  shared.refresh();
  assert.equal(main.listener('udp').rxPackets, 2e6);
  assert.equal(main.listener('udp').rxBytes, 2e6 * 160);
});

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
