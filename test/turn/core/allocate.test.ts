// Allocate on the pure core, RFC 8656 §7.2: every error the handler produces, retransmissions, lifetimes,
// address families, EVEN-PORT and RESERVATION-TOKEN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attr, FAMILY_IPV4, FAMILY_IPV6, Method, TRANSPORT_TCP, TRANSPORT_UDP,
} from '../../../src/stun/constants.ts';
import { XorMappedAddress, XorRelayedAddress } from '../../../src/stun/attributes/address.ts';
import { AddressErrorCode, UnknownAttributes } from '../../../src/stun/attributes/errors.ts';
import {
  AdditionalAddressFamily, DontFragment, EvenPort, Lifetime, RequestedAddressFamily, RequestedTransport,
} from '../../../src/stun/attributes/numeric.ts';
import { ReservationToken } from '../../../src/stun/attributes/opaque.ts';
import { verifyMessageIntegrity } from '../../../src/stun/integrity.ts';
import type { StunMessage } from '../../../src/stun/message.ts';
import type { StunWriter } from '../../../src/stun/writer.ts';
import { DROP } from '../../../src/stats/listener-stats.ts';
import { MemoryRelayAllocator, UserTable } from './fakes.ts';
import { CLIENT_IP, Core, REALM, codeOf, plainRequest, type CoreOptions } from './harness.ts';

interface ErrorCase {
  readonly name: string;
  readonly code: number;
  readonly core?: CoreOptions;
  /** The Allocate's attributes (REQUESTED-TRANSPORT is not added for you). */
  readonly build: (w: StunWriter) => void;
  readonly check?: (res: StunMessage) => void;
}

const udp = (w: StunWriter) => w.add(RequestedTransport, TRANSPORT_UDP);

const errors: ErrorCase[] = [
  { name: 'no REQUESTED-TRANSPORT', code: 400, build: () => {} },
  { name: 'a malformed REQUESTED-TRANSPORT', code: 400, build: (w) => w.addRaw(Attr.REQUESTED_TRANSPORT, Uint8Array.of(17)) },
  {
    name: 'both RESERVATION-TOKEN and EVEN-PORT', code: 400,
    build: (w) => udp(w).add(ReservationToken, Buffer.alloc(8, 1)).add(EvenPort, { reserve: false }),
  },
  {
    name: 'RESERVATION-TOKEN with REQUESTED-ADDRESS-FAMILY', code: 400,
    build: (w) => udp(w).add(ReservationToken, Buffer.alloc(8, 1)).add(RequestedAddressFamily, FAMILY_IPV4),
  },
  {
    name: 'REQUESTED-ADDRESS-FAMILY with ADDITIONAL-ADDRESS-FAMILY', code: 400, core: { families: [4, 6] },
    build: (w) => udp(w).add(RequestedAddressFamily, FAMILY_IPV4).add(AdditionalAddressFamily, FAMILY_IPV6),
  },
  {
    name: 'ADDITIONAL-ADDRESS-FAMILY asking for IPv4', code: 400, core: { families: [4, 6] },
    build: (w) => udp(w).add(AdditionalAddressFamily, FAMILY_IPV4),
  },
  { name: 'a malformed EVEN-PORT', code: 400, build: (w) => udp(w).addRaw(Attr.EVEN_PORT, Uint8Array.of(0, 0)) },
  {
    name: 'DONT-FRAGMENT (Node cannot set DF)', code: 420,
    build: (w) => udp(w).add(DontFragment, true),
    check: (res) => assert.deepEqual(res.get(UnknownAttributes), [Attr.DONT_FRAGMENT]),
  },
  {
    name: 'REQUESTED-ADDRESS-FAMILY IPv6 on an IPv4-only listener', code: 440,
    build: (w) => udp(w).add(RequestedAddressFamily, FAMILY_IPV6),
  },
  {
    name: 'REQUESTED-ADDRESS-FAMILY of an unknown family', code: 440, core: { families: [4, 6] },
    build: (w) => udp(w).add(RequestedAddressFamily, 0x03),
  },
  { name: 'REQUESTED-TRANSPORT TCP on a UDP relay', code: 442, build: (w) => w.add(RequestedTransport, TRANSPORT_TCP) },
  { name: 'REQUESTED-TRANSPORT of another protocol', code: 442, build: (w) => w.add(RequestedTransport, 132) },
  { name: 'no relay port free', code: 508, core: { capacity: 0 }, build: udp },
  { name: 'an unknown RESERVATION-TOKEN', code: 508, build: (w) => udp(w).add(ReservationToken, Buffer.alloc(8, 7)) },
];

