// The rules an Allocation keeps itself, exercised on the object without STUN in between (the handlers'
// table-driven tests cover the same rules through requests): ChannelBind conflicts and capacity (RFC 8656
// §12.2), the channel cooldown (§12), all-or-nothing CreatePermission capacity (§10.2), and expire(now)
// across the lifetimes of permissions (§9: 300 s), channels (§12: 600 s) and the allocation itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longTermKey } from '../../../src/stun/integrity.ts';
import type { Admission } from '../../../src/cluster/peer-admission.ts';
import { Allocation, type AllocationLimits } from '../../../src/turn/allocation.ts';
import type { TurnServer } from '../../../src/turn/turn-server.ts';
import { StaticAuthenticator } from '../../../src/auth/static-auth.ts';
import {
  CHANNEL_COOLDOWN_S, CHANNEL_LIFETIME_S, DEFAULT_ALLOCATION_LIFETIME_S, PERMISSION_LIFETIME_S,
} from '../../../src/turn/timers.ts';
import { RecordingLink, type MemoryRelaySocket } from './fakes.ts';
import { ALICE, CLIENT_IP, Core, NO_LIMITS, codeOf, peerAddress } from './harness.ts';

const S = 1000;
const T0 = Date.UTC(2025, 0, 1);

/** An active UDP allocation created at T0 with the default lifetime, its IPv4 relay, and the core around it. */
async function active(lifetimeS = DEFAULT_ALLOCATION_LIFETIME_S) {
  const core = new Core();
  const allocation = new Allocation(core.listener, new RecordingLink(CLIENT_IP, 40_000), ALICE.username,
    ALICE.username, longTermKey(ALICE.username, 'r', ALICE.password), 'tx', T0, lifetimeS);
  const r = await core.relays.allocate({ family: 4, evenPort: false, reserveNext: false });
  assert.ok(r.ok);
  assert.equal(allocation.activate([r.socket]), true);
  return { core, allocation, relay: r.socket as MemoryRelaySocket };
}

function admit(core: Core, ip: string): Admission {
  const r = core.listener.admission.admit(ip);
  assert.ok(typeof r !== 'string', `${ip} is admitted`);
  return r;
}

function limits(l: Partial<AllocationLimits> = {}): AllocationLimits {
  return { maxPermissionsPerAllocation: 0, maxChannelsPerAllocation: 0, ...l };
}

test('activate: pending -> active once, the relay routed to this allocation; a closed one stays closed', async () => {
  const { core, allocation, relay } = await active();
  assert.equal(allocation.state, 'active');
  assert.equal(allocation.relayFor(4), relay);
  assert.equal(relay.onPeerDatagram, allocation.onPeerDatagram);
  assert.equal(allocation.activate([relay]), false, 'only a pending allocation activates');
  const late = new Allocation(core.listener, new RecordingLink(CLIENT_IP, 40_001), 'u', 'u',
    longTermKey('u', 'r', 'p'), 'tx2', T0, DEFAULT_ALLOCATION_LIFETIME_S);
  assert.equal(late.close(), 'pending');
  assert.equal(late.activate([relay]), false, 'closed while its relay was being bound');
  assert.equal(late.state, 'closed');
});

test('bindChannel: a number bound to another transport address, or a peer bound to another number, is refused', async () => {
  const { core, allocation, relay } = await active();
  const a = admit(core, '10.0.0.1');
  assert.equal(allocation.bindChannel(0x4000, peerAddress('10.0.0.1', 5000), a, relay, T0, limits()), 'bound');
  for (const [ip, port] of [['10.0.0.2', 5000], ['10.0.0.1', 5001]] as const) {
    assert.equal(allocation.channelConflict(0x4000, peerAddress(ip, port)), 'number-bound-elsewhere');
    assert.equal(allocation.bindChannel(0x4000, peerAddress(ip, port), admit(core, ip), relay, T0, limits()),
      'number-bound-elsewhere', `${ip}:${port}`);
  }
  assert.equal(allocation.bindChannel(0x4001, peerAddress('10.0.0.1', 5000), a, relay, T0, limits()),
    'peer-bound-elsewhere');
  assert.equal(allocation.permissions.has('10.0.0.2'), false, 'a refused binding installs no permission');
  assert.deepEqual([...allocation.channels.keys()], [0x4000]);
  // Another port of the same IP is another transport address, under the same permission.
  assert.equal(allocation.bindChannel(0x4001, peerAddress('10.0.0.1', 5002), a, relay, T0, limits()), 'bound');
  assert.equal(allocation.permissions.size, 1);
  assert.equal(allocation.permissions.get('10.0.0.1')!.channelFor(5002), allocation.channels.get(0x4001));
});

