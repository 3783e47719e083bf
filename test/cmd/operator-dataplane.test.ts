// stunnerd as stunner-gateway-operator's default Dataplane starts it: `stunnerd -w --udp-thread-num=16`, no -c, and
// the operator's environment (STUNNER_CONFIG_ORIGIN, STUNNER_NAME, STUNNER_NAMESPACE, STUNNER_NODENAME,
// STUNNER_ADDR), against a fake CDS server. One variable is added to keep the test on loopback: the bootstrap
// health endpoint (upstream's is http://:8086, all interfaces). Then upstream's graceful shutdown (accept mode),
// the one-shot load without -w, -d and -c k8s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { TurnClient } from '../../src/client/turn-client.ts';
import { FakeCdsServer } from '../helpers/fake-cds.ts';
import { freeTcpPort, freeUdpPort, stunnerd, type Proc } from '../helpers/process.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { allocateCode } from '../ops/support/allocate.ts';
import { RelayProbe } from '../ops/support/relay-probe.ts';

const NS = 'stunner';
const GW = 'udp-gateway';
const ID = `${NS}/${GW}`;
const OTEL_UNSET = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]));

/** What the operator renders for a Gateway with one TURN-UDP listener (listener address $STUNNER_ADDR). */
function rendered(turn: number, health: number, password = 'pass-1'): Record<string, unknown> {
  return {
    version: 'v1',
    admin: { name: ID, loglevel: 'all:INFO', healthcheck_endpoint: `http://127.0.0.1:${health}` },
    auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user-1', password } },
    listeners: [{ name: `${ID}/udp-listener`, protocol: 'TURN-UDP', address: '$STUNNER_ADDR', port: turn,
      routes: [`${NS}/media-plane`] }],
    clusters: [{ name: `${NS}/media-plane`, type: 'STATIC', protocol: 'UDP', endpoints: ['127.0.0.1/32'] }],
  };
}

function operatorEnv(cds: FakeCdsServer, bootstrapHealth: number): NodeJS.ProcessEnv {
  return {
    ...OTEL_UNSET,
    STUNNER_ADDR: '127.0.0.1',
    STUNNER_NAME: GW,
    STUNNER_NAMESPACE: NS,
    STUNNER_NODENAME: 'node-1',
    STUNNER_CONFIG_ORIGIN: cds.url,
    STUNNERD_BOOTSTRAP_HEALTHCHECK_ENDPOINT: `http://127.0.0.1:${bootstrapHealth}`,
  };
}

async function http(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

async function until(what: string, check: () => Promise<boolean> | boolean, p: Proc, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("the operator's argv and environment: bootstrap, config over CDS, relaying, upstream's drain on SIGTERM",
  { timeout: 120_000 }, async () => {
    const cds = new FakeCdsServer();
    await cds.start();
    const bootstrapHealth = await freeTcpPort();
    const health = await freeTcpPort();
    const turn = await freeUdpPort();
    const peer = await startEchoPeer();
    const p = stunnerd(['-w', '--udp-thread-num=16'], operatorEnv(cds, bootstrapHealth));
    const probes: RelayProbe[] = [];
    try {
      // Bootstrap: zero-config, health on the bootstrap endpoint, not ready; the watch names us and our node.
      const boot = async () => JSON.parse((await http(`http://127.0.0.1:${bootstrapHealth}/status`)).body) as
        { status: string; admin: { name: string } };
      await until('the bootstrap config running', async () => (await boot()).admin.name === ID, p);
      assert.equal((await boot()).status, 'NOT-READY');
      assert.equal((await http(`http://127.0.0.1:${bootstrapHealth}/ready`)).status, 503);
      await cds.waitFor('the watch', () => cds.clients === 1);
      assert.equal(cds.watches[0].url.pathname + cds.watches[0].url.search,
        `/api/v1/configs/${NS}/${GW}?node=node-1&watch=true`);
      assert.match(p.output(), /--udp-thread-num 16: running \d+ dataplane worker\(s\), one per CPU/);

      // The config arrives: $STUNNER_ADDR expands to the pod IP, the listener runs, /ready turns 200.
      cds.upsert(ID, rendered(turn, health));
      await until('ready', async () => (await http(`http://127.0.0.1:${health}/ready`)).status === 200, p);
      probes.push(await RelayProbe.open({ port: turn, peerPort: peer.port, username: 'user-1', password: 'pass-1' }));
      assert.equal(await probes[0].echo(), true);
      const status = JSON.parse((await http(`http://127.0.0.1:${health}/status`)).body) as
        { listeners: Array<{ address: string }>; configSource: unknown };
      assert.equal(status.listeners[0].address, '127.0.0.1');
      assert.deepEqual(status.configSource, { origin: `${cds.url}/`, watch: true, connected: true });

      // SIGTERM, upstream's way: /ready 503, a new allocation is still accepted, relaying goes on; no more updates.
      const exit = once(p.child, 'exit');
      p.child.kill('SIGTERM');
      await until('/ready 503', async () => (await http(`http://127.0.0.1:${health}/ready`)).status === 503, p);
      probes.push(await RelayProbe.open({ port: turn, peerPort: peer.port, username: 'user-1', password: 'pass-1' }));
      assert.equal(await probes[0].echo(), true);
      assert.equal(await probes[1].echo(), true);
      await cds.waitFor('the watch closed', () => cds.clients === 0);
      assert.match(p.output(), /draining allocations=1 timeoutSeconds=3600 mode=accept/);
      // The process exits when the last allocation ends.
      assert.equal(await probes[0].client.refresh(0), 0);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(p.child.exitCode, null, 'one allocation left: still draining');
      assert.equal(await probes[1].client.refresh(0), 0);
      const [code] = await exit;
      assert.equal(code, 0, p.output());
    } finally {
      for (const probe of probes) probe.close();
      await p.stop('SIGKILL');
      await cds.stop();
      await peer.close();
    }
  });

test('--force-ready-status: /ready stays 200 while draining; SIGINT drains too in accept mode', { timeout: 60_000 }, async () => {
  const cds = new FakeCdsServer();
  await cds.start();
  const health = await freeTcpPort();
  const turn = await freeUdpPort();
  cds.configs.set(ID, rendered(turn, health));
  const p = stunnerd(['-w', '-u', '1', '--force-ready-status'], operatorEnv(cds, await freeTcpPort()));
  try {
    await until('ready', async () => (await http(`http://127.0.0.1:${health}/ready`)).status === 200, p);
    assert.equal(await allocateCode({ kind: 'udp', port: turn, username: 'user-1', password: 'pass-1' }), 200);
    const held = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: turn, username: 'user-1', password: 'pass-1', rtoMs: 250 });
    await held.allocate();
    p.child.kill('SIGINT');
    await until('TERMINATING', async () => (JSON.parse((await http(`http://127.0.0.1:${health}/status`)).body) as
      { status: string }).status === 'TERMINATING', p);
    assert.equal((await http(`http://127.0.0.1:${health}/ready`)).status, 200, 'forced ready');
    assert.equal(p.child.exitCode, null, 'SIGINT drains in accept mode: allocations are open');
    held.close();
  } finally {
    await p.stop('SIGKILL');
    await cds.stop();
  }
});

