// Refresh on the pure core, RFC 8656 §8.2: 437, 443, 400, lifetime clamping, and deletion by LIFETIME 0.
// Also the requests the core answers 400 without a handler: unknown methods, Connect outside TCP, and
// requests whose attributes overrun the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILY_IPV4, FAMILY_IPV6, Method } from '../../../src/stun/constants.ts';
import { Lifetime, RequestedAddressFamily } from '../../../src/stun/attributes/numeric.ts';
import { verifyMessageIntegrity } from '../../../src/stun/integrity.ts';
import { DROP } from '../../../src/stats/listener-stats.ts';
import { Core, codeOf, plainRequest } from './harness.ts';

test('Refresh without an allocation: 437', async () => {
  const core = new Core();
  const client = core.client();
  const res = await client.request(Method.refresh);
  assert.equal(codeOf(res), 437);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.deepEqual(core.requests(), { 'allocate 401': 1, 'refresh 437': 1 });
});

const lifetimes: { requested: number | undefined; granted: number }[] = [
  { requested: undefined, granted: 600 },
  { requested: 30, granted: 600 },
  { requested: 601, granted: 601 },
  { requested: 99999, granted: 3600 },
];

for (const l of lifetimes) {
  test(`Refresh LIFETIME ${l.requested ?? 'absent'} is granted ${l.granted} from now`, async () => {
    const core = new Core();
    const client = core.client();
    await client.allocate();
    core.now += 200_000;
    const res = await client.request(Method.refresh, (w) => {
      if (l.requested !== undefined) w.add(Lifetime, l.requested);
    });
    assert.equal(codeOf(res), 200);
    assert.equal(res.get(Lifetime), l.granted);
    assert.ok(verifyMessageIntegrity(res, client.key));
    assert.equal(core.listener.lookup(client.link)!.expiresAt, core.now + l.granted * 1000);
  });
}

test('Refresh LIFETIME 0 deletes the allocation at once, and its duration is recorded', async () => {
  const core = new Core();
  const client = core.client();
  await client.allocate();
  assert.equal(codeOf(await client.createPermission('10.0.0.1')), 200);
  assert.equal(core.clusterStats().connections, 1);
  const relay = core.relays.sockets[0];
  core.now += 42_000;
  const res = await client.request(Method.refresh, (w) => w.add(Lifetime, 0));
  assert.equal(codeOf(res), 200);
  assert.equal(res.get(Lifetime), 0);
  assert.equal(core.stats.allocationsActive, 0);
  assert.equal(core.stats.connections, 0);
  assert.equal(core.clusterStats().connections, 0, 'its permissions close with it');
  assert.equal(relay.closed, true);
  assert.equal(core.server.quota.total, 0);
  const h = core.stats.allocationDuration;
  assert.equal(h.count, 1);
  assert.equal(h.sum, 42);
  assert.equal(h.counts[h.boundaries.indexOf(60)], 1, 'in the (30, 60] bucket');
  // The 5-tuple is free: a Refresh is now 437, and a new Allocate succeeds.
  assert.equal(codeOf(await client.request(Method.refresh)), 437);
  assert.equal(codeOf(await client.allocateRequest()), 200);
});

test('Refresh with a REQUESTED-ADDRESS-FAMILY the allocation does not have: 443', async () => {
  const core = new Core({ families: [4, 6] });
  const client = core.client();
  await client.allocate();
  const res = await client.request(Method.refresh, (w) => w.add(RequestedAddressFamily, FAMILY_IPV6));
  assert.equal(codeOf(res), 443);
  assert.ok(verifyMessageIntegrity(res, client.key));
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(RequestedAddressFamily, 0x07))), 443);
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.add(RequestedAddressFamily, FAMILY_IPV4))), 200);
});

test('Refresh with a malformed LIFETIME: 400, the allocation unchanged', async () => {
  const core = new Core();
  const client = core.client();
  await client.allocate();
  const expiresAt = core.listener.lookup(client.link)!.expiresAt;
  core.now += 1000;
  assert.equal(codeOf(await client.request(Method.refresh, (w) => w.addRaw(0x000d, Uint8Array.of(0, 0)))), 400);
  assert.equal(core.listener.lookup(client.link)!.expiresAt, expiresAt);
});

test('requests with no handler are answered 400: an unknown method (uncounted), Connect on a UDP listener', async () => {
  const core = new Core();
  const client = core.client();
  assert.equal(codeOf(await client.exchange(plainRequest(0x0123))), 400);
  assert.equal(codeOf(await client.exchange(plainRequest(Method.connect))), 400);
  assert.equal(codeOf(await client.exchange(plainRequest(Method.connectionBind))), 400);
  assert.deepEqual(core.requests(), { 'connect 400': 1, 'connection_bind 400': 1 });
});

test('a request whose attribute overruns the message is answered 400 and counted malformed', async () => {
  const core = new Core();
  const client = core.client();
  const req = plainRequest(Method.binding, (w) => w.addRaw(0x8022, Buffer.from('abcd')));
  req.writeUInt16BE(200, 22); // SOFTWARE claims 200 bytes; the message has 4
  assert.equal(codeOf(await client.exchange(req)), 400);
  assert.equal(core.stats.drops[DROP.malformed], 1);
  // Not a request: a broken indication or response gets no answer.
  const indication = Buffer.from(req);
  indication[1] |= 0x10;
  assert.deepEqual(await client.send(indication), []);
  assert.equal(core.stats.drops[DROP.malformed], 2);
});
