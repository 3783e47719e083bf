// XOR-MAPPED-ADDRESS of an IPv4 client on a dual-stack (::) listener, which sees it as ::ffff:a.b.c.d: the client
// learns the IPv4 address it sent from (found by test-netns), in Binding and Allocate answers; IPv6 clients as is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method } from '../../../src/stun/constants.ts';
import { XorMappedAddress } from '../../../src/stun/attributes/address.ts';
import { ALICE, Core, codeOf, plainRequest } from './harness.ts';

for (const [seen, learned] of [
  ['::ffff:198.51.100.7', { family: 4, address: '198.51.100.7' }],
  ['::FFFF:203.0.113.9', { family: 4, address: '203.0.113.9' }],
  ['2001:db8::7', { family: 6, address: '2001:db8::7' }],
  ['198.51.100.8', { family: 4, address: '198.51.100.8' }],
] as const) {
  test(`a client seen as ${seen} learns ${learned.address} (family ${learned.family})`, async () => {
    const core = new Core({ families: [4, 6] });
    const client = core.client(ALICE.username, ALICE.password, seen);
    const binding = await client.exchange(plainRequest(Method.binding));
    assert.equal(codeOf(binding), 200);
    assert.deepEqual(binding.get(XorMappedAddress), { ...learned, port: client.link.remotePort });
    const allocate = await client.allocate();
    assert.deepEqual(allocate.get(XorMappedAddress), { ...learned, port: client.link.remotePort });
  });
}
