// RFC 6062 TCP allocations through a TURN-TCP (and TURN-TLS) listener, with the own client library and a TCP
// echo peer: Connect, ConnectionBind, ConnectionAttempt, raw byte relaying, error codes and counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { TurnClient, type TurnClientError } from '../../src/client/turn-client.ts';
import { bindDataConnection } from '../../src/client/data-connection.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import { DROP, requestKey } from '../../src/stats/listener-stats.ts';
import { PASS, USER, portOf, startGateway, testConfig, type TestGatewayOptions } from '../helpers/gateway.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/process.ts';
import { startTcpEchoPeer } from '../helpers/tcp-echo.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';

const CLUSTERS = [
  { name: 'tcp-plane', type: 'STATIC', protocol: 'TCP', endpoints: ['127.0.0.1/32'] },
  { name: 'udp-plane', type: 'STATIC', endpoints: ['127.0.0.0/8'] },
];

async function tcpGateway(o: TestGatewayOptions & { tls?: boolean; routes?: string[] } = {}): Promise<Gateway> {
  const cert = o.tls ? makeTestCert() : undefined;
  // Port 0 would validate to the default 3478.
  const port = await freeTcpPort();
  return startGateway({
    clusters: CLUSTERS,
    ...o,
    listeners: [{
      name: 'tcp', protocol: o.tls ? 'TURN-TLS' : 'TURN-TCP', address: '127.0.0.1', port,
      routes: o.routes ?? ['tcp-plane', 'udp-plane'], ...(cert ? { cert: cert.cert, key: cert.key } : {}),
    }],
  });
}

function client(gw: Gateway, tls = false): Promise<TurnClient> {
  return TurnClient.connect({
    kind: tls ? 'tls' : 'tcp', host: '127.0.0.1', port: portOf(gw, 'tcp'), username: USER, password: PASS,
    tls: { rejectUnauthorized: false }, timeoutMs: 5000,
  });
}

async function roundTrip(socket: Socket, data: Buffer): Promise<Buffer> {
  socket.resume();
  socket.write(data);
  let got = Buffer.alloc(0);
  while (got.length < data.length) {
    const [chunk] = await once(socket, 'data') as [Buffer];
    got = Buffer.concat([got, chunk]);
  }
  return got;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const tls of [false, true]) {
  test(`${tls ? 'TLS' : 'TCP'}: Connect, ConnectionBind and raw bytes through an echo peer, counted`, async () => {
    const gw = await tcpGateway({ tls });
    const peer = await startTcpEchoPeer();
    const c = await client(gw, tls);
    try {
      const alloc = await c.allocate({ transport: 'tcp' });
      assert.equal(alloc.relayed.length, 1);
      assert.equal(alloc.relayed[0].address, '127.0.0.1');
      const id = await c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port });
      assert.ok(id > 0);
      const cs = gw.registry.cluster('tcp', 'tcp-plane');
      assert.equal(cs.connections, 1, 'the peer data connection is an upstream connection');
      const listener = gw.registry.listener('tcp');
      assert.equal(listener.connections, 1);
      const data = await bindDataConnection(c, id);
      assert.equal(listener.connections, 2, 'the client data connection is a downstream connection');
      const payload = Buffer.alloc(50_000, 7);
      assert.deepEqual(await roundTrip(data, payload), payload);
      assert.equal(cs.txBytes, payload.length);
      assert.equal(cs.rxBytes, payload.length);
      assert.ok(cs.txPackets >= 1 && cs.rxPackets >= 1);
      assert.equal(peer.echoed, payload.length);
      data.destroy();
      await eventually(() => cs.connections === 0, 'the peer data connection to close');
      assert.equal(listener.allocationsActive, 1, 'the allocation outlives its data connections');
      // Connect to the same peer again works once the first connection is gone.
      await c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port });
      assert.equal(cs.connections, 1);
      c.close();
      await eventually(() => listener.allocationsActive === 0 && cs.connections === 0,
        'closing the control connection to delete the allocation and its peer connections');
    } finally {
      c.close();
      await peer.close();
      await gw.stop();
    }
  });
}

test('an incoming peer connection with a permission: ConnectionAttempt, bind, bytes both ways', async () => {
  const gw = await tcpGateway();
  const c = await client(gw);
  try {
    const relay = (await c.allocate({ transport: 'tcp' })).relayed[0];
    await c.createPermission({ family: 4, address: '127.0.0.1', port: 1 });
    assert.equal(gw.registry.cluster('tcp', 'tcp-plane').connections, 0, 'a TCP permission is no upstream connection');
    const attempt = once(c, 'connectionAttempt');
    const peer = connect(relay.port, '127.0.0.1');
    await once(peer, 'connect');
    peer.write('early bytes ');
    const [id, from] = await attempt as [number, { address: string; port: number }];
    assert.equal(from.address, '127.0.0.1');
    assert.equal(from.port, peer.localPort);
    const data = await bindDataConnection(c, id);
    data.resume();
    let got = '';
    data.on('data', (d: Buffer) => (got += d.toString()));
    peer.write('and later ones');
    await eventually(() => got === 'early bytes and later ones', 'bytes sent before the bind to arrive');
    const back = once(peer, 'data');
    data.write('from the client');
    assert.equal(String((await back)[0]), 'from the client');
    peer.destroy();
    await once(data, 'close');
  } finally {
    c.close();
    await gw.stop();
  }
});