test('bindChannel installs the permission and refreshes both: binding 600 s, permission 300 s, from the refresh', async () => {
  const { core, allocation, relay } = await active(3600);
  const a = admit(core, '10.0.0.1');
  const peer = peerAddress('10.0.0.1', 5000);
  assert.equal(allocation.bindChannel(0x4000, peer, a, relay, T0, limits()), 'bound');
  const binding = allocation.channels.get(0x4000)!;
  const permission = allocation.permissions.get('10.0.0.1')!;
  assert.equal(binding.permission, permission);
  assert.equal(binding.expiresAt, T0 + CHANNEL_LIFETIME_S * S);
  assert.equal(permission.expiresAt, T0 + PERMISSION_LIFETIME_S * S);
  assert.equal(core.clusterStats().connections, 1, 'the permission is an upstream connection');
  const later = T0 + 250 * S;
  assert.equal(allocation.bindChannel(0x4000, peer, a, relay, later, limits()), 'bound');
  assert.equal(allocation.channels.get(0x4000), binding, 'the same binding');
  assert.equal(binding.expiresAt, later + CHANNEL_LIFETIME_S * S);
  assert.equal(permission.expiresAt, later + PERMISSION_LIFETIME_S * S);
  assert.equal(core.clusterStats().connectionsTotal, 1, 'a refresh is not a new upstream connection');
});

test('a channel expires after 600 s, holds its number and peer for the 300 s cooldown, then frees both', async () => {
  const { core, allocation, relay } = await active(3600);
  const peer = peerAddress('10.0.0.1', 5000);
  assert.equal(allocation.bindChannel(0x4000, peer, admit(core, '10.0.0.1'), relay, T0, limits()), 'bound');
  const binding = allocation.channels.get(0x4000)!;
  const expiry = T0 + CHANNEL_LIFETIME_S * S;
  assert.equal(allocation.expire(expiry - 1), false);
  assert.equal(binding.expired, false);
  assert.equal(allocation.expire(expiry), false);
  assert.equal(binding.expired, true);
  assert.equal(allocation.permissions.get('10.0.0.1')!.live, false, 'the permission (300 s) ran out before');
  assert.equal(allocation.permissions.has('10.0.0.1'), true, 'kept while its channel is in the cooldown');
  const other = admit(core, '10.0.0.2');
  assert.equal(allocation.bindChannel(0x4000, peerAddress('10.0.0.2', 5000), other, relay, expiry, limits()),
    'number-bound-elsewhere');
  assert.equal(allocation.channelConflict(0x4001, peer), 'peer-bound-elsewhere');
  const free = expiry + CHANNEL_COOLDOWN_S * S;
  allocation.expire(free - 1);
  assert.equal(allocation.channels.has(0x4000), true, 'one millisecond before the cooldown ends');
  allocation.expire(free);
  assert.equal(allocation.channels.size, 0);
  assert.equal(allocation.permissions.size, 0, 'the permission goes with its last channel');
  assert.equal(allocation.channelConflict(0x4001, peer), undefined);
  assert.equal(allocation.bindChannel(0x4000, peerAddress('10.0.0.2', 5000), other, relay, free, limits()), 'bound');
});

test('rebinding an expired channel to the same peer during the cooldown revives it with a fresh lifetime', async () => {
  const { core, allocation, relay } = await active(3600);
  const peer = peerAddress('10.0.0.1', 5000);
  const a = admit(core, '10.0.0.1');
  assert.equal(allocation.bindChannel(0x4000, peer, a, relay, T0, limits()), 'bound');
  const expiry = T0 + CHANNEL_LIFETIME_S * S;
  allocation.expire(expiry + 60 * S);
  const binding = allocation.channels.get(0x4000)!;
  assert.equal(binding.expired, true);
  assert.equal(core.clusterStats().connections, 0);
  assert.equal(allocation.bindChannel(0x4000, peer, a, relay, expiry + 60 * S, limits()), 'bound');
  assert.equal(binding.expired, false);
  assert.equal(allocation.permissions.get('10.0.0.1')!.live, true);
  assert.equal(core.clusterStats().connections, 1, 'the revived permission is an upstream connection again');
  allocation.expire(expiry + CHANNEL_COOLDOWN_S * S);
  assert.equal(allocation.channels.get(0x4000), binding, 'not swept by its old cooldown');
  assert.equal(binding.expired, false);
});

test('bindChannel capacity: a new channel or a new permission beyond its cap is refused; a refresh never is', async () => {
  const { core, allocation, relay } = await active();
  const cap = limits({ maxChannelsPerAllocation: 2, maxPermissionsPerAllocation: 2 });
  const bind = (n: number, ip: string) => allocation.bindChannel(n, peerAddress(ip, 5000), admit(core, ip), relay, T0, cap);
  assert.equal(bind(0x4000, '10.0.0.1'), 'bound');
  assert.equal(bind(0x4001, '10.0.0.2'), 'bound');
  assert.equal(bind(0x4002, '10.0.0.3'), 'capacity', 'a third channel');
  assert.equal(allocation.permissions.has('10.0.0.3'), false);
  assert.equal(bind(0x4001, '10.0.0.2'), 'bound', 'refreshing at the cap');
  const channelsOnly = limits({ maxChannelsPerAllocation: 3, maxPermissionsPerAllocation: 2 });
  assert.equal(allocation.bindChannel(0x4002, peerAddress('10.0.0.3', 5000), admit(core, '10.0.0.3'), relay, T0,
    channelsOnly), 'capacity', 'a third permission');
  assert.equal(allocation.bindChannel(0x4002, peerAddress('10.0.0.1', 5001), admit(core, '10.0.0.1'), relay, T0,
    channelsOnly), 'bound', 'a third channel under an existing permission');
});

