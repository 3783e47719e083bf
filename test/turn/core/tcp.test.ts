// RFC 6062 TCP allocations on the pure core: Allocate with REQUESTED-TRANSPORT TCP, Connect (446, 447),
// ConnectionBind, incoming peer connections (ConnectionAttempt), the 30 s bind timeout, and the upstream
// connection gauge, which counts peer data connections here, not permissions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FAMILY_IPV4, FAMILY_IPV6, MessageClass, Method, TRANSPORT_TCP,
} from '../../../src/stun/constants.ts';
import { XorPeerAddress, XorRelayedAddress } from '../../../src/stun/attributes/address.ts';
import { ErrorCode } from '../../../src/stun/attributes/errors.ts';
import {
  AdditionalAddressFamily, ConnectionId, DontFragment, EvenPort, Lifetime, RequestedAddressFamily, RequestedTransport,
} from '../../../src/stun/attributes/numeric.ts';
import { ReservationToken } from '../../../src/stun/attributes/opaque.ts';
import { verifyMessageIntegrity } from '../../../src/stun/integrity.ts';
import type { StunWriter } from '../../../src/stun/writer.ts';
import { DROP } from '../../../src/stats/listener-stats.ts';
import { CONNECTION_BIND_TIMEOUT_S } from '../../../src/turn/tcp-allocation.ts';
import { UserTable } from './fakes.ts';
import { CLIENT_IP, Core, REALM, codeOf, peerAddress, type CoreClient, type CoreOptions } from './harness.ts';

const TCP_MEDIA = { name: 'tcp-media', protocol: 'TCP', endpoints: ['10.0.0.0/8:<1000-9999>'] } as const;
const UDP_MEDIA = { name: 'udp-media', protocol: 'UDP', endpoints: ['192.168.0.0/16'] } as const;
const TCP_CORE: CoreOptions = { tcp: { families: [4] }, clusters: [UDP_MEDIA, TCP_MEDIA] };
const PEER = '10.0.0.1';

const tcp = (w: StunWriter) => w.add(RequestedTransport, TRANSPORT_TCP);

async function tcpAllocated(opts: CoreOptions = TCP_CORE) {
  const core = new Core(opts);
  const client = core.client(undefined, undefined, CLIENT_IP, 'tcp');
  const res = await client.request(Method.allocate, tcp);
  assert.equal(codeOf(res), 200);
  return { core, client, relay: core.listener.tcpRelays!.relays[0], allocation: core.listener.lookup(client.link)! };
}

function connect(client: CoreClient, address: string, port: number) {
  return client.request(Method.connect, (w) => w.add(XorPeerAddress, peerAddress(address, port)));
}

function connectionBind(client: CoreClient, id: number) {
  return client.request(Method.connectionBind, (w) => w.add(ConnectionId, id));
}

interface AllocateCase {
  readonly name: string;
  readonly code: number;
  readonly core: CoreOptions;
  readonly transport?: 'udp' | 'tcp';
  readonly build: (w: StunWriter) => void;
}

const allocateErrors: AllocateCase[] = [
  { name: 'a listener without TCP relays', code: 442, core: { clusters: [TCP_MEDIA] }, build: tcp },
  { name: 'no TCP cluster routed', code: 442, core: { tcp: {}, clusters: [UDP_MEDIA] }, build: tcp },
  { name: 'a UDP client connection', code: 400, core: TCP_CORE, transport: 'udp', build: tcp },
  { name: 'DONT-FRAGMENT', code: 400, core: TCP_CORE, build: (w) => tcp(w).add(DontFragment, true) },
  { name: 'EVEN-PORT', code: 400, core: TCP_CORE, build: (w) => tcp(w).add(EvenPort, { reserve: false }) },
  { name: 'RESERVATION-TOKEN', code: 400, core: TCP_CORE, build: (w) => tcp(w).add(ReservationToken, Buffer.alloc(8)) },
  {
    name: 'ADDITIONAL-ADDRESS-FAMILY', code: 400, core: TCP_CORE,
    build: (w) => tcp(w).add(AdditionalAddressFamily, FAMILY_IPV6),
  },
  { name: 'an unknown address family', code: 440, core: TCP_CORE, build: (w) => tcp(w).add(RequestedAddressFamily, 9) },
  {
    name: 'IPv6 on an IPv4-only TCP relay', code: 440, core: TCP_CORE,
    build: (w) => tcp(w).add(RequestedAddressFamily, FAMILY_IPV6),
  },
  { name: 'no TCP relay port free', code: 508, core: { ...TCP_CORE, tcp: { capacity: 0 } }, build: tcp },
];

