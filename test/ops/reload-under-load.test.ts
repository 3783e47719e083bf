// A live reload while coturn's turnutils_uclient relays through stunnerd: the config file (watched with -w)
// gains a listener, a cluster, a route on the busy listener, a log level and a user quota mid-run.
// No packet is lost, the new listener serves, and the reload is counted once as a success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TurnClient } from '../../src/client/turn-client.ts';
import { freeUdpPort } from '../helpers/process.ts';
import { turnutilsPeer, uclient, type UclientResult } from '../helpers/uclient.ts';
import { valueOf } from './support/samples.ts';
import { baseConfig, freePorts, PASS, startDaemon, tempDir, USER, waitUntil, writeConfig } from './support/daemon.ts';

const SESSIONS = 10;
const MESSAGES = 200;

test('a live change rewritten into the watched file mid-run: zero loss, generation 2, one successful reload', async () => {
  const dir = tempDir('reload');
  const file = join(dir, 'config.yaml');
  const ports = await freePorts();
  const peerPort = await freeUdpPort();
  const secondPort = await freeUdpPort();
  const config = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  writeConfig(file, config);
  const peer = await turnutilsPeer('127.0.0.1', peerPort);
  // Two dataplane workers: the reload is applied in both, and the listener that stays keeps its sockets in both
  // (the kernel keeps handing every client to the worker that holds its allocation).
  const d = await startDaemon({ args: ['-c', file, '-w', '-u', '2'], healthPort: ports.health, metricsPort: ports.metrics });
  try {
    let finished = false;
    const run: Promise<UclientResult> = uclient({ port: ports.turn, user: USER, password: PASS, sessions: SESSIONS,
      messages: MESSAGES, intervalMs: 20, peer: { address: '127.0.0.1', port: peerPort }, timeoutS: 60 })
      .finally(() => (finished = true));

    // Rewrite the file once media flows (uclient spends its first seconds allocating).
    const relayed = () => d.value('stunner_cluster_packets_total', { name: 'udp', cluster: 'loopback', direction: 'tx' });
    await waitUntil('relayed packets', async () => ((await relayed()) ?? 0) > 100, 30_000, d);
    writeConfig(file, {
      ...config,
      admin: { ...config.admin, loglevel: 'all:INFO', user_quota: 100 },
      listeners: [
        { ...config.listeners[0], routes: ['loopback', 'more'] },
        { name: 'udp2', protocol: 'TURN-UDP', address: '127.0.0.1', port: secondPort, routes: ['more'] },
      ],
      clusters: [...config.clusters, { name: 'more', type: 'STATIC', endpoints: ['127.0.0.2/32'] }],
    });
    await d.waitGeneration(2);
    assert.equal(finished, false, 'the reload must happen while uclient is still relaying');
    const midRun = (await relayed()) ?? 0;
    assert.ok(midRun < SESSIONS * MESSAGES, `reloaded after ${midRun} of ${SESSIONS * MESSAGES} packets`);

    const r = await run;
    assert.deepEqual(r.errors, [], r.output.slice(-2000));
    assert.equal(r.sent, SESSIONS * MESSAGES, r.output.slice(-2000));
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);

    const status = await d.status();
    assert.equal(status.configGeneration, 2);
    assert.ok(status.workers?.length === 2 && status.workers.every((w) => w.allocations > 0),
      `uclient's allocations on both workers: ${JSON.stringify(status.workers)}`);
    assert.deepEqual(status.listeners.map((l) => [l.name, l.port]), [['udp', ports.turn], ['udp2', secondPort]]);
    assert.deepEqual(status.clusters.map((c) => c.name), ['loopback', 'more']);
    const samples = await d.samples();
    assert.equal(valueOf(samples, 'stunner_config_reloads_total', { result: 'success' }), 1);
    assert.equal(valueOf(samples, 'stunner_config_reloads_total', { result: 'failure' }), 0);
    assert.equal(valueOf(samples, 'stunner_config_last_reload_successful'), 1);
    // The cluster series counted every relayed packet, before and after the reload.
    assert.equal(valueOf(samples, 'stunner_cluster_packets_total', { name: 'udp', cluster: 'loopback', direction: 'tx' }),
      SESSIONS * MESSAGES);
    assert.equal(valueOf(samples, 'stunner_cluster_packets_total', { name: 'udp', cluster: 'more', direction: 'tx' }), 0);

    // The listener added by the reload serves allocations.
    const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: secondPort, username: USER, password: PASS });
    try {
      const a = await client.allocate();
      assert.equal(a.relayed[0]?.address, '127.0.0.1');
    } finally {
      client.close();
    }
    assert.match(d.output(), /config reloaded reason="file changed" generation=2/);
  } finally {
    await d.kill();
    await peer.stop();
  }
});
