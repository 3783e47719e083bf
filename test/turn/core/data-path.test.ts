// The data path on the pure core (RFC 8656 §10, §12): ChannelData and Send indications to peers, peer
// datagrams back as ChannelData or Data indications, exact cluster counters, the drops, and a reconfiguration
// that stops admitting a peer (readmitAll).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, MessageClass, Method } from '../../../src/stun/constants.ts';
import { XorPeerAddress } from '../../../src/stun/attributes/address.ts';
import { AdditionalAddressFamily, Icmp, Lifetime } from '../../../src/stun/attributes/numeric.ts';
import { encodeChannelData } from '../../../src/stun/channel-data.ts';
import { StunWriter } from '../../../src/stun/writer.ts';
import { DROP, SEND_DROP } from '../../../src/stats/listener-stats.ts';
import { MAX_PEER_LINKS } from '../../../src/turn/allocation.ts';
import { CHANNEL_COOLDOWN_S, CHANNEL_LIFETIME_S, PERMISSION_LIFETIME_S } from '../../../src/turn/timers.ts';
import { Core, MEDIA, codeOf, peerAddress, type CoreOptions } from './harness.ts';

const PEER = '10.0.0.1';
/** ICMPv4 destination unreachable, port unreachable. */
const PORT_UNREACHABLE = { type: 3, code: 3, data: 0 };

async function bound(opts?: CoreOptions) {
  const core = new Core(opts);
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.channelBind(0x4000, PEER, 7000)), 200);
  return { core, client, relay: core.relays.sockets[0] };
}

function payload(i: number, length: number): Buffer {
  return Buffer.alloc(length, i & 0xff);
}

test('ChannelData reaches the bound peer; cluster tx counts exactly N packets and N*L bytes', async () => {
  const { core, client, relay } = await bound();
  const N = 50;
  const L = 100;
  for (let i = 0; i < N; i++) await client.sendChannel(0x4000, payload(i, L));
  assert.equal(relay.sent.length, N);
  relay.sent.forEach((d, i) => {
    assert.deepEqual(d.data, payload(i, L));
    assert.equal(d.address, PEER);
    assert.equal(d.port, 7000);
  });
  const cs = core.clusterStats();
  assert.equal(cs.txPackets, N);
  assert.equal(cs.txBytes, N * L);
  assert.equal(cs.rxPackets, 0);
  assert.deepEqual([...core.stats.drops], [0, 0, 0, 0, 0, 0]);
});

test('a relay socket whose send queue is full: the datagram is dropped and counted as a send drop, not as tx', async () => {
  const { core, client, relay } = await bound();
  await client.sendChannel(0x4000, payload(1, 10));
  relay.full = true;
  for (let i = 0; i < 3; i++) await client.sendChannel(0x4000, payload(2, 10));
  relay.full = false;
  await client.sendChannel(0x4000, payload(3, 10));
  assert.deepEqual(relay.sent.map((d) => d.data[0]), [1, 3]);
  assert.equal(core.stats.sendDrops[SEND_DROP.peer], 3);
  assert.equal(core.stats.sendDrops[SEND_DROP.client], 0);
  assert.equal(core.clusterStats().txPackets, 2);
  assert.equal(core.clusterStats().txBytes, 20);
  assert.deepEqual([...core.stats.drops], [0, 0, 0, 0, 0, 0]);
});

test('ChannelData: padding is not relayed; a length beyond the datagram is malformed; an unbound channel is dropped',
  async () => {
    const { core, client, relay } = await bound();
    const padded = Buffer.concat([encodeChannelData(0x4000, Buffer.from('abc')), Buffer.from([0])]);
    await client.send(padded);
    assert.deepEqual(relay.sent.map((d) => d.data.toString()), ['abc']);
    const overlong = encodeChannelData(0x4000, Buffer.from('abcd'));
    overlong.writeUInt16BE(5, 2);
    await client.send(overlong);
    assert.equal(core.stats.drops[DROP.malformed], 1);
    await client.sendChannel(0x4001, Buffer.from('nobody'));
    assert.equal(core.stats.drops[DROP.no_permission], 1);
    assert.equal(relay.sent.length, 1);
    assert.equal(core.clusterStats().txBytes, 3);
  });

test('a peer datagram from the bound transport address goes to the client as ChannelData', async () => {
  const { core, client, relay } = await bound();
  relay.deliver('from the peer', PEER, 7000);
  assert.deepEqual(client.link.channelData, [{ channel: 0x4000, payload: Buffer.from('from the peer') }]);
  assert.deepEqual(client.received(), []);
  assert.equal(core.clusterStats().rxPackets, 1);
  assert.equal(core.clusterStats().rxBytes, 13);
});

