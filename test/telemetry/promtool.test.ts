// `promtool check metrics` reports nothing on a scrape taken while the counters move (docs/metrics.md).
// promtool is a real dependency of this test: if it is missing the test fails with the install command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Telemetry } from '../../src/telemetry/telemetry.ts';
import { knownRegistry, FakeStatus, capturingLogger } from './helpers/fixture.ts';
import { get } from './helpers/http.ts';
import { promtoolCheck, requireTool } from './helpers/tools.ts';

test('promtool check metrics: clean on a scrape taken under changing counters', async () => {
  const promtool = requireTool('promtool');
  const registry = knownRegistry();
  for (let l = 0; l < 20; l++) {
    const name = `ns-${l}/gateway/listener-${l}`;
    registry.listener(name).countRequest('channel_bind', 403);
    for (let c = 0; c < 20; c++) registry.cluster(name, `ns/cluster-${c}`);
  }
  const t = new Telemetry({ registry, logger: capturingLogger().factory, status: new FakeStatus(), env: {}, sliceMs: 0.2 });
  // "Load": counters and histograms change between every turn of the event loop while the scrape is written.
  let running = true;
  const churn = (): void => {
    for (const s of registry.listeners.values()) {
      s.rxPackets++;
      s.rxBytes += 120;
      s.allocationDuration.record(s.rxPackets % 100);
      s.countRequest('allocate', s.rxPackets % 2 === 0 ? 200 : 401);
    }
    for (const s of registry.clusters.values()) s.txBytes += 100;
    if (running) setImmediate(churn);
  };
  try {
    await t.start({ metrics_endpoint: 'http://127.0.0.1:0/metrics', healthcheck_endpoint: '' });
    const url = `http://127.0.0.1:${t.address('admin.metrics_endpoint')?.port}/metrics`;
    churn();
    for (const encoding of ['identity', 'gzip']) {
      const { status, body } = await get(url, { 'accept-encoding': encoding });
      assert.equal(status, 200);
      assert.ok(body.includes('stunner_cluster_bytes_total{direction="tx",name="ns-19/gateway/listener-19",cluster="ns/cluster-19"}'));
      const { code, output } = await promtoolCheck(promtool, body);
      assert.equal(output, '', `promtool says:\n${output}`);
      assert.equal(code, 0);
    }
  } finally {
    running = false;
    await t.shutdown();
  }
});

test('promtool check metrics: catches a broken exposition (the check is live)', async () => {
  const promtool = requireTool('promtool');
  const { code, output } = await promtoolCheck(promtool, '# TYPE stunner_bad counter\nstunner_bad 1\n');
  assert.notEqual(code, 0);
  assert.match(output, /counter metrics should have "_total" suffix/);
});
