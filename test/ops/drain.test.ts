// Graceful shutdown as Kubernetes drives it: SIGTERM turns /ready 503 (the pod leaves the Service) while
// /live stays 200, new allocations are refused with 486, the allocations in progress keep relaying without
// loss, and the process exits 0 when they end, when --drain-timeout passes, or at a second SIGTERM.
import { allocateCode } from './support/allocate.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freeUdpPort } from '../helpers/process.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { turnutilsPeer, uclient } from '../helpers/uclient.ts';
import {
  baseConfig, freePorts, PASS, sleep, startDaemon, tempDir, USER, waitUntil, writeConfig, type Daemon, type Ports,
} from './support/daemon.ts';
import { RelayProbe } from './support/relay-probe.ts';

async function start(name: string, args: string[] = []): Promise<{ d: Daemon; ports: Ports }> {
  const ports = await freePorts();
  const file = join(tempDir(name), 'config.yaml');
  writeConfig(file, baseConfig(ports, 'all:WARN,stunnerd:INFO'));
  const d = await startDaemon({ args: ['-c', file, ...args], healthPort: ports.health, metricsPort: ports.metrics });
  return { d, ports };
}

async function httpStatus(url: string): Promise<number> {
  return (await fetch(url)).status;
}

test('SIGTERM drains: not ready, still live, new Allocate 486, relaying goes on; exit 0 when the last allocation ends', async () => {
  const peer = await startEchoPeer();
  const { d, ports } = await start('drain');
  const probe = await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
  try {
    const stream = probe.stream(20);
    await sleep(300);
    d.signal('SIGTERM');
    await waitUntil('/ready 503', async () => (await httpStatus(`${d.healthUrl}/ready`)) === 503, 10_000, d);
    assert.equal(await (await fetch(`${d.healthUrl}/ready`)).text(), '{"status":503,"message":"stunnerd not ready"}\n');
    assert.equal(await httpStatus(`${d.healthUrl}/live`), 200);
    assert.equal((await d.status()).status, 'TERMINATING');

    assert.equal(await allocateCode({ kind: 'udp', port: ports.turn, username: USER, password: PASS }), 486);
    assert.equal(await d.value('stunner_requests_total', { name: 'udp', method: 'allocate', code: '486' }), 1);
    await sleep(1000);
    const { sent, echoed } = await stream.stop();
    assert.ok(sent > 30, `sent ${sent}`);
    assert.equal(echoed, sent, 'every message sent while draining came back');
    assert.equal(d.alive(), true, 'an allocation is still open: the drain waits');

    // RFC 8656 §8.2: a Refresh with LIFETIME 0 deletes the allocation; the last one gone, the process exits.
    const t0 = performance.now();
    assert.equal(await probe.client.refresh(0), 0);
    const exit = await d.exit;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(exit.at - t0 < 5000, `exited ${Math.round(exit.at - t0)} ms after the last allocation ended`);
    assert.match(d.output(), /draining allocations=1 timeoutSeconds=3600 mode=refuse[\s\S]*drained remaining=0/);
  } finally {
    probe.close();
    await d.kill();
    await peer.close();
  }
});