for (const c of errors) {
  test(`Allocate with ${c.name}: ${c.code}`, async () => {
    const core = new Core(c.core);
    const client = core.client();
    await client.challenge();
    const res = await client.exchange(client.signed(Method.allocate, c.build));
    assert.equal(codeOf(res), c.code);
    assert.ok(verifyMessageIntegrity(res, client.key), 'an authenticated error is signed');
    c.check?.(res);
    assert.equal(core.stats.allocationsActive, 0);
    assert.equal(core.stats.connections, 0, 'no 5-tuple stays attached');
    assert.equal(core.server.quota.total, 0, 'no quota stays taken');
    assert.equal(core.relays.open, 0, 'no relay socket stays open');
    assert.deepEqual(core.requests(), { 'allocate 401': 1, [`allocate ${c.code}`]: 1 });
  });
}

test('an unknown comprehension-required attribute: 420 listing it in UNKNOWN-ATTRIBUTES, before authentication', async () => {
  const core = new Core();
  const client = core.client();
  const res = await client.exchange(plainRequest(Method.allocate, (w) => {
    udp(w).addRaw(0x0031, Uint8Array.of(1, 2, 3, 4)).addRaw(0x8077, Uint8Array.of(0)).addRaw(0x7f00, new Uint8Array(0));
  }));
  assert.equal(codeOf(res), 420);
  // Comprehension-optional 0x8077 is ignored; both unknown comprehension-required types are listed.
  assert.deepEqual(res.get(UnknownAttributes), [0x0031, 0x7f00]);
  assert.deepEqual(core.requests(), { 'allocate 420': 1 });
});

test('a successful Allocate: relayed and mapped addresses, LIFETIME, attached 5-tuple, stats', async () => {
  const core = new Core();
  const client = core.client();
  const res = await client.allocate();
  const relay = core.relays.sockets[0];
  assert.deepEqual(res.getAll(XorRelayedAddress), [relay.address]);
  assert.equal(relay.address.address, MemoryRelayAllocator.ADDRESS[4]);
  assert.deepEqual(res.get(XorMappedAddress), { family: 4, address: CLIENT_IP, port: client.link.remotePort });
  assert.equal(res.get(Lifetime), 600);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.equal(core.stats.allocationsActive, 1);
  assert.equal(core.stats.connections, 1);
  assert.equal(core.stats.connectionsTotal, 1);
  assert.equal(core.server.quota.usage('alice'), 1);
  assert.ok(core.listener.lookup(client.link) !== undefined);
});

test('a second Allocate on the same 5-tuple with a new transaction: 437; the allocation stays', async () => {
  const core = new Core();
  const client = core.client();
  await client.allocate();
  const res = await client.allocateRequest();
  assert.equal(codeOf(res), 437);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.equal(core.stats.allocationsActive, 1);
  assert.equal(core.relays.open, 1);
  assert.deepEqual(core.requests(), { 'allocate 401': 1, 'allocate 200': 1, 'allocate 437': 1 });
});

test('a retransmitted Allocate (same transaction id) gets the identical success response back', async () => {
  const core = new Core();
  const client = core.client();
  await client.challenge();
  const request = client.signed(Method.allocate, udp, { fingerprint: true });
  await client.exchange(request);
  const first = client.link.sent.at(-1)!;
  core.now += 300;
  const again = await client.exchange(request);
  assert.deepEqual(client.link.sent.at(-1), first, 'byte for byte the same response');
  assert.equal(codeOf(again), 200);
  assert.equal(core.relays.open, 1, 'no second relay');
  assert.equal(core.server.quota.total, 1);
  assert.deepEqual(core.requests(), { 'allocate 401': 1, 'allocate 200': 1 });
});

const lifetimes: { requested: number | undefined; granted: number }[] = [
  { requested: undefined, granted: 600 },
  { requested: 0, granted: 600 },
  { requested: 30, granted: 600 },
  { requested: 1200, granted: 1200 },
  { requested: 3600, granted: 3600 },
  { requested: 99999, granted: 3600 },
];

for (const l of lifetimes) {
  test(`Allocate LIFETIME ${l.requested ?? 'absent'} is granted ${l.granted}`, async () => {
    const core = new Core();
    const client = core.client();
    const res = await client.allocate((w) => {
      if (l.requested !== undefined) w.add(Lifetime, l.requested);
    });
    assert.equal(res.get(Lifetime), l.granted);
    const allocation = core.listener.lookup(client.link)!;
    assert.equal(allocation.expiresAt - core.now, l.granted * 1000);
  });
}

test('486: user_quota counts allocations per user id and frees them when they end', async () => {
  const core = new Core({ limits: { userQuota: 1 } });
  const first = core.client();
  await first.allocate();
  const second = core.client();
  const res = await second.allocateRequest();
  assert.equal(codeOf(res), 486);
  assert.ok(verifyMessageIntegrity(res, second.key));
  assert.equal(core.stats.drops[DROP.quota], 1, 'counted as a quota drop');
  assert.equal(core.stats.connections, 1);
  assert.equal(codeOf(await first.request(Method.refresh, (w) => w.add(Lifetime, 0))), 200);
  assert.equal(codeOf(await second.allocateRequest()), 200);
});