test('a peer datagram with a permission but no channel goes to the client in a Data indication', async () => {
  const { core, client, relay } = await bound();
  const data = Buffer.from([0, 1, 2, 3, 4, 5, 6]);
  relay.deliver(data, PEER, 7001);
  const [m] = client.received();
  assert.equal(m.cls, MessageClass.indication);
  assert.equal(m.method, Method.data);
  assert.deepEqual(m.get(XorPeerAddress), peerAddress(PEER, 7001));
  assert.deepEqual(Buffer.from(m.value(Attr.DATA)!), data);
  assert.equal(client.link.channelData.length, 0);
  // Every Data indication has its own transaction id.
  relay.deliver(data, PEER, 7001);
  const [m2] = client.received();
  assert.notDeepEqual(Buffer.from(m2.transactionId), Buffer.from(m.transactionId));
  assert.equal(core.clusterStats().rxPackets, 2);
  assert.equal(core.clusterStats().rxBytes, 14);
});

test('a datagram from a peer without a permission is dropped and counted, not relayed', async () => {
  const { core, client, relay } = await bound();
  relay.deliver('stranger', '10.0.0.2', 7000);
  relay.deliver('stranger', '192.168.1.1', 7000);
  assert.deepEqual(client.received(), []);
  assert.equal(client.link.channelData.length, 0);
  assert.equal(core.stats.drops[DROP.no_permission], 2);
  assert.equal(core.clusterStats().rxPackets, 0);
});

test('Send indications reach a permitted peer; without permission, DATA or allocation they are dropped', async () => {
  const { core, client, relay } = await bound();
  await client.sendIndication(PEER, 9000, Buffer.from('hello'));
  assert.deepEqual(relay.sent.map((d) => [d.data.toString(), d.address, d.port]), [['hello', PEER, 9000]]);
  assert.equal(core.clusterStats().txPackets, 1);
  assert.equal(core.clusterStats().txBytes, 5);
  await client.sendIndication('10.0.0.9', 9000, Buffer.from('no permission'));
  assert.equal(core.stats.drops[DROP.no_permission], 1);
  const noData = new StunWriter(Method.send, MessageClass.indication).add(XorPeerAddress, peerAddress(PEER, 9000));
  await client.send(Buffer.from(noData.finish()));
  assert.equal(core.stats.drops[DROP.malformed], 1);
  const stranger = core.client();
  await stranger.sendIndication(PEER, 9000, Buffer.from('no allocation'));
  assert.equal(core.stats.drops[DROP.no_allocation], 1);
  assert.equal(relay.sent.length, 1);
  assert.deepEqual(client.received(), [], 'indications are never answered');
});

test("peer ports outside the endpoint's :<min-max> range are forbidden both ways", async () => {
  const { core, client, relay } = await bound({ clusters: [{ name: 'media', endpoints: ['10.0.0.0/8:<7000-7999>'] }] });
  await client.sendIndication(PEER, 8000, Buffer.from('out of range'));
  relay.deliver('out of range', PEER, 6999);
  assert.equal(core.stats.drops[DROP.forbidden_peer], 2);
  await client.sendIndication(PEER, 7999, Buffer.from('in range'));
  relay.deliver('in range', PEER, 7000);
  assert.equal(relay.sent.length, 1);
  assert.equal(client.link.channelData.length, 1);
});

test('after readmitAll with an admission that no longer admits the peer, data stops both ways at once', async () => {
  const { core, client, relay } = await bound();
  const cs = core.clusterStats();
  assert.equal(cs.connections, 1);
  core.listener.admission = core.admission([{ name: 'media', endpoints: ['192.168.0.0/16'] }]);
  core.server.readmitAll(core.listener);
  assert.equal(cs.connections, 0, 'the upstream connection closes');
  await client.sendChannel(0x4000, Buffer.from('a'));
  await client.sendIndication(PEER, 7000, Buffer.from('b'));
  relay.deliver('c', PEER, 7000);
  assert.equal(relay.sent.length, 0);
  assert.equal(client.link.channelData.length, 0);
  assert.equal(core.stats.drops[DROP.forbidden_peer], 3);
  assert.equal(cs.txPackets + cs.rxPackets, 0);
  // New requests for that peer are refused too; admitting it again resumes the flow.
  assert.equal(codeOf(await client.createPermission(PEER)), 403);
  core.listener.admission = core.admission([MEDIA]);
  core.server.readmitAll(core.listener);
  assert.equal(cs.connections, 1);
  await client.sendChannel(0x4000, Buffer.from('d'));
  assert.equal(relay.sent.length, 1);
  assert.equal(cs.connectionsTotal, 2);
});