for (const c of allocateErrors) {
  test(`TCP Allocate with ${c.name}: ${c.code}`, async () => {
    const core = new Core(c.core);
    const client = core.client(undefined, undefined, CLIENT_IP, c.transport ?? 'tcp');
    const res = await client.request(Method.allocate, c.build);
    assert.equal(codeOf(res), c.code);
    assert.ok(verifyMessageIntegrity(res, client.key));
    assert.equal(core.stats.allocationsActive, 0);
    assert.equal(core.stats.connections, 0);
    assert.equal(core.server.quota.total, 0);
  });
}

test('TCP Allocate: one TCP relayed address, LIFETIME, no RESERVATION-TOKEN; quota applies', async () => {
  const core = new Core({ ...TCP_CORE, limits: { userQuota: 1 } });
  const client = core.client(undefined, undefined, CLIENT_IP, 'tcp');
  const res = await client.request(Method.allocate, (w) => tcp(w).add(RequestedAddressFamily, FAMILY_IPV4).add(Lifetime, 1200));
  assert.equal(codeOf(res), 200);
  assert.deepEqual(res.getAll(XorRelayedAddress), [core.listener.tcpRelays!.relays[0].address]);
  assert.equal(res.get(Lifetime), 1200);
  assert.equal(res.get(ReservationToken), undefined);
  assert.equal(core.relays.open, 0, 'no UDP relay');
  const second = core.client(undefined, undefined, CLIENT_IP, 'tcp');
  assert.equal(codeOf(await second.request(Method.allocate, tcp)), 486);
});

test('Connect: a peer data connection with a CONNECTION-ID, counted as an upstream connection', async () => {
  const { core, client, relay, allocation } = await tcpAllocated();
  assert.equal(codeOf(await client.createPermission(PEER)), 200);
  assert.equal(core.clusterStats('tcp-media').connections, 0, 'a permission is not an upstream connection here');
  const res = await connect(client, PEER, 5000);
  assert.equal(codeOf(res), 200);
  assert.ok(verifyMessageIntegrity(res, client.key));
  const id = res.get(ConnectionId);
  assert.ok(id !== undefined && id > 0);
  assert.deepEqual(relay.opened.map((c) => [c.remoteAddress, c.remotePort]), [[PEER, 5000]]);
  assert.equal(core.clusterStats('tcp-media').connections, 1);
  assert.equal(allocation.tcp!.connections.size, 1);
  assert.equal(core.server.tcpConnections.get(id), allocation.tcp!.connections.values().next().value);
});

test('Connect errors: 400 on UDP, 437 without allocation, 400 on a UDP allocation or without a peer', async () => {
  const core = new Core(TCP_CORE);
  const udp = core.client();
  assert.equal(codeOf(await connect(udp, PEER, 5000)), 400);
  const stream = core.client(undefined, undefined, CLIENT_IP, 'tcp');
  assert.equal(codeOf(await connect(stream, PEER, 5000)), 437);
  const udpAllocation = core.client(undefined, undefined, CLIENT_IP, 'tcp');
  await udpAllocation.allocate();
  const res = await connect(udpAllocation, '192.168.0.1', 5000);
  assert.equal(codeOf(res), 400);
  assert.equal(res.get(ErrorCode)?.reason, 'Not A TCP Allocation');
  const { client } = await tcpAllocated();
  assert.equal(codeOf(await client.request(Method.connect)), 400);
});

test('Connect policy: 443 for the other family, 403 outside TCP clusters or the port range', async () => {
  const { core, client, relay } = await tcpAllocated();
  assert.equal(codeOf(await connect(client, '2001:db8::1', 5000)), 443);
  assert.equal(codeOf(await connect(client, '192.168.0.1', 5000)), 403, 'only a UDP cluster admits it');
  assert.equal(codeOf(await connect(client, PEER, 80)), 403, 'below the endpoint port range');
  assert.equal(codeOf(await connect(client, PEER, 10000)), 403, 'above the endpoint port range');
  assert.equal(relay.opened.length, 0);
  assert.equal(core.clusterStats('tcp-media').connections, 0);
});