test('486: max_allocations caps allocations across users', async () => {
  const core = new Core({
    limits: { maxAllocations: 1 },
    authenticator: () => new UserTable(REALM, { alice: 'a', bob: 'b' }),
  });
  await core.client('alice', 'a').allocate();
  const bob = core.client('bob', 'b');
  assert.equal(codeOf(await bob.allocateRequest()), 486);
  const { authenticator, realm, limits } = core.server;
  core.server.update({ authenticator, realm, limits: { ...limits, maxAllocations: 2 } });
  assert.equal(codeOf(await bob.allocateRequest()), 200);
});

test('486 while draining; existing allocations keep working', async () => {
  const core = new Core();
  const old = core.client();
  await old.allocate();
  core.server.draining = true;
  const res = await core.client().allocateRequest();
  assert.equal(codeOf(res), 486);
  assert.equal(codeOf(await old.request(Method.refresh)), 200);
  assert.equal(core.stats.allocationsActive, 1);
});

test('508 when the relay capacity is exhausted; the quota and 5-tuple are released', async () => {
  const core = new Core({ capacity: 1, limits: { userQuota: 5 } });
  const first = core.client();
  await first.allocate();
  const late = core.client();
  const res = await late.allocateRequest();
  assert.equal(codeOf(res), 508);
  assert.equal(core.server.quota.usage('alice'), 1);
  assert.equal(core.listener.lookup(late.link), undefined);
  assert.equal(core.stats.connections, 1);
  assert.equal(core.stats.allocationDuration.count, 0, 'an allocation that never became active is not recorded');
  // Once the first one is gone, its port is free again.
  assert.equal(codeOf(await first.request(Method.refresh, (w) => w.add(Lifetime, 0))), 200);
  assert.equal(core.relays.open, 0);
  assert.equal(codeOf(await late.allocateRequest()), 200);
});

test('EVEN-PORT gives an even port; with R it reserves the next one for a RESERVATION-TOKEN, once', async () => {
  const core = new Core();
  const plain = await core.client().allocate();
  assert.equal(plain.get(XorRelayedAddress)!.port % 2, 1, 'the fake hands out an odd port first');
  const even = await core.client().allocate((w) => w.add(EvenPort, { reserve: false }));
  assert.equal(even.get(XorRelayedAddress)!.port % 2, 0);
  assert.equal(even.get(ReservationToken), undefined);

  const held = await core.client().allocate((w) => w.add(EvenPort, { reserve: true }));
  const port = held.get(XorRelayedAddress)!.port;
  assert.equal(port % 2, 0);
  const token = held.get(ReservationToken);
  assert.ok(token !== undefined && token.length === 8);
  const claimer = core.client();
  const claimed = await claimer.allocate((w) => w.add(ReservationToken, Buffer.from(token)));
  assert.equal(claimed.get(XorRelayedAddress)!.port, port + 1);
  assert.equal(codeOf(await core.client().allocateRequest((w) => w.add(ReservationToken, Buffer.from(token)))), 508,
    'a token is redeemed once');
});

test('dual stack: ADDITIONAL-ADDRESS-FAMILY IPv6 gives an IPv4 and an IPv6 relayed address', async () => {
  const core = new Core({ families: [4, 6] });
  const res = await core.client().allocate((w) => w.add(AdditionalAddressFamily, FAMILY_IPV6));
  assert.deepEqual(res.getAll(XorRelayedAddress)!.map((a) => a.family), [4, 6]);
  assert.equal(res.get(AddressErrorCode), undefined);
  assert.equal(core.relays.open, 2);
});

test('ADDITIONAL-ADDRESS-FAMILY on an IPv4-only listener: IPv4 relay plus ADDRESS-ERROR-CODE 440 for IPv6', async () => {
  const core = new Core();
  const res = await core.client().allocate((w) => w.add(AdditionalAddressFamily, FAMILY_IPV6));
  assert.deepEqual(res.getAll(XorRelayedAddress)!.map((a) => a.family), [4]);
  const e = res.get(AddressErrorCode);
  assert.equal(e?.code, 440);
  assert.equal(e?.family, FAMILY_IPV6);
});

test('REQUESTED-ADDRESS-FAMILY IPv6 on a dual-stack listener relays on IPv6 only', async () => {
  const core = new Core({ families: [4, 6] });
  const res = await core.client().allocate((w) => w.add(RequestedAddressFamily, FAMILY_IPV6));
  assert.deepEqual(res.getAll(XorRelayedAddress), [{ family: 6, address: MemoryRelayAllocator.ADDRESS[6], port: 49153 }]);
});
