// Lifetimes on the fake clock, swept by `server.sweep()` as the gateway's one coarse timer does: allocations
// (RFC 8656 §7), permissions (§9: 300 s) and channel bindings (§12: 600 s), and the refreshes that extend them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method } from '../../../src/stun/constants.ts';
import { Lifetime } from '../../../src/stun/attributes/numeric.ts';
import { DROP } from '../../../src/stats/listener-stats.ts';
import { CHANNEL_LIFETIME_S, PERMISSION_LIFETIME_S } from '../../../src/turn/timers.ts';
import { Core, codeOf } from './harness.ts';

async function allocated(lifetime?: number) {
  const core = new Core();
  const client = core.client();
  await client.allocate((w) => {
    if (lifetime !== undefined) w.add(Lifetime, lifetime);
  });
  return { core, client, relay: core.relays.sockets[0], allocation: core.listener.lookup(client.link)! };
}

test('an allocation expires at its lifetime: gauges drop, relay closes, duration recorded', async () => {
  const { core, client, relay } = await allocated(900);
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  core.elapse(899);
  assert.equal(core.stats.allocationsActive, 1);
  assert.equal(core.stats.connections, 1);
  core.elapse(1);
  assert.equal(core.stats.allocationsActive, 0);
  assert.equal(core.stats.connections, 0);
  assert.equal(core.clusterStats().connections, 0);
  assert.equal(relay.closed, true);
  assert.equal(core.server.quota.total, 0);
  assert.equal(core.listener.lookup(client.link), undefined);
  const h = core.stats.allocationDuration;
  assert.equal(h.count, 1);
  assert.equal(h.sum, 900);
  assert.equal(h.counts[h.boundaries.indexOf(1200)], 1, 'in the (600, 1200] bucket');
  // The 5-tuple no longer has an allocation.
  assert.equal(codeOf(await client.request(Method.refresh)), 437);
});

test('a Refresh extends the allocation from the time of the Refresh', async () => {
  const { core, client } = await allocated();
  core.elapse(500);
  assert.equal(codeOf(await client.request(Method.refresh)), 200);
  core.elapse(599);
  assert.equal(core.stats.allocationsActive, 1, '1099 s after creation, 599 s after the Refresh');
  core.elapse(1);
  assert.equal(core.stats.allocationsActive, 0);
  assert.equal(core.stats.allocationDuration.sum, 1100);
});

test('a permission expires after 300 s: peer datagrams are then dropped as no_permission', async () => {
  const { core, client, relay, allocation } = await allocated();
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  core.elapse(PERMISSION_LIFETIME_S - 1);
  relay.deliver('still open', '10.0.0.1', 7000);
  assert.equal(client.received().length, 1, 'a Data indication');
  assert.equal(core.clusterStats().connections, 1);
  core.elapse(1);
  assert.equal(allocation.permissions.size, 0, 'swept');
  assert.equal(core.clusterStats().connections, 0, 'the upstream connection closed');
  relay.deliver('too late', '10.0.0.1', 7000);
  assert.deepEqual(client.received(), []);
  assert.equal(core.stats.drops[DROP.no_permission], 1);
  assert.equal(core.clusterStats().rxPackets, 1, 'only the admitted datagram counted');
  await client.sendIndication('10.0.0.1', 7000, Buffer.from('outbound'));
  assert.equal(relay.sent.length, 0);
  assert.equal(core.stats.drops[DROP.no_permission], 2);
});

test('a CreatePermission refresh extends the permission by 300 s from then', async () => {
  const { core, client, relay } = await allocated();
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  core.elapse(200);
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  core.elapse(299);
  relay.deliver('x', '10.0.0.1', 7000);
  assert.equal(client.received().length, 1);
  core.elapse(1);
  relay.deliver('x', '10.0.0.1', 7000);
  assert.equal(client.received().length, 0);
  assert.equal(core.clusterStats().connectionsTotal, 1, 'a refresh is not a new upstream connection');
});

test('an expired permission refreshed while a channel holds it opens a new upstream connection', async () => {
  const { core, client } = await allocated();
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 7000)), 200);
  core.elapse(PERMISSION_LIFETIME_S);
  assert.equal(core.clusterStats().connections, 0);
  await client.sendChannel(0x4000, Buffer.from('no permission'));
  assert.equal(core.stats.drops[DROP.no_permission], 1);
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  assert.equal(core.clusterStats().connections, 1);
  assert.equal(core.clusterStats().connectionsTotal, 2);
  await client.sendChannel(0x4000, Buffer.from('again'));
  assert.equal(core.clusterStats().txPackets, 1);
});

test('a channel binding expires after 600 s: peer data falls back to Data indications', async () => {
  const { core, client, relay, allocation } = await allocated(3600);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 7000)), 200);
  // Keep the permission (300 s) alive past the channel's lifetime.
  core.elapse(250);
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  core.elapse(250);
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  core.elapse(CHANNEL_LIFETIME_S - 500 - 1);
  relay.deliver('bound', '10.0.0.1', 7000);
  assert.equal(client.link.channelData.length, 1);
  core.elapse(1);
  assert.equal(allocation.channels.get(0x4000)!.expired, true);
  relay.deliver('unbound', '10.0.0.1', 7000);
  assert.equal(client.link.channelData.length, 1, 'no ChannelData on an expired channel');
  assert.equal(client.received().length, 1, 'a Data indication instead');
  await client.sendChannel(0x4000, Buffer.from('to peer'));
  assert.equal(relay.sent.length, 0);
  assert.equal(core.stats.drops[DROP.no_permission], 1);
});

test('a ChannelBind refresh extends the channel by 600 s and the permission by 300 s', async () => {
  const { core, client, relay } = await allocated(3600);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 7000)), 200);
  core.elapse(290);
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 7000)), 200);
  core.elapse(299);
  await client.sendChannel(0x4000, Buffer.from('a'));
  assert.equal(relay.sent.length, 1, 'the permission was refreshed with the channel');
  core.elapse(1);
  await client.sendChannel(0x4000, Buffer.from('b'));
  assert.equal(relay.sent.length, 1, 'the permission lapsed 300 s after the refresh');
  assert.equal(codeOf(await client.channelBind(0x4000, '10.0.0.1', 7000)), 200);
  core.elapse(CHANNEL_LIFETIME_S - 1);
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  relay.deliver('c', '10.0.0.1', 7000);
  assert.deepEqual(client.link.channelData.map((c) => c.channel), [0x4000]);
});
