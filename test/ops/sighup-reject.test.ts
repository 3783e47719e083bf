// SIGHUP reloads; a config that is broken (YAML syntax, a rule broken, a listener that cannot bind) is
// rejected: the running config keeps serving the allocation held across all of it and new ones, each
// rejection is counted and logged naming the field, and the next good config clears the alarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort } from '../helpers/process.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { uclient } from '../helpers/uclient.ts';
import { baseConfig, freePorts, PASS, startDaemon, tempDir, USER, waitUntil, writeConfig, type Daemon } from './support/daemon.ts';
import { RelayProbe } from './support/relay-probe.ts';
import { parseExposition, valueOf } from './support/samples.ts';

async function reloads(d: Daemon): Promise<{ success: number; failure: number; last: number }> {
  const s = await d.samples();
  return {
    success: valueOf(s, 'stunner_config_reloads_total', { result: 'success' }) ?? -1,
    failure: valueOf(s, 'stunner_config_reloads_total', { result: 'failure' }) ?? -1,
    last: valueOf(s, 'stunner_config_last_reload_successful') ?? -1,
  };
}

/** Sends SIGHUP and waits until the reload is counted, one way or the other. */
async function hup(d: Daemon, expect: { success: number; failure: number }): Promise<void> {
  d.signal('SIGHUP');
  await waitUntil(`reloads ${JSON.stringify(expect)}`, async () => {
    const r = await reloads(d);
    return r.success === expect.success && r.failure === expect.failure;
  }, 15_000, d);
}

test('SIGHUP: broken configs are rejected and counted, the running one keeps relaying, a good one clears it', async () => {
  const dir = tempDir('sighup');
  const file = join(dir, 'config.yaml');
  const ports = await freePorts();
  const config = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  writeConfig(file, config);
  const peer = await startEchoPeer();
  const d = await startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics });
  const held = await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
  const squatter = createSocket('udp4');
  try {
    assert.equal(await held.echo(), true);
    assert.deepEqual(await reloads(d), { success: 0, failure: 0, last: 1 });

    // 1. Not YAML: an unterminated flow sequence.
    writeConfig(file, 'version: v1\nlisteners: [ {name: udp, port: 3478\n');
    await hup(d, { success: 0, failure: 1 });
    assert.equal((await reloads(d)).last, 0);
    assert.match(d.output(), /ERROR stunnerd: config rejected, keeping the running config reason=SIGHUP error=".*invalid YAML at line \d+, column \d+/);
    assert.equal(await held.echo(), true, 'the held allocation relays after a rejected config');

    // 2. YAML, but a rule broken: the log names the field, the expectation and the value.
    writeConfig(file, { ...config, listeners: [{ ...config.listeners[0], port: 70000 }] });
    await hup(d, { success: 0, failure: 2 });
    assert.match(d.output(), /config rejected.*listeners\[0\]\.port: must be 1\.\.65535, got 70000/);

    // 3. Valid, but cannot be applied: a new listener's port is taken. The gateway rolls back.
    const taken = await freeUdpPort();
    await new Promise<void>((r) => squatter.bind(taken, '127.0.0.1', r));
    writeConfig(file, {
      ...config,
      listeners: [...config.listeners,
        { name: 'squatted', protocol: 'TURN-UDP', address: '127.0.0.1', port: taken, routes: ['loopback'] }],
    });
    await hup(d, { success: 0, failure: 3 });
    assert.match(d.output(), /config could not be applied.*listener squatted: cannot listen on TURN-UDP 127\.0\.0\.1:\d+/);

    let status = await d.status();
    assert.equal(status.configGeneration, 1);
    assert.deepEqual(status.listeners.map((l) => l.name), ['udp']);
    assert.equal((await reloads(d)).last, 0);
    assert.equal(await held.echo(), true, 'the held allocation relays after a rollback');
    // New allocations under the old config still work, with zero loss.
    const r = await uclient({ port: ports.turn, user: USER, password: PASS, sessions: 2, messages: 50, intervalMs: 10,
      peer: { address: '127.0.0.1', port: peer.port }, timeoutS: 30 });
    assert.deepEqual(r.errors, [], r.output.slice(-2000));
    assert.equal(r.received, 100, r.output.slice(-2000));
    assert.equal(r.lost, 0);

    // 4. A good config that also moves the metrics endpoint: reloaded, generation 2, the alarm clears, only
    //    the metrics server moved (the counters with it), the held allocation never noticed.
    const newMetrics = await freeTcpPort();
    writeConfig(file, { ...config, admin: { ...config.admin, name: 'ops-fixed',
      metrics_endpoint: `http://127.0.0.1:${newMetrics}/metrics` } });
    d.signal('SIGHUP');
    const moved = `http://127.0.0.1:${newMetrics}/metrics`;
    await waitUntil('metrics at the new endpoint', async () => (await fetch(moved)).status === 200, 15_000, d);
    const after = parseExposition(await (await fetch(moved)).text());
    assert.equal(valueOf(after, 'stunner_config_reloads_total', { result: 'success' }), 1);
    assert.equal(valueOf(after, 'stunner_config_reloads_total', { result: 'failure' }), 3);
    assert.equal(valueOf(after, 'stunner_config_last_reload_successful'), 1);
    await assert.rejects(fetch(d.metricsUrl), 'the old metrics endpoint is closed');
    status = await d.status();
    assert.equal(status.configGeneration, 2);
    assert.equal(status.name, 'ops-fixed');
    assert.equal(await held.echo(), true);
  } finally {
    held.close();
    squatter.close();
    await d.kill();
    await peer.close();
  }
});
