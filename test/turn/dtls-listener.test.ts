// TURN-DTLS listener through real sockets with werift-dtls's client: the association is the 5-tuple and a
// downstream connection, decrypted datagrams are counted and take the UDP path, the allocation ends with the
// association, and datagrams the DTLS layer drops are counted as malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { MessageClass, Method, TRANSPORT_UDP } from '../../src/stun/constants.ts';
import { RequestedTransport } from '../../src/stun/attributes/numeric.ts';
import { Nonce, Realm, Username } from '../../src/stun/attributes/text.ts';
import { ErrorCode } from '../../src/stun/attributes/errors.ts';
import { longTermKey } from '../../src/stun/integrity.ts';
import { decodeStun, type StunMessage } from '../../src/stun/message.ts';
import { StunWriter } from '../../src/stun/writer.ts';
import { DROP } from '../../src/stats/listener-stats.ts';
import { PASS, USER } from '../helpers/gateway.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';
import { startTransportListener } from '../helpers/transport-listener.ts';
import { connectWeriftClient, type WeriftPeer } from '../dtls/helpers.ts';

async function exchange(peer: WeriftPeer, request: Buffer): Promise<StunMessage> {
  peer.client.send(request);
  const r = decodeStun(await peer.nextData());
  assert.ok(r.ok);
  return r.message;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('an association: counted, allocates over DTLS, and its close deletes the allocation', async () => {
  const t = await startTransportListener('TURN-DTLS', {}, makeTestCert());
  const peer = await connectWeriftClient(t.port);
  try {
    await eventually(() => t.stats.connections === 1, 'the association to be a downstream connection');
    const binding = new StunWriter(Method.binding, MessageClass.request).finish();
    const answer = await exchange(peer, binding);
    assert.equal(answer.cls, MessageClass.successResponse);
    assert.equal(t.stats.rxPackets, 1);
    assert.equal(t.stats.rxBytes, binding.length, 'bytes are the decrypted datagram');
    assert.equal(t.stats.txPackets, 1);

    const challenge = await exchange(peer, new StunWriter(Method.allocate, MessageClass.request)
      .add(RequestedTransport, TRANSPORT_UDP).finish());
    assert.equal(challenge.get(ErrorCode)?.code, 401);
    const realm = challenge.get(Realm)!;
    const w = new StunWriter(Method.allocate, MessageClass.request).add(RequestedTransport, TRANSPORT_UDP)
      .add(Username, USER).add(Realm, realm).add(Nonce, challenge.get(Nonce)!);
    w.addMessageIntegrity(longTermKey(USER, realm, PASS));
    const allocated = await exchange(peer, w.finish());
    assert.equal(allocated.cls, MessageClass.successResponse);
    assert.equal(t.stats.allocationsActive, 1);

    // A client restarting on the same address and port replaces the association (RFC 6347 §4.2.8); werift's
    // client sends no close_notify, so this is how the association ends here.
    const again = await connectWeriftClient(t.port, peer.socket);
    await eventually(() => t.stats.allocationsActive === 0, 'the allocation to end with its association');
    assert.equal(t.server.allocations.size, 0);
    assert.equal(t.stats.connections, 1);
    assert.equal(t.stats.connectionsTotal, 2);
    again.close();
  } finally {
    peer.close();
    await t.stop();
  }
});

test('an association without an allocation is closed when idle', async () => {
  const t = await startTransportListener('TURN-DTLS', { idleTimeoutMs: 300 }, makeTestCert());
  const idle = await connectWeriftClient(t.port);
  try {
    await eventually(() => t.stats.connections === 1, 'the association');
    await eventually(() => t.stats.connections === 0, 'the idle association to close', 3000);
  } finally {
    idle.close();
    await t.stop();
  }
});

test('datagrams the DTLS layer drops are counted as malformed drops of the listener', async () => {
  const t = await startTransportListener('TURN-DTLS', {}, makeTestCert());
  const s = createSocket('udp4');
  try {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 3; i++) s.send(Buffer.from('not a DTLS record'), t.port, '127.0.0.1');
    // Mirrored by the listener's once-a-second sweep.
    await eventually(() => t.stats.drops[DROP.malformed] === 3, 'three malformed drops');
    assert.equal(t.stats.rxPackets, 0, 'nothing reached TURN');
  } finally {
    s.close();
    await t.stop();
  }
});

test('associations beyond the cap are closed as they complete', async () => {
  const t = await startTransportListener('TURN-DTLS', { maxConnections: 1 }, makeTestCert());
  const first = await connectWeriftClient(t.port);
  const second = await connectWeriftClient(t.port);
  try {
    await second.closed;
    assert.equal(t.stats.connections, 1);
    assert.equal(t.stats.connectionsTotal, 1);
    const answer = await exchange(first, new StunWriter(Method.binding, MessageClass.request).finish());
    assert.equal(answer.cls, MessageClass.successResponse, 'the first one still works');
  } finally {
    first.close();
    second.close();
    await t.stop();
  }
});