test("readmitAll narrowing an endpoint's port range stops a bound channel outside it, both ways", async () => {
  const { core, client, relay } = await bound();
  core.listener.admission = core.admission([{ name: 'media', endpoints: ['10.0.0.0/8:<10000-20000>'] }]);
  core.server.readmitAll(core.listener);
  await client.sendChannel(0x4000, Buffer.from('to 7000'));
  relay.deliver('from 7000', PEER, 7000);
  assert.equal(relay.sent.length, 0, 'ChannelData to a port the cluster no longer admits is not relayed');
  assert.equal(client.link.channelData.length, 0);
  assert.equal(core.stats.drops[DROP.forbidden_peer], 2);
  assert.equal(core.clusterStats().txPackets, 0);
});

test('readmitAll moving a peer to another cluster moves its upstream connection and its counters', async () => {
  const { core, client, relay } = await bound();
  await client.sendChannel(0x4000, Buffer.from('before'));
  core.listener.admission = core.admission([{ name: 'edge', endpoints: ['10.0.0.1/32'] }, MEDIA]);
  core.server.readmitAll(core.listener);
  assert.equal(core.clusterStats('media').connections, 0);
  assert.equal(core.clusterStats('edge').connections, 1);
  await client.sendChannel(0x4000, Buffer.from('after'));
  relay.deliver('back', PEER, 7000);
  assert.equal(core.clusterStats('media').txBytes, 6);
  assert.equal(core.clusterStats('edge').txBytes, 5);
  assert.equal(core.clusterStats('edge').rxBytes, 4);
});

test('dual stack: IPv6 peers are relayed over the IPv6 relayed address, IPv4 peers over the IPv4 one', async () => {
  const core = new Core({ families: [4, 6] });
  const client = core.client();
  await client.allocate((w) => w.add(AdditionalAddressFamily, 0x02));
  const [relay4, relay6] = core.relays.sockets;
  assert.equal(codeOf(await client.channelBind(0x4000, '2001:db8:cafe::5', 7000)), 200);
  assert.equal(codeOf(await client.channelBind(0x4001, PEER, 7000)), 200);
  await client.sendChannel(0x4000, Buffer.from('six'));
  await client.sendChannel(0x4001, Buffer.from('four'));
  assert.deepEqual(relay6.sent.map((d) => d.address), ['2001:db8:cafe::5']);
  assert.deepEqual(relay4.sent.map((d) => d.address), [PEER]);
  relay6.deliver('6', '2001:db8:cafe::5', 7000);
  relay4.deliver('4', PEER, 7000);
  assert.deepEqual(client.link.channelData.map((c) => c.channel), [0x4000, 0x4001]);
});

test('an ICMP error on a peer link is passed on in a Data indication with an ICMP attribute and no DATA, while the permission lives', async () => {
  const core = new Core({ peerLinks: true });
  const client = core.client();
  await client.allocate((w) => w.add(Lifetime, 3600));
  assert.equal(codeOf(await client.channelBind(0x4000, PEER, 7000)), 200);
  await client.sendChannel(0x4000, payload(1, 10));
  const link = core.relays.sockets[0].links[0];
  client.received();

  link.unreachable('port_unreachable', PORT_UNREACHABLE);
  const [indication, ...more] = client.received();
  assert.deepEqual(more, []);
  assert.equal(indication.method, Method.data);
  assert.equal(indication.cls, MessageClass.indication);
  assert.deepEqual(indication.get(XorPeerAddress), { family: 4, address: PEER, port: 7000 });
  assert.deepEqual(indication.get(Icmp), PORT_UNREACHABLE);
  assert.equal(indication.value(Attr.DATA), undefined, 'no DATA');
  // An error RFC 8656 does not pass on (a parameter problem): counted only.
  link.unreachable('other', undefined);
  assert.deepEqual(client.received(), []);
  assert.deepEqual([...core.stats.peerUnreachable], [1, 0, 1]);

  // The permission expires (the channel, bound for 600 s, and its link stay): counted, not passed on.
  core.elapse(PERMISSION_LIFETIME_S);
  assert.equal(link.closed, false);
  link.unreachable('port_unreachable', PORT_UNREACHABLE);
  assert.deepEqual(client.received(), []);
  assert.deepEqual([...core.stats.peerUnreachable], [2, 0, 1]);
  // A new permission for the peer: passed on again.
  assert.equal(codeOf(await client.createPermission(PEER)), 200);
  link.unreachable('port_unreachable', PORT_UNREACHABLE);
  assert.deepEqual(client.received().map((m) => m.get(Icmp)), [PORT_UNREACHABLE]);
});

