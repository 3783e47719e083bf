// Gateway.reconfigure: live changes (certificates included) keep allocations, socket changes restart only their
// listener, a realm change restarts every listener, a peer that is no longer admitted stops at once, and a config
// that cannot be applied is rolled back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as tlsConnect } from 'node:tls';
import { TurnClient } from '../../src/client/turn-client.ts';
import { PASS, USER, startGateway, testConfig } from '../helpers/gateway.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/process.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';

const listener = (name: string, port: number, routes: string[], extra: Record<string, unknown> = {}) =>
  ({ name, protocol: 'TURN-UDP', address: '127.0.0.1', port, routes, ...extra });

async function echoOnce(client: TurnClient, channel: number, payload: string): Promise<string> {
  const got = once(client, 'data');
  client.sendChannel(channel, Buffer.from(payload));
  const [data] = await Promise.race([got, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no echo')), 1500))]);
  return (data as Buffer).toString();
}

test('route and cluster changes are live; a peer no longer admitted stops at once', async () => {
  const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
  const peer = await startEchoPeer();
  const clusters = [{ name: 'loopback', type: 'STATIC', endpoints: ['127.0.0.1/32'] }];
  const gw = await startGateway({ listeners: [listener('a', pa, ['loopback']), listener('b', pb, ['loopback'])], clusters });
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: pa, username: USER, password: PASS });
  try {
    await client.allocate();
    const p = { family: 4 as const, address: '127.0.0.1', port: peer.port };
    await client.channelBind(0x4000, p);
    assert.equal(await echoOnce(client, 0x4000, 'one'), 'one');

    // A new cluster and credentials: live, the allocation survives and relays.
    await gw.reconfigure(testConfig({
      listeners: [listener('a', pa, ['loopback', 'more']), listener('b', pb, ['loopback'])],
      clusters: [...clusters, { name: 'more', type: 'STATIC', endpoints: ['10.0.0.0/8'] }],
    }));
    assert.equal(gw.server.allocations.size, 1);
    assert.equal(await echoOnce(client, 0x4000, 'two'), 'two');
    assert.equal(gw.generation, 2);

    // The cluster no longer admits the peer: data stops at once, counted as forbidden_peer.
    const drops = gw.registry.listener('a').drops[3];
    await gw.reconfigure(testConfig({
      listeners: [listener('a', pa, ['more']), listener('b', pb, ['loopback'])],
      clusters: [...clusters, { name: 'more', type: 'STATIC', endpoints: ['10.0.0.0/8'] }],
    }));
    await assert.rejects(echoOnce(client, 0x4000, 'three'), /no echo/);
    assert.ok(gw.registry.listener('a').drops[3] > drops);
    assert.equal(gw.server.allocations.size, 1, 'the allocation itself is kept');
    // The series of the pair that is no longer routed is gone.
    assert.equal(gw.registry.clusters.has('a\u0000loopback'), false);
    assert.equal(gw.registry.clusters.has('b\u0000loopback'), true);
  } finally {
    client.close();
    await peer.close();
    await gw.stop();
  }
});

test('a port change restarts only that listener; a bad config is rolled back', async () => {
  const [pa, pb, pc] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  const gw = await startGateway({ listeners: [listener('a', pa, ['loopback']), listener('b', pb, ['loopback'])] });
  const ca = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: pa, username: USER, password: PASS });
  const cb = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: pb, username: USER, password: PASS });
  const blocker = createSocket('udp4');
  try {
    await ca.allocate();
    await cb.allocate();
    await gw.reconfigure(testConfig({ listeners: [listener('a', pa, ['loopback']), listener('b', pc, ['loopback'])] }));
    assert.equal(gw.listeners.get('b')!.address.port, pc);
    assert.deepEqual([...gw.server.allocations].map((a) => a.listener.name), ['a']);

    // A port that is taken cannot be applied: the gateway keeps (restores) the running config.
    const taken = await freeUdpPort();
    await new Promise<void>((r) => blocker.bind(taken, '127.0.0.1', r));
    await assert.rejects(gw.reconfigure(testConfig({
      listeners: [listener('a', taken, ['loopback']), listener('b', pc, ['loopback'])],
    })), /cannot listen/);
    assert.equal(gw.listeners.get('a')!.address.port, pa);
    assert.equal(gw.listeners.get('b')!.address.port, pc);
    assert.equal(gw.config.listeners[0].port, pa);
    const again = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: pa, username: USER, password: PASS });
    await again.allocate();
    again.close();
  } finally {
    blocker.close();
    ca.close();
    cb.close();
    await gw.stop();
  }
});

test('a realm change restarts every listener (keys depend on the realm)', async () => {
  const pa = await freeUdpPort();
  const gw = await startGateway({ listeners: [listener('a', pa, ['loopback'])] });
  const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: pa, username: USER, password: PASS });
  try {
    await c.allocate();
    await gw.reconfigure(testConfig({
      listeners: [listener('a', pa, ['loopback'])],
      auth: { type: 'static', realm: 'other.example', credentials: { username: USER, password: PASS } },
    }));
    assert.equal(gw.server.allocations.size, 0);
    const c2 = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: pa, username: USER, password: PASS });
    const r = await c2.allocate();
    assert.equal(r.relayed.length, 1);
    c2.close();
  } finally {
    c.close();
    await gw.stop();
  }
});

test('TLS and DTLS certificate rotation is live; a realm change restarts them too', async () => {
  const [a, b] = [makeTestCert(), makeTestCert()];
  const [tlsPort, dtlsPort] = [await freeTcpPort(), await freeUdpPort()];
  const listeners = (pair: { cert: string; key: string }) => [
    { name: 'tls', protocol: 'TURN-TLS', address: '127.0.0.1', port: tlsPort, routes: ['loopback'], cert: pair.cert, key: pair.key },
    { name: 'dtls', protocol: 'TURN-DTLS', address: '127.0.0.1', port: dtlsPort, routes: ['loopback'], cert: pair.cert, key: pair.key },
  ];
  const gw = await startGateway({ listeners: listeners(a) });
  const c = await TurnClient.connect({
    kind: 'tls', host: '127.0.0.1', port: tlsPort, username: USER, password: PASS, tls: { rejectUnauthorized: false },
  });
  try {
    await c.allocate();
    const before = [gw.listeners.get('tls'), gw.listeners.get('dtls')];
    const plan = await gw.reconfigure(testConfig({ listeners: listeners(b) }));
    assert.deepEqual(plan.listeners.map((l) => l.action), ['reconcile', 'reconcile']);
    assert.deepEqual([gw.listeners.get('tls'), gw.listeners.get('dtls')], before, 'no listener restarted');
    assert.equal(gw.server.allocations.size, 1);
    assert.equal(await c.refresh(600), 600, 'the allocation goes on over the old connection');
    assert.equal(await servedFingerprint(tlsPort), new X509Certificate(b.cert).fingerprint256, 'new handshakes get the new certificate');

    await gw.reconfigure(testConfig({
      listeners: listeners(b), auth: { type: 'static', realm: 'other.example', credentials: { username: USER, password: PASS } },
    }));
    assert.notEqual(gw.listeners.get('tls'), before[0]);
    assert.notEqual(gw.listeners.get('dtls'), before[1]);
    assert.equal(gw.server.allocations.size, 0);
  } finally {
    c.close();
    await gw.stop();
  }
});

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
  });
}