test('grantPermissions: all or none within the cap, existing and repeated peers counted once', async () => {
  const { core, allocation } = await active();
  const grant = (...ips: string[]) => ips.map((peer) => ({ peer, admission: admit(core, peer) }));
  const cap = limits({ maxPermissionsPerAllocation: 3 });
  assert.equal(allocation.grantPermissions(grant('10.0.0.1', '10.0.0.2'), T0, cap), 'granted');
  assert.equal(allocation.grantPermissions(grant('10.0.0.3', '10.0.0.4'), T0, cap), 'capacity');
  assert.deepEqual([...allocation.permissions.keys()], ['10.0.0.1', '10.0.0.2'], 'none of a refused request');
  assert.equal(allocation.grantPermissions(grant('10.0.0.1', '10.0.0.3', '10.0.0.3', '10.0.0.2'), T0 + S, cap),
    'granted');
  assert.equal(allocation.permissions.size, 3);
  assert.equal(allocation.permissions.get('10.0.0.1')!.expiresAt, T0 + S + PERMISSION_LIFETIME_S * S, 'refreshed');
  assert.equal(core.clusterStats().connections, 3);
  assert.equal(allocation.grantPermissions(grant('10.0.0.9'), T0, limits()), 'granted', '0 = unlimited');
});

test('expire(now): permissions at 300 s, then the allocation at its lifetime, reported to the caller', async () => {
  const { core, allocation, relay } = await active();
  assert.equal(allocation.grantPermissions([{ peer: '10.0.0.1', admission: admit(core, '10.0.0.1') }], T0,
    limits()), 'granted');
  const end = T0 + DEFAULT_ALLOCATION_LIFETIME_S * S;
  assert.equal(allocation.expire(T0 + PERMISSION_LIFETIME_S * S - 1), false);
  assert.equal(allocation.permissions.size, 1);
  assert.equal(allocation.expire(T0 + PERMISSION_LIFETIME_S * S), false);
  assert.equal(allocation.permissions.size, 0);
  assert.equal(core.clusterStats().connections, 0);
  allocation.refresh(DEFAULT_ALLOCATION_LIFETIME_S, T0 + 100 * S);
  assert.equal(allocation.expiresAt, end + 100 * S);
  assert.equal(allocation.expire(end), false, 'the refresh moved the end');
  assert.equal(allocation.expire(end + 100 * S), true);
  assert.equal(allocation.state, 'active', 'expire reports; the server deletes');
  assert.equal(allocation.close(), 'active');
  assert.equal(relay.closed, true);
  assert.equal(allocation.close(), 'closed', 'closing twice does nothing');
  assert.equal(allocation.expire(end + 200 * S), false, 'a closed allocation has nothing left to expire');
});

test('close ends the upstream connections of its permissions, including those only a channel holds', async () => {
  const { core, allocation, relay } = await active(3600);
  const a = admit(core, '10.0.0.1');
  assert.equal(allocation.bindChannel(0x4000, peerAddress('10.0.0.1', 5000), a, relay, T0, limits()), 'bound');
  assert.equal(allocation.grantPermissions([{ peer: '10.0.0.2', admission: admit(core, '10.0.0.2') }], T0,
    limits()), 'granted');
  assert.equal(core.clusterStats().connections, 2);
  assert.equal(allocation.close(), 'active');
  assert.equal(allocation.permissions.size, 0);
  assert.equal(allocation.channels.size, 0);
  assert.equal(core.clusterStats().connections, 0);
  assert.equal(core.clusterStats().connectionsTotal, 2);
});

test('TurnServer.update sets the realm with the credentials and limits: the next challenge carries it', async () => {
  const core = new Core();
  const client = core.client();
  await client.challenge();
  assert.equal(client.realm, 'core.test');
  const server: TurnServer = core.server;
  server.update({
    authenticator: new StaticAuthenticator(ALICE.username, ALICE.password, 'other.test'), realm: 'other.test',
    limits: { ...NO_LIMITS, maxAllocations: 1 },
  });
  assert.equal(server.realm, 'other.test');
  assert.equal(server.quota.maxAllocations, 1);
  await client.challenge();
  assert.equal(client.realm, 'other.test');
  assert.equal(codeOf(await client.allocate()), 200, 'the new credentials authenticate');
});