test('without -w: one GET; a missing config exits 1 with the server\'s message, a present one runs', { timeout: 60_000 }, async () => {
  const cds = new FakeCdsServer();
  await cds.start();
  const health = await freeTcpPort();
  const turn = await freeUdpPort();
  try {
    const missing = stunnerd(['-c', `127.0.0.1:${cds.port}`, '-i', ID], OTEL_UNSET);
    const [code] = await once(missing.child, 'exit');
    assert.equal(code, 1);
    assert.match(missing.output(), /HTTP 404: Config not found for ID stunner\/udp-gateway/);

    cds.configs.set(ID, rendered(turn, health));
    const p = stunnerd(['-c', cds.url], { ...OTEL_UNSET, STUNNER_NAME: GW, STUNNER_NAMESPACE: NS, STUNNER_NODENAME: 'n2',
      STUNNER_ADDR: '127.0.0.1' });
    try {
      await until('ready', async () => (await http(`http://127.0.0.1:${health}/ready`)).status === 200, p);
      assert.equal(cds.gets.at(-1)?.search, '?node=n2');
      assert.equal(await allocateCode({ kind: 'udp', port: turn, username: 'user-1', password: 'pass-1' }), 200);
      assert.equal(cds.watches.length, 0, 'no watch without -w');
    } finally {
      await p.stop('SIGKILL');
    }
  } finally {
    await cds.stop();
  }
});

test('-d binds nothing; -c k8s without an address and a malformed id fail clearly', { timeout: 60_000 }, async () => {
  const cds = new FakeCdsServer();
  await cds.start();
  const health = await freeTcpPort();
  const turn = await freeUdpPort();
  cds.configs.set(ID, rendered(turn, health));
  try {
    const dry = stunnerd(['-d', '-c', cds.url, '-i', ID], OTEL_UNSET);
    try {
      await dry.waitFor('dry run: config valid', 20_000);
      await assert.rejects(fetch(`http://127.0.0.1:${health}/ready`), 'no health server in a dry run');
      assert.equal(await dry.stop('SIGTERM'), 0);
    } finally {
      await dry.stop('SIGKILL');
    }
    const k8s = stunnerd(['-w', '-c', 'k8s'], OTEL_UNSET);
    const [k8sCode] = await once(k8s.child, 'exit');
    assert.equal(k8sCode, 1);
    assert.match(k8s.output(), /-c k8s: discovering the CDS server through the Kubernetes API is not available here; give its address with --cds-server-address/);
    const badId = stunnerd(['-w', '-c', cds.url, '-i', 'no-slash'], OTEL_UNSET);
    const [idCode] = await once(badId.child, 'exit');
    assert.equal(idCode, 1);
    assert.match(badId.output(), /invalid id "no-slash": want <namespace>\/<name>/);
  } finally {
    await cds.stop();
  }
});