test('-u 2: the drain waits for the allocations of every worker; exit 0 once the last of them ends', async () => {
  const peer = await startEchoPeer();
  const { d, ports } = await start('drain-workers', ['-u', '2']);
  const probes: RelayProbe[] = [];
  try {
    // Allocations until both workers hold some (the kernel spreads client 5-tuples over them).
    const held = async () => ((await d.status()).workers ?? []).filter((w) => w.allocations > 0).length;
    while (probes.length < 40 && (probes.length < 4 || await held() < 2)) {
      probes.push(await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS }));
    }
    const workers = (await d.status()).workers!;
    assert.ok(workers.every((w) => w.allocations > 0), `allocations per worker: ${JSON.stringify(workers)}`);
    const streams = probes.map((p) => p.stream(20));
    await sleep(300);
    d.signal('SIGTERM');
    await waitUntil('/ready 503', async () => (await httpStatus(`${d.healthUrl}/ready`)) === 503, 10_000, d);
    assert.equal(await allocateCode({ kind: 'udp', port: ports.turn, username: USER, password: PASS }), 486);
    await sleep(500);
    for (const s of streams) {
      const { sent, echoed } = await s.stop();
      assert.equal(echoed, sent, 'relaying goes on in both workers while draining');
    }
    // All but one allocation end: the process waits, whichever worker holds the last.
    for (const p of probes.slice(1)) assert.equal(await p.client.refresh(0), 0);
    await sleep(1000);
    assert.equal(d.alive(), true, 'one allocation is still open: the drain waits');
    assert.equal((await d.status()).allocations, 1);
    const t0 = performance.now();
    assert.equal(await probes[0].client.refresh(0), 0);
    const exit = await d.exit;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(exit.at - t0 < 5000, `exited ${Math.round(exit.at - t0)} ms after the last allocation ended`);
  } finally {
    for (const p of probes) p.close();
    await d.kill();
    await peer.close();
  }
});

test('a turnutils_uclient run in progress at SIGTERM finishes without loss; a second SIGTERM exits at once', async () => {
  const peerPort = await freeUdpPort();
  const peer = await turnutilsPeer('127.0.0.1', peerPort);
  const { d, ports } = await start('drain-uclient');
  try {
    const sessions = 5;
    const messages = 150;
    const run = uclient({ port: ports.turn, user: USER, password: PASS, sessions, messages, intervalMs: 20,
      peer: { address: '127.0.0.1', port: peerPort }, timeoutS: 60 });
    await waitUntil('relayed packets', async () =>
      ((await d.value('stunner_cluster_packets_total', { name: 'udp', direction: 'tx' })) ?? 0) > 50, 30_000, d);
    d.signal('SIGTERM');
    await waitUntil('/ready 503', async () => (await httpStatus(`${d.healthUrl}/ready`)) === 503, 10_000, d);
    assert.equal(await allocateCode({ kind: 'udp', port: ports.turn, username: USER, password: PASS }), 486);

    const r = await run;
    assert.deepEqual(r.errors, [], r.output.slice(-2000));
    assert.equal(r.sent, sessions * messages, r.output.slice(-2000));
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);

    // uclient leaves allocations behind (it deletes only some): the drain would wait up to an hour.
    const left = (await d.status()).allocations;
    assert.ok(left > 0, 'uclient left allocations open');
    assert.equal(d.alive(), true);
    const t0 = performance.now();
    d.signal('SIGTERM');
    const exit = await d.exit;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(exit.at - t0 < 2000, `second SIGTERM: exited after ${Math.round(exit.at - t0)} ms`);
    assert.match(d.output(), /second SIGTERM: exiting now/);
  } finally {
    await d.kill();
    await peer.stop();
  }
});

test('--drain-timeout 2 exits 0 after about 2 s with an allocation still open', async () => {
  const peer = await startEchoPeer();
  const { d, ports } = await start('drain-timeout', ['--drain-timeout', '2']);
  const probe = await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
  try {
    const t0 = performance.now();
    d.signal('SIGTERM');
    await sleep(1000);
    assert.equal(await probe.echo(), true, 'relaying during the drain');
    const exit = await d.exit;
    const took = exit.at - t0;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(took >= 1800 && took < 7000, `exited after ${Math.round(took)} ms`);
    assert.match(d.output(), /draining allocations=1 timeoutSeconds=2 mode=refuse[\s\S]*drained remaining=1/);
  } finally {
    probe.close();
    await d.kill();
    await peer.close();
  }
});

test('SIGINT exits at once, allocations or not', async () => {
  const peer = await startEchoPeer();
  const { d, ports } = await start('sigint');
  const probe = await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
  try {
    const t0 = performance.now();
    d.signal('SIGINT');
    const exit = await d.exit;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.ok(exit.at - t0 < 3000, `exited after ${Math.round(exit.at - t0)} ms`);
  } finally {
    probe.close();
    await d.kill();
    await peer.close();
  }
});
