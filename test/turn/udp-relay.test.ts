// Loopback integration: the own TURN client through a TURN-UDP listener to a UDP echo peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { TurnClientError } from '../../src/client/turn-client.ts';
import { TurnClient } from '../../src/client/turn-client.ts';
import { PASS, USER, portOf, startGateway } from '../helpers/gateway.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { freeUdpPort } from '../helpers/process.ts';

test('allocate, permission, channel and Send/Data round trips through an echo peer', async () => {
  const gw = await startGateway();
  const peer = await startEchoPeer();
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: portOf(gw), username: USER, password: PASS });
  try {
    const alloc = await client.allocate();
    assert.equal(alloc.relayed.length, 1);
    assert.equal(alloc.relayed[0].address, '127.0.0.1');
    assert.equal(alloc.lifetime, 600);
    const p = { family: 4 as const, address: '127.0.0.1', port: peer.port };
    await client.createPermission(p);
    client.sendIndication(p, Buffer.from('hello'));
    const [data, from, ch] = await once(client, 'data');
    assert.equal(data.toString(), 'hello');
    assert.equal(from.port, peer.port);
    assert.equal(ch, undefined);
    await client.channelBind(0x4000, p);
    client.sendChannel(0x4000, Buffer.from('over channel'));
    const [data2, , ch2] = await once(client, 'data');
    assert.equal(data2.toString(), 'over channel');
    assert.equal(ch2, 0x4000);
    const stats = gw.registry.listener('udp');
    assert.equal(stats.allocationsActive, 1);
    assert.equal(stats.connections, 1);
    const cs = gw.registry.cluster('udp', 'loopback');
    assert.equal(cs.txPackets, 2);
    assert.equal(cs.rxPackets, 2);
    assert.equal(cs.txBytes, 5 + 12);
    assert.equal(cs.connections, 1);
    assert.equal(await client.refresh(0), 0);
    assert.equal(stats.allocationsActive, 0);
    assert.equal(cs.connections, 0);
  } finally {
    client.close();
    await peer.close();
    await gw.stop();
  }
});

test('a peer outside every cluster is refused with 403', async () => {
  const gw = await startGateway({ clusters: [{ name: 'loopback', type: 'STATIC', endpoints: ['127.0.0.2/32'] }] });
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: portOf(gw), username: USER, password: PASS });
  try {
    await client.allocate();
    await assert.rejects(client.createPermission({ family: 4, address: '127.0.0.1', port: 9 }),
      (e: TurnClientError) => e.code === 403);
    await assert.rejects(client.channelBind(0x4001, { family: 4, address: '10.1.1.1', port: 9 }),
      (e: TurnClientError) => e.code === 403);
    await client.createPermission({ family: 4, address: '127.0.0.2', port: 9 });
  } finally {
    client.close();
    await gw.stop();
  }
});

test('wrong password is answered 401', async () => {
  const gw = await startGateway();
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: portOf(gw), username: USER, password: 'nope' });
  try {
    await assert.rejects(client.allocate(), (e: TurnClientError) => e.code === 401);
    assert.equal(gw.registry.listener('udp').requests.size > 0, true);
  } finally {
    client.close();
    await gw.stop();
  }
});

test('an Allocate that fails (508, no relay port) is not counted as a connection', async () => {
  const relayPort = await freeUdpPort();
  const port = await freeUdpPort();
  const gw = await startGateway({ listeners: [{ name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port,
    min_relay_port: relayPort, max_relay_port: relayPort, routes: ['loopback'] }] });
  const opts = { kind: 'udp' as const, host: '127.0.0.1', port, username: USER, password: PASS };
  const a = await TurnClient.connect(opts);
  const b = await TurnClient.connect(opts);
  try {
    await a.allocate();
    await assert.rejects(b.allocate(), (e: TurnClientError) => e.code === 508);
    const stats = gw.registry.listener('udp');
    assert.equal(stats.connectionsTotal, 1);
    assert.equal(stats.connections, 1);
  } finally {
    a.close();
    b.close();
    await gw.stop();
  }
});