test('relaying ends with the allocation: its relay sockets close; a datagram already queued is dropped', async () => {
  const { core, client, relay } = await bound();
  const allocation = core.listener.lookup(client.link)!;
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.addRaw(Attr.LIFETIME, Uint8Array.of(0, 0, 0, 0)))), 200);
  assert.equal(relay.closed, true);
  // The socket is closed, but a datagram read before the close can still reach the handler.
  relay.onPeerDatagram(Buffer.from('late'), PEER, 7000);
  allocation.relayChannelData(encodeChannelData(0x4000, Buffer.from('late')));
  assert.equal(client.link.channelData.length, 0);
  assert.equal(core.stats.drops[DROP.no_permission], 2);
  assert.equal(core.clusterStats().txPackets + core.clusterStats().rxPackets, 0);
});

test('peer links: ChannelData of the first four channels goes out on their own path, ICMP errors on it are counted, a link closes with its channel', async () => {
  const core = new Core({ peerLinks: true });
  const client = core.client();
  await client.allocate((w) => w.add(Lifetime, 3600));
  for (let i = 0; i < MAX_PEER_LINKS + 1; i++) {
    assert.equal(codeOf(await client.channelBind(0x4000 + i, PEER, 7000 + i)), 200);
  }
  const relay = core.relays.sockets[0];
  assert.equal(relay.links.length, 0, 'idle channels hold no link');
  // A refresh of a bound channel takes no second slot.
  assert.equal(codeOf(await client.channelBind(0x4000, PEER, 7000)), 200);
  for (let i = MAX_PEER_LINKS; i >= 0; i--) await client.sendChannel(0x4000 + i, payload(i + 1, 10));
  await client.sendChannel(0x4000, payload(9, 10));
  assert.deepEqual(relay.links.map((l) => l.port), [7003, 7002, 7001, 7000], 'a link per channel with its first ChannelData, the first four bound');
  assert.deepEqual(relay.links.at(-1)!.sent.map((d) => d[0]), [1, 9]);
  assert.deepEqual(relay.sent.map((d) => [d.data[0], d.port]), [[5, 7000 + MAX_PEER_LINKS]], 'the fifth goes out on the relay');
  assert.equal(core.clusterStats().txPackets, 6);

  // The peer's datagrams on a link come back on its channel, counted as on the relay socket.
  const link = (port: number) => relay.links.find((l) => l.port === port)!;
  link(7001).deliver(payload(3, 20));
  relay.deliver(payload(4, 20), PEER, 7001);
  assert.deepEqual(client.link.channelData.map((c) => [c.channel, c.payload[0]]), [[0x4001, 3], [0x4001, 4]]);
  assert.equal(core.clusterStats().rxPackets, 2);
  assert.equal(core.clusterStats().rxBytes, 40);

  link(7000).unreachable('port_unreachable', PORT_UNREACHABLE);
  link(7000).unreachable('port_unreachable', PORT_UNREACHABLE);
  link(7001).unreachable('prohibited', { type: 3, code: 13, data: 0 });
  assert.deepEqual([...core.stats.peerUnreachable], [2, 1, 0]);
  client.received();

  // Channel 0x4000 alone is kept alive; the others expire, and after their cooldown their links close, which
  // frees room for a new channel's link.
  for (let t = 0; t < CHANNEL_LIFETIME_S + CHANNEL_COOLDOWN_S; t += 200) {
    assert.equal(codeOf(await client.channelBind(0x4000, PEER, 7000)), 200);
    core.elapse(200);
  }
  assert.deepEqual(relay.links.map((l) => [l.port, l.closed]), [[7003, true], [7002, true], [7001, true], [7000, false]]);
  // An expired channel's link still open in its cooldown: its peer's datagrams go as Data indications.
  const indications = client.received().length;
  assert.equal(codeOf(await client.channelBind(0x4100, PEER, 7100)), 200);
  assert.equal(codeOf(await client.channelBind(0x4101, PEER, 7101)), 200);
  await client.sendChannel(0x4100, payload(1, 10));
  await client.sendChannel(0x4101, payload(1, 10));
  for (let t = 0; t < CHANNEL_LIFETIME_S; t += 200) {
    assert.equal(codeOf(await client.createPermission(PEER)), 200);
    core.elapse(200);
  }
  relay.links.at(-1)!.deliver('late');
  assert.equal(client.received().length, indications + 1, 'a Data indication');
  assert.deepEqual(relay.links.map((l) => [l.port, l.closed]).slice(-2), [[7100, false], [7101, false]]);
  relay.close();
  assert.ok(relay.links.every((l) => l.closed), 'closing the relay closes its links');
});