test('Connect to a peer already connected, or being connected: 446', async () => {
  const { core, client, relay } = await tcpAllocated();
  relay.hold = true;
  const first = client.send(client.signed(Method.connect, (w) => w.add(XorPeerAddress, peerAddress(PEER, 5000))));
  assert.deepEqual(await first, [], 'no answer while connecting');
  assert.equal(codeOf(await connect(client, PEER, 5000)), 446);
  relay.release();
  await new Promise((resolve) => setImmediate(resolve));
  const [answer] = client.received();
  assert.equal(codeOf(answer), 200);
  assert.equal(codeOf(await connect(client, PEER, 5000)), 446, 'pending on ConnectionBind');
  assert.equal(codeOf(await connect(client, PEER, 5001)), 200, 'another port is another connection');
  assert.equal(core.clusterStats('tcp-media').connections, 2);
});

test('Connect that cannot reach the peer: 447, nothing left behind', async () => {
  const { core, client, relay, allocation } = await tcpAllocated();
  relay.refused.add(5000);
  assert.equal(codeOf(await connect(client, PEER, 5000)), 447);
  assert.equal(allocation.tcp!.connections.size, 0);
  assert.equal(core.clusterStats('tcp-media').connections, 0);
  relay.refused.clear();
  assert.equal(codeOf(await connect(client, PEER, 5000)), 200, 'a later attempt is not a duplicate');
});

test('Connect beyond max_permissions_per_allocation connections: 508', async () => {
  const { client } = await tcpAllocated({ ...TCP_CORE, limits: { maxPermissionsPerAllocation: 1 } });
  assert.equal(codeOf(await connect(client, PEER, 5000)), 200);
  assert.equal(codeOf(await connect(client, PEER, 5001)), 508);
});

test('ConnectionBind turns a new client connection into the data connection of a pending peer connection', async () => {
  const { core, client, relay } = await tcpAllocated();
  const id = (await connect(client, PEER, 5000)).get(ConnectionId)!;
  const data = core.client(undefined, undefined, CLIENT_IP, 'tcp');
  const res = await connectionBind(data, id);
  assert.equal(codeOf(res), 200);
  assert.ok(verifyMessageIntegrity(res, data.key));
  const peer = relay.opened[0];
  assert.equal(peer.boundTo, data.link);
  assert.equal(peer.flow?.cluster, core.clusterStats('tcp-media'));
  // Bound, it is no longer pending: a second ConnectionBind for it is refused, and the bind timeout spares it.
  assert.equal(codeOf(await connectionBind(core.client(undefined, undefined, CLIENT_IP, 'tcp'), id)), 400);
  core.elapse(CONNECTION_BIND_TIMEOUT_S + 1);
  assert.equal(peer.closed, false);
  assert.equal(core.clusterStats('tcp-media').connections, 1);
});

test('ConnectionBind errors: 400 on UDP, from a control connection, for an unknown id; 441 for another user', async () => {
  const core = new Core({ ...TCP_CORE, authenticator: () => new UserTable(REALM, { alice: 'a', bob: 'b' }) });
  const alice = core.client('alice', 'a', CLIENT_IP, 'tcp');
  assert.equal(codeOf(await alice.request(Method.allocate, tcp)), 200);
  const id = (await connect(alice, PEER, 5000)).get(ConnectionId)!;
  assert.equal(codeOf(await connectionBind(core.client('alice', 'a'), id)), 400, 'over UDP');
  assert.equal(codeOf(await connectionBind(alice, id)), 400, 'on the control connection');
  assert.equal(codeOf(await connectionBind(core.client('alice', 'a', CLIENT_IP, 'tcp'), (id ^ 1) >>> 0)), 400, 'unknown id');
  assert.equal(codeOf(await alice.request(Method.connectionBind, () => {})), 400, 'no CONNECTION-ID');
  const bob = core.client('bob', 'b', CLIENT_IP, 'tcp');
  assert.equal(codeOf(await connectionBind(bob, id)), 441);
  assert.equal(codeOf(await connectionBind(core.client('alice', 'a', CLIENT_IP, 'tcp'), id)), 200);
});

