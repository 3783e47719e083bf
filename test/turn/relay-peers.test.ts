// Loopback integration: what reaches a client through one relayed address when peers come and go. A permission
// admits every port of the peer's IP (RFC 8656 §9), whether or not a channel is bound to that port; a peer
// without one is dropped and counted; a second peer works next to the first. (A relay socket connect()ed to its
// only peer would break the first two: the kernel would filter them before the server sees them.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnClient } from '../../src/client/turn-client.ts';
import type { TransportAddress } from '../../src/stun/address.ts';
import { DROP } from '../../src/stats/listener-stats.ts';
import { PASS, USER, portOf, startGateway } from '../helpers/gateway.ts';

/** A UDP socket on `address` that records what it receives. */
async function peerSocket(address: string): Promise<{ socket: Socket; at: TransportAddress; got: Buffer[] }> {
  const socket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, address, r));
  return { socket, at: { family: 4, address, port: socket.address().port }, got };
}

/** The next 'data' event of the client: payload, the peer it came from, the channel (undefined: Data indication). */
async function nextData(client: TurnClient): Promise<{ data: string; from: TransportAddress; channel?: number }> {
  const [data, from, channel] = await once(client, 'data', { signal: AbortSignal.timeout(2000) }) as [Buffer, TransportAddress, number?];
  return { data: data.toString(), from, channel };
}

test('one relayed address: another port of the permitted peer, a stranger, then a second peer', async () => {
  const gw = await startGateway();
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: portOf(gw), username: USER, password: PASS });
  const a = await peerSocket('127.0.0.1');
  const aOtherPort = await peerSocket('127.0.0.1');
  const b = await peerSocket('127.0.0.2');
  const drops = () => gw.registry.listener('udp').drops[DROP.no_permission];
  try {
    const relayed = (await client.allocate()).relayed[0];
    const toRelay = (s: Socket, text: string) => s.send(text, relayed.port, relayed.address);

    // One peer, over a channel, both ways.
    await client.channelBind(0x4000, a.at);
    client.sendChannel(0x4000, Buffer.from('to a'));
    toRelay(a.socket, 'from a');
    assert.deepEqual(await nextData(client), { data: 'from a', from: a.at, channel: 0x4000 });
    for (let i = 0; i < 100 && a.got.length < 1; i++) await sleep(10);
    assert.deepEqual(a.got.map(String), ['to a']);

    // The same IP from a port no channel is bound to: the permission admits it, as a Data indication.
    toRelay(aOtherPort.socket, 'from a, another port');
    assert.deepEqual(await nextData(client), { data: 'from a, another port', from: aOtherPort.at, channel: undefined });

    // A peer without a permission: dropped and counted, the client gets nothing.
    const before = drops();
    let delivered = 0;
    const count = () => delivered++;
    client.on('data', count);
    toRelay(b.socket, 'from b, not permitted');
    for (let i = 0; i < 100 && drops() === before; i++) await sleep(10);
    assert.equal(drops(), before + 1);
    await sleep(50);
    assert.equal(delivered, 0);
    client.off('data', count);

    // A second peer: Send indication and a channel of its own, and the first peer still relays.
    await client.channelBind(0x4001, b.at);
    client.sendIndication(b.at, Buffer.from('to b'));
    client.sendChannel(0x4001, Buffer.from('to b, channel'));
    toRelay(b.socket, 'from b');
    assert.deepEqual(await nextData(client), { data: 'from b', from: b.at, channel: 0x4001 });
    client.sendChannel(0x4000, Buffer.from('to a again'));
    toRelay(a.socket, 'from a again');
    assert.deepEqual(await nextData(client), { data: 'from a again', from: a.at, channel: 0x4000 });
    for (let i = 0; i < 100 && (b.got.length < 2 || a.got.length < 2); i++) await sleep(10);
    assert.deepEqual(b.got.map(String), ['to b', 'to b, channel']);
    assert.deepEqual(a.got.map(String), ['to a', 'to a again']);
    assert.equal(drops(), before + 1);
  } finally {
    client.close();
    for (const p of [a, aOtherPort, b]) p.socket.close();
    await gw.stop();
  }
});
