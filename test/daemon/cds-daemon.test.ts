// The daemon fed by a config discovery server (a fake of upstream's, test/helpers/fake-cds.ts), in process:
// the bootstrap zero-config (not ready), the first config (listener bound, ready), an invalid config (kept the
// running one, counted as a failed reload), credentials rotated and a listener added, a delete (ignored, as
// upstream -w), the node-address placeholder, a server restart, and an unchanged config on reconnect (no reload).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeroConfig } from '../../src/config/cds/zero-config.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { CdsConfigSource } from '../../src/daemon/cds-source.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { FakeCdsServer } from '../helpers/fake-cds.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/process.ts';
import { allocateCode } from '../ops/support/allocate.ts';

const ID = 'stunner/udp-gateway';
const NS = 'stunner';
const NAME = 'udp-gateway';

interface Ports { health: number; turn: number; turn2: number }

function gatewayConfig(p: Ports, opts: { password?: string; second?: boolean; address?: string } = {}): Record<string, unknown> {
  const listener = (name: string, port: number) => ({ name: `${ID}/${name}`, protocol: 'TURN-UDP',
    address: opts.address ?? '127.0.0.1', port, routes: [`${NS}/media-plane`] });
  return {
    version: 'v1',
    admin: { name: ID, loglevel: 'all:WARN', healthcheck_endpoint: `http://127.0.0.1:${p.health}` },
    auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: opts.password ?? 'pass-1' } },
    listeners: [listener('udp', p.turn), ...(opts.second === true ? [listener('udp2', p.turn2)] : [])],
    clusters: [{ name: `${NS}/media-plane`, type: 'STATIC', endpoints: ['127.0.0.1/32'] }],
  };
}

async function readiness(port: number): Promise<{ ready: number; status: string; name: string }> {
  const ready = (await fetch(`http://127.0.0.1:${port}/ready`)).status;
  const doc = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { status: string; admin: { name: string } };
  return { ready, status: doc.status, name: doc.admin.name };
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('daemon + CDS: zero-config, first config, bad config, update, delete, placeholder, restart', { timeout: 90_000 },
  async () => {
    const server = new FakeCdsServer();
    await server.start();
    const bootstrapHealth = await freeTcpPort();
    const p: Ports = { health: await freeTcpPort(), turn: await freeUdpPort(), turn2: await freeUdpPort() };
    const zero = zeroConfig(ID);
    const daemon = new Daemon({
      builtin: validateConfig({ ...zero, admin: { name: ID, healthcheck_endpoint: `http://127.0.0.1:${bootstrapHealth}` } }),
      logFormat: 'text', logLevel: 'all:ERROR', workers: 1, bootstrap: true,
    });
    const env = { STUNNER_ADDR: '127.0.0.1' };
    const source = new CdsConfigSource({ daemon, origin: new URL(server.url), target: { namespace: NS, name: NAME, node: 'n1' },
      env, logger: daemon.logs.get('cds-client'), watch: { backoff: { initialMs: 50, jitter: 0 } } });
    const reloads = () => ({ ok: daemon.registry.gateway.configReloadsSuccess, failed: daemon.registry.gateway.configReloadsFailure });
    try {
      await daemon.start();
      source.start();
      // Bootstrap: the zero-config for our id, health up, not ready.
      assert.deepEqual(await readiness(bootstrapHealth), { ready: 503, status: 'NOT-READY', name: ID });
      await server.waitFor('the watch', () => server.clients === 1);
      assert.equal(server.watches[0].url.searchParams.get('node'), 'n1');

      // The first config: the listener is bound, health moves to its endpoint, ready.
      server.upsert(ID, gatewayConfig(p));
      await until('ready on the config health endpoint', async () => (await readiness(p.health)).ready === 200);
      assert.equal(await allocateCode({ kind: 'udp', port: p.turn, username: 'user1', password: 'pass-1' }), 200);
      assert.deepEqual(reloads(), { ok: 1, failed: 0 });
      const generation = daemon.dataplane!.generation;

      // An invalid config: the running one is kept, the failure counted.
      server.upsert(ID, { ...gatewayConfig(p), listeners: [{ name: 'bad', port: 70000 }] });
      await until('the failure counted', () => reloads().failed === 1);
      assert.equal(daemon.dataplane!.generation, generation);
      assert.equal(await allocateCode({ kind: 'udp', port: p.turn, username: 'user1', password: 'pass-1' }), 200);

      // An update: password rotated, a listener added.
      server.upsert(ID, gatewayConfig(p, { password: 'pass-2', second: true }));
      await until('the update applied', () => reloads().ok === 2);
      assert.equal(await allocateCode({ kind: 'udp', port: p.turn, username: 'user1', password: 'pass-1' }), 401);
      assert.equal(await allocateCode({ kind: 'udp', port: p.turn2, username: 'user1', password: 'pass-2' }), 200);

      // A delete: ignored (upstream -w does), the listeners stay.
      server.remove(ID);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(reloads(), { ok: 2, failed: 1 });
      assert.equal(daemon.config!.listeners.length, 2);
      assert.equal((await readiness(p.health)).ready, 200);

      // The CDS server restarts with the node-address placeholder left in: $STUNNER_ADDR (the pod IP) is used.
      const port = server.port;
      await server.stop();
      await until('disconnected', () => !source.connected);
      server.configs.set(ID, gatewayConfig(p, { password: 'pass-3', second: true, address: '__node_address_placeholder' }));
      await server.start(port);
      await until('the config after the restart', () => reloads().ok === 3);
      assert.deepEqual(daemon.config!.listeners.map((l) => l.address), ['127.0.0.1', '127.0.0.1']);
      assert.equal(await allocateCode({ kind: 'udp', port: p.turn, username: 'user1', password: 'pass-3' }), 200);

      // A reconnect resends the same config: no reload.
      server.drop();
      await until('reconnected', () => server.watches.length === 3 && source.connected);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(reloads(), { ok: 3, failed: 1 });
      const status = (await (await fetch(`http://127.0.0.1:${p.health}/status`)).json()) as { configSource: unknown };
      assert.deepEqual(status.configSource, { origin: `${server.url}/`, watch: true, connected: true });
    } finally {
      source.close();
      await daemon.stop();
      await server.stop();
    }
  });

test('daemon: the bootstrap config is not ready; a config without listeners makes it ready (as upstream)', async () => {
  const health = await freeTcpPort();
  const daemon = new Daemon({
    builtin: validateConfig({ ...zeroConfig(ID), admin: { name: ID, healthcheck_endpoint: `http://127.0.0.1:${health}` } }),
    logFormat: 'text', logLevel: 'all:ERROR', workers: 1, bootstrap: true,
  });
  try {
    await daemon.start();
    assert.equal(daemon.ready(), false);
    await daemon.update('test', () => ({ config: validateConfig({ version: 'v1', admin: { name: ID,
      healthcheck_endpoint: `http://127.0.0.1:${health}` }, auth: { type: 'none' } }), warnings: [] }));
    assert.equal(daemon.ready(), true);
  } finally {
    await daemon.stop();
  }
});
