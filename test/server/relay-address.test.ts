// Where listeners and relays bind and what relays advertise: an address this host has is bound and advertised as
// is; one it does not have (a node's external IP, NAT in front) is advertised and bound to the wildcard, as
// upstream stunnerd does; wildcards advertise an interface address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { isLocalAddress, listenerBindAddress, planRelayAddresses } from '../../src/server/relay-address.ts';

test('an address of this host is bound and advertised as is', () => {
  for (const a of ['127.0.0.1', '127.0.0.2', '::1']) {
    assert.equal(listenerBindAddress(a), a);
    const plan = planRelayAddresses(a);
    const family = a.includes(':') ? 6 : 4;
    assert.equal(plan.bind.get(family), a);
    assert.equal(plan.advertise.get(family), a);
  }
  const own = Object.values(networkInterfaces()).flat().find((i) => i !== undefined && !i.internal && i.family === 'IPv4');
  if (own !== undefined) assert.equal(listenerBindAddress(own.address), own.address);
});

test('an address in front of the host (not its own) is advertised and bound to the wildcard of its family', () => {
  assert.equal(isLocalAddress('203.0.113.7'), false);
  assert.equal(listenerBindAddress('203.0.113.7'), '0.0.0.0');
  const plan = planRelayAddresses('203.0.113.7');
  assert.deepEqual([...plan.bind], [[4, '0.0.0.0']]);
  assert.deepEqual([...plan.advertise], [[4, '203.0.113.7']]);
  assert.equal(listenerBindAddress('2001:db8::7'), '::');
  assert.deepEqual([...planRelayAddresses('2001:db8::7').advertise], [[6, '2001:db8::7']]);
});

test('wildcards stay wildcards', () => {
  assert.equal(listenerBindAddress('0.0.0.0'), '0.0.0.0');
  assert.equal(listenerBindAddress('::'), '::');
  assert.equal(planRelayAddresses('::').bind.get(6), '::');
});