test('a peer data connection not bound within 30 s is closed', async () => {
  const { core, client, relay } = await tcpAllocated();
  const id = (await connect(client, PEER, 5000)).get(ConnectionId)!;
  core.elapse(CONNECTION_BIND_TIMEOUT_S - 1);
  assert.equal(relay.opened[0].closed, false);
  core.elapse(1);
  assert.equal(relay.opened[0].closed, true);
  assert.equal(core.clusterStats('tcp-media').connections, 0);
  assert.equal(core.server.tcpConnections.get(id), undefined);
  assert.equal(codeOf(await connectionBind(core.client(undefined, undefined, CLIENT_IP, 'tcp'), id)), 400);
});

test('an incoming peer connection with a permission is announced in a ConnectionAttempt indication', async () => {
  const { core, client, relay } = await tcpAllocated();
  const refused = relay.accept(PEER, 5000);
  assert.equal(refused.closed, true, 'no permission: closed at once');
  assert.equal(core.stats.drops[DROP.no_permission], 1);
  assert.equal(codeOf(await client.createPermission(PEER)), 200);
  assert.equal(relay.accept(PEER, 80).closed, true, 'outside the port range');
  assert.equal(core.stats.drops[DROP.forbidden_peer], 1);
  const accepted = relay.accept(PEER, 5000);
  assert.equal(accepted.closed, false);
  const [m] = client.received();
  assert.equal(m.cls, MessageClass.indication);
  assert.equal(m.method, Method.connectionAttempt);
  assert.deepEqual(m.get(XorPeerAddress), peerAddress(PEER, 5000));
  const id = m.get(ConnectionId)!;
  assert.equal(core.clusterStats('tcp-media').connections, 1);
  assert.equal(codeOf(await connectionBind(core.client(undefined, undefined, CLIENT_IP, 'tcp'), id)), 200);
  assert.ok(accepted.boundTo !== undefined);
  // The peer hangs up: the connection leaves every table and the gauge.
  accepted.peerClose();
  assert.equal(core.clusterStats('tcp-media').connections, 0);
  assert.equal(core.server.tcpConnections.get(id), undefined);
});

test('readmitAll closes peer data connections the new admission refuses, and moves the others', async () => {
  const { core, client, relay } = await tcpAllocated();
  await connect(client, PEER, 5000);
  await connect(client, '10.0.0.2', 5000);
  core.listener.admission = core.admission([
    { name: 'edge', protocol: 'TCP', endpoints: ['10.0.0.2/32'] }, { name: 'udp', endpoints: ['10.0.0.0/8'] },
  ]);
  core.server.readmitAll(core.listener);
  assert.deepEqual(relay.opened.map((c) => c.closed), [true, false]);
  assert.equal(core.clusterStats('tcp-media').connections, 0);
  assert.equal(core.clusterStats('edge').connections, 1);
  assert.equal(core.clusterStats('udp').connections, 0);
});

test('ChannelBind on a TCP allocation: 400; the allocation ends with its relay and peer connections', async () => {
  const { core, client, relay } = await tcpAllocated();
  const res = await client.channelBind(0x4000, PEER, 5000);
  assert.equal(codeOf(res), 400);
  assert.equal(res.get(ErrorCode)?.reason, 'TCP Allocation Has No Channels');
  await connect(client, PEER, 5000);
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(Lifetime, 0))), 200);
  assert.equal(relay.closed, true);
  assert.equal(relay.opened[0].closed, true);
  assert.equal(core.clusterStats('tcp-media').connections, 0);
  assert.equal(core.server.tcpConnections.size, 0);
  assert.equal(core.stats.allocationsActive, 0);
});

test('Refresh of a TCP allocation with the REQUESTED-ADDRESS-FAMILY of its relayed address: 200; the other: 443', async () => {
  const { client } = await tcpAllocated();
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(RequestedAddressFamily, FAMILY_IPV4))), 200);
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(RequestedAddressFamily, FAMILY_IPV6))), 443);
});
