// ChannelBind on the pure core, RFC 8656 §12.2 and §12: channel number range, the one-to-one binding of
// numbers and peer transport addresses (also through the 5-minute cooldown after expiry), 437, 443, the
// endpoint port range (403), and the channel cap (508).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method } from '../../../src/stun/constants.ts';
import { XorPeerAddress } from '../../../src/stun/attributes/address.ts';
import { ChannelNumber, Lifetime } from '../../../src/stun/attributes/numeric.ts';
import { ErrorCode } from '../../../src/stun/attributes/errors.ts';
import { verifyMessageIntegrity } from '../../../src/stun/integrity.ts';
import { CHANNEL_COOLDOWN_S, CHANNEL_LIFETIME_S } from '../../../src/turn/timers.ts';
import { Core, codeOf, peerAddress, type CoreOptions } from './harness.ts';

async function allocated(opts?: CoreOptions) {
  const core = new Core(opts);
  const client = core.client();
  await client.allocate();
  return { core, client, allocation: core.listener.lookup(client.link)! };
}

const numbers: { channel: number; code: 200 | 400 }[] = [
  { channel: 0x0000, code: 400 },
  { channel: 0x3fff, code: 400 },
  { channel: 0x4000, code: 200 },
  { channel: 0x4fff, code: 200 },
  // RFC 5766 allowed up to 0x7FFF; coturn's and pion's clients still use it, so we accept it.
  { channel: 0x5000, code: 200 },
  { channel: 0x7fff, code: 200 },
  { channel: 0x8000, code: 400 },
  { channel: 0xffff, code: 400 },
];

for (const n of numbers) {
  test(`ChannelBind 0x${n.channel.toString(16).padStart(4, '0')}: ${n.code}`, async () => {
    const { core, client, allocation } = await allocated();
    const res = await client.channelBind(n.channel, '10.0.0.1', 5000);
    assert.equal(codeOf(res), n.code);
    assert.ok(verifyMessageIntegrity(res, client.key));
    assert.equal(allocation.channels.size, n.code === 200 ? 1 : 0);
    assert.equal(allocation.permissions.size, n.code === 200 ? 1 : 0, 'a ChannelBind installs the permission');
    assert.equal(core.clusterStats().connections, n.code === 200 ? 1 : 0);
  });
}

test('ChannelBind without CHANNEL-NUMBER or XOR-PEER-ADDRESS: 400', async () => {
  const { client } = await allocated();
  assert.equal(codeOf(await client.request(Method.channelBind, (w) => w.add(ChannelNumber, 0x4000))), 400);
  assert.equal(codeOf(await client.request(Method.channelBind,
    (w) => w.add(XorPeerAddress, peerAddress('10.0.0.1', 5000)))), 400);
});

test('ChannelBind without an allocation: 437', async () => {
  const core = new Core();
  const client = core.client();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 437);
  assert.deepEqual(core.requests(), { 'allocate 401': 1, 'channel_bind 437': 1 });
});

test('a channel bound to one peer cannot be bound to another (400); rebinding the same peer refreshes it', async () => {
  const { core, client, allocation } = await allocated();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  for (const [ip, port] of [['10.0.0.2', 5000], ['10.0.0.1', 5001]] as const) {
    const res = await client.channelBind(0x4000, ip, port);
    assert.equal(codeOf(res), 400, `${ip}:${port}`);
    assert.equal(res.get(ErrorCode)?.reason, 'Channel Bound To Another Peer');
  }
  core.now += 100_000;
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  assert.equal(allocation.channels.get(0x4000)!.expiresAt, core.now + CHANNEL_LIFETIME_S * 1000);
});

test('a peer transport address bound to one channel cannot be bound to another (400); other ports may', async () => {
  const { core, client, allocation } = await allocated();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  const res = await client.channelBind(0x4001, '10.0.0.1', 5000);
  assert.equal(codeOf(res), 400);
  assert.equal(res.get(ErrorCode)?.reason, 'Peer Bound To Another Channel');
  // Another port of the same peer IP is another transport address: it shares the permission.
  assert.equal(codeOf(await client.channelBind(0x4001, '10.0.0.1', 5002)), 200);
  assert.equal(allocation.permissions.size, 1);
  assert.equal(core.clusterStats().connections, 1);
});

test('after expiry a channel stays reserved for its peer for 5 minutes, then is free', async () => {
  const { core, client, allocation } = await allocated();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  // Keep the allocation alive across the test.
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(Lifetime, 3600))), 200);
  core.elapse(CHANNEL_LIFETIME_S);
  assert.equal(allocation.channels.get(0x4000)!.expired, true);
  // During the cooldown: neither the number for another peer nor the peer for another number.
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.2', 5000)), 400);
  assert.equal(codeOf(await client.channelBind(0x4001, '10.0.0.1', 5000)), 400);
  core.elapse(CHANNEL_COOLDOWN_S - 1);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.2', 5000)), 400, 'one second before the cooldown ends');
  core.elapse(1);
  assert.equal(allocation.channels.has(0x4000), false, 'the sweeper frees the number after the cooldown');
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.2', 5000)), 200);
  assert.equal(allocation.channels.get(0x4000)!.peerAddress, '10.0.0.2');
});

test('rebinding an expired channel to the same peer during the cooldown revives it', async () => {
  const { core, client, allocation } = await allocated();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(Lifetime, 3600))), 200);
  core.elapse(CHANNEL_LIFETIME_S + 60);
  const before = allocation.channels.get(0x4000)!;
  assert.equal(before.expired, true);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  assert.equal(allocation.channels.get(0x4000), before, 'the same binding, refreshed');
  assert.equal(before.expired, false);
  core.elapse(CHANNEL_COOLDOWN_S);
  assert.equal(allocation.channels.has(0x4000), true, 'a revived channel is not swept by its old cooldown');
});

test('ChannelBind with an IPv6 peer on an IPv4 allocation: 443', async () => {
  const { client, allocation } = await allocated();
  const res = await client.channelBind(0x4000, '2001:db8:cafe::1', 5000);
  assert.equal(codeOf(res), 443);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.equal(allocation.channels.size, 0);
});

test("ChannelBind to a peer port outside the endpoint's :<min-max> range: 403", async () => {
  const { core, client } = await allocated({ clusters: [{ name: 'media', endpoints: ['10.0.0.0/8:<10000-20000>'] }] });
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 9999)), 403);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 20001)), 403);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 10000)), 200);
  assert.equal(codeOf(await client.channelBind(0x4001, '10.0.0.1', 20000)), 200);
  assert.equal(codeOf(await client.channelBind(0x4002, '192.168.0.1', 10000)), 403, 'outside the prefix');
  assert.equal(core.clusterStats().connections, 1);
});

test('508 beyond max_channels_per_allocation; refreshing a bound channel is not refused', async () => {
  const { client, allocation } = await allocated({ limits: { maxChannelsPerAllocation: 2 } });
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 5000)), 200);
  assert.equal(codeOf(await client.channelBind(0x4001, '10.0.0.2', 5000)), 200);
  const res = await client.channelBind(0x4002, '10.0.0.3', 5000);
  assert.equal(codeOf(res), 508);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.equal(allocation.permissions.has('10.0.0.3'), false, 'a refused ChannelBind installs no permission');
  assert.equal(codeOf(await client.channelBind(0x4001, '10.0.0.2', 5000)), 200);
});
