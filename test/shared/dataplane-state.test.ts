// The shared dataplane state as the main thread makes it: one set of relay port buffers per listener name,
// made on demand in the main thread only; a worker asking for a listener the main thread did not prepare is
// told so rather than given ports of its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSharedDataplaneState, relayPortBuffers, sharedRelays } from '../../src/shared/dataplane-state.ts';

describe('SharedDataplaneState', () => {
  it('relayPortBuffers makes a listener\'s buffers once; sharedRelays builds pools on them', () => {
    const state = createSharedDataplaneState();
    assert.ok(state.quota instanceof SharedArrayBuffer && state.challenges instanceof SharedArrayBuffer);
    assert.equal(state.nonceSecret.byteLength, 32);
    const buffers = relayPortBuffers(state, 'udp');
    assert.equal(relayPortBuffers(state, 'udp'), buffers);
    assert.notEqual(relayPortBuffers(state, 'tcp'), buffers);
    const l = { name: 'udp', min_relay_port: 40000, max_relay_port: 40001 };
    const one = sharedRelays(state, l);
    const other = sharedRelays(state, l);
    assert.equal(one.udp.ports.shared, true);
    const port = one.udp.ports.claim(4)!;
    assert.equal(other.udp.ports.claim(4), port === 40000 ? 40001 : 40000);
    assert.equal(other.udp.ports.claim(4), undefined);
    assert.notEqual(one.tcp.ports.claim(4), undefined, 'TCP relays have their own ports');
  });

  it('sharedRelays for a listener without buffers throws, naming the listener', () => {
    const state = createSharedDataplaneState();
    assert.throws(() => sharedRelays(state, { name: 'late', min_relay_port: 0, max_relay_port: 0 }), /listener late/);
  });

  it('survives structured clone: the buffers stay shared, the nonce key is copied', () => {
    const state = createSharedDataplaneState();
    relayPortBuffers(state, 'udp');
    const copy = structuredClone(state);
    const l = { name: 'udp', min_relay_port: 40000, max_relay_port: 40000 };
    assert.equal(sharedRelays(state, l).udp.ports.claim(4), 40000);
    assert.equal(sharedRelays(copy, l).udp.ports.claim(4), undefined);
    assert.deepEqual(Buffer.from(copy.nonceSecret), Buffer.from(state.nonceSecret));
  });
});
