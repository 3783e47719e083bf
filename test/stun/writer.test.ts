// StunWriter (writer.ts): growth past its initial capacity, and the limits of the wire format, which it
// reports with EncodeError (code ERR_STUN_ENCODE) rather than writing a message a receiver cannot decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Data, EncodeError, MessageClass, Method, Software, StunWriter, decodeStun, newTransactionId,
} from '../../src/stun/index.ts';

const TID = Buffer.alloc(12, 9);

function isEncodeError(e: unknown): boolean {
  return e instanceof EncodeError && e.code === 'ERR_STUN_ENCODE';
}

test('a transaction id must be 12 bytes', () => {
  for (const n of [0, 11, 13, 16]) {
    assert.throws(() => new StunWriter(Method.binding, MessageClass.request, Buffer.alloc(n)), isEncodeError);
  }
  assert.equal(newTransactionId().length, 12);
  assert.notDeepEqual(newTransactionId(), newTransactionId());
});

test('the writer grows from any initial capacity and produces the same bytes', () => {
  const build = (capacity: number) => {
    const w = new StunWriter(Method.send, MessageClass.indication, TID, capacity);
    for (let i = 0; i < 50; i++) w.add(Software, 's'.repeat(i % 7));
    w.add(Data, new Uint8Array(3000).fill(7));
    return Buffer.from(w.addMessageIntegrity(Buffer.from('k')).addFingerprint().finish());
  };
  const reference = build(65536);
  for (const capacity of [0, 1, 20, 21, 64, 256, 4000]) assert.deepEqual(build(capacity), reference, `${capacity}`);
  assert.ok(decodeStun(reference).ok);
});

test('an attribute value longer than 65535 bytes is refused', () => {
  assert.throws(() => new StunWriter(Method.send, MessageClass.indication, TID).addRaw(0x13, new Uint8Array(0x10000)),
    isEncodeError);
});

test('the largest message that fits: 65535 - 3 bytes of attributes after the header, still decodable', () => {
  // DATA of 65524 bytes: 4 + 65524 = 65528 bytes of attributes, and 4 more of an empty attribute = 65532.
  const msg = new StunWriter(Method.send, MessageClass.indication, TID)
    .add(Data, new Uint8Array(65524))
    .addRaw(0x8fff, new Uint8Array(0))
    .finish();
  assert.equal(msg.length, 20 + 65532);
  assert.ok(decodeStun(msg).ok);
});

// Regression: a message whose attributes exceed the 16-bit length field threw a RangeError from
// Buffer.writeUInt16BE in finish() (or addFingerprint) instead of EncodeError from the attribute that overflowed.
test('attributes that would make the message longer than the 16-bit length field are refused', () => {
  const full = () => new StunWriter(Method.send, MessageClass.indication, TID).add(Data, new Uint8Array(65524));
  assert.throws(() => full().addRaw(0x8fff, new Uint8Array(1)), isEncodeError);
  assert.throws(() => full().add(Software, 'abcd'), isEncodeError);
  assert.throws(() => full().addFingerprint(), isEncodeError);
  assert.throws(() => full().addMessageIntegrity(Buffer.from('k')), isEncodeError);
  assert.throws(() => new StunWriter(Method.send, MessageClass.indication, TID)
    .add(Data, new Uint8Array(0xffff)).addRaw(0x8fff, new Uint8Array(0)), isEncodeError);
  // The writer is still usable after a refusal.
  const w = full();
  assert.throws(() => w.addFingerprint(), isEncodeError);
  const r = decodeStun(w.addRaw(0x8fff, new Uint8Array(0)).finish());
  assert.ok(r.ok);
});

// Regression: any length was accepted, producing a MESSAGE-INTEGRITY-SHA256 that no receiver can verify.
test('MESSAGE-INTEGRITY-SHA256 must be 16 to 32 bytes, a multiple of 4 (RFC 8489 §14.6)', () => {
  for (const length of [0, 4, 10, 12, 15, 17, 30, 33, 36, 64]) {
    assert.throws(() => new StunWriter(Method.allocate, MessageClass.request, TID)
      .addMessageIntegritySha256(Buffer.from('k'), length), isEncodeError, `length ${length}`);
  }
  for (const length of [16, 20, 24, 28, 32]) {
    new StunWriter(Method.allocate, MessageClass.request, TID).addMessageIntegritySha256(Buffer.from('k'), length);
  }
});