test('an incoming peer connection without a permission is closed and counted', async () => {
  const gw = await tcpGateway();
  const c = await client(gw);
  try {
    const relay = (await c.allocate({ transport: 'tcp' })).relayed[0];
    let attempts = 0;
    c.on('connectionAttempt', () => attempts++);
    const peer = connect(relay.port, '127.0.0.1');
    peer.on('error', () => {});
    await once(peer, 'close');
    assert.equal(attempts, 0);
    assert.equal(gw.registry.listener('tcp').drops[DROP.no_permission], 1);
  } finally {
    c.close();
    await gw.stop();
  }
});

test('Connect errors: 403 outside the TCP clusters, 447 when the peer refuses, 446 twice, 437 without allocation', async () => {
  const gw = await tcpGateway();
  const peer = await startTcpEchoPeer();
  const closed = await startTcpEchoPeer();
  await closed.close();
  const c = await client(gw);
  try {
    const code = (e: unknown) => (e as TurnClientError).code;
    await assert.rejects(c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port }), (e) => code(e) === 437);
    await c.allocate({ transport: 'tcp' });
    // 127.0.0.2 is in the UDP cluster only.
    await assert.rejects(c.connectPeer({ family: 4, address: '127.0.0.2', port: peer.port }), (e) => code(e) === 403);
    await assert.rejects(c.connectPeer({ family: 4, address: '127.0.0.1', port: closed.port }), (e) => code(e) === 447);
    await c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port });
    await assert.rejects(c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port }), (e) => code(e) === 446);
    await assert.rejects(c.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: peer.port }),
      (e) => code(e) === 400);
    const requests = gw.registry.listener('tcp').requests;
    assert.equal(requests.get(requestKey('connect', 446)), 1);
    assert.equal(requests.get(requestKey('connect', 200)), 1);
  } finally {
    c.close();
    await peer.close();
    await gw.stop();
  }
});

test('Allocate TCP: 442 without a TCP cluster and on a UDP listener; ConnectionBind: 400 for an unknown id', async () => {
  const gw = await startGateway({
    clusters: CLUSTERS,
    listeners: [
      { name: 'tcp', protocol: 'TURN-TCP', address: '127.0.0.1', port: await freeTcpPort(), routes: ['udp-plane'] },
      { name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: await freeUdpPort(), routes: ['tcp-plane'] },
    ],
  });
  const c = await client(gw);
  const u = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: portOf(gw, 'udp'), username: USER, password: PASS });
  try {
    const code = (e: unknown) => (e as TurnClientError).code;
    await assert.rejects(c.allocate({ transport: 'tcp' }), (e) => code(e) === 442);
    await assert.rejects(u.allocate({ transport: 'tcp' }), (e) => code(e) === 442);
    await c.allocate();
    await assert.rejects(bindDataConnection(c, 12345), (e) => code(e) === 400);
  } finally {
    c.close();
    u.close();
    await gw.stop();
  }
});

test('a peer data connection not bound within 30 s is closed; its allocation ending closes the rest', async () => {
  let now = Date.now();
  const gw = await tcpGateway({ clock: () => now });
  const peer = await startTcpEchoPeer();
  const c = await client(gw);
  try {
    await c.allocate({ transport: 'tcp' });
    await c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port });
    const cs = gw.registry.cluster('tcp', 'tcp-plane');
    assert.equal(cs.connections, 1);
    now += 29_000;
    gw.server.sweep();
    assert.equal(cs.connections, 1);
    now += 2_000;
    gw.server.sweep();
    assert.equal(cs.connections, 0);
    assert.equal(gw.server.tcpConnections.size, 0);
    const id = await c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port });
    const data = await bindDataConnection(c, id);
    now += 60_000;
    gw.server.sweep();
    assert.equal(cs.connections, 1, 'a bound connection has no bind deadline');
    assert.equal(await c.refresh(0), 0);
    assert.equal(cs.connections, 0);
    await once(data, 'close');
  } finally {
    c.close();
    await peer.close();
    await gw.stop();
  }
});

test('a reconfiguration that no longer admits the peer closes its peer data connection at once', async () => {
  const gw = await tcpGateway();
  const peer = await startTcpEchoPeer();
  const c = await client(gw);
  try {
    await c.allocate({ transport: 'tcp' });
    const data = await bindDataConnection(c, await c.connectPeer({ family: 4, address: '127.0.0.1', port: peer.port }));
    const cs = gw.registry.cluster('tcp', 'tcp-plane');
    assert.equal(cs.connections, 1);
    const l = gw.config.listeners[0];
    await gw.reconfigure(testConfig({
      listeners: [{ ...l, cert: undefined, key: undefined }],
      clusters: [{ name: 'tcp-plane', type: 'STATIC', protocol: 'TCP', endpoints: ['10.0.0.0/8'] }, CLUSTERS[1]],
    }));
    assert.equal(cs.connections, 0);
    await once(data, 'close');
    assert.equal(gw.registry.listener('tcp').allocationsActive, 1, 'the allocation itself stays');
  } finally {
    c.close();
    await peer.close();
    await gw.stop();
  }
});
