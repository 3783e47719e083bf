// decodeStun's failure reasons (message.ts): each one produced by the smallest message that shows it, with
// the partly decoded message where a server can still answer; and RFC 8489 §14.5/§14.6: attributes after
// MESSAGE-INTEGRITY(-SHA256) are ignored except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  Attr, ErrorCode, MessageClass, Method, Realm, Software, StunWriter, UnknownAttributes, Username, decodeStun,
  errorCode, verifyMessageIntegrity, verifyMessageIntegritySha256, type DecodeResult,
} from '../../src/stun/index.ts';

const TID = Buffer.from('a1a2a3a4a5a6a7a8a9aaabac', 'hex');

function request(): StunWriter {
  return new StunWriter(Method.allocate, MessageClass.request, TID);
}

function fails(r: DecodeResult, reason: string, withMessage: boolean): void {
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.reason, reason);
  assert.equal(r.message !== undefined, withMessage, `message ${withMessage ? 'expected' : 'not expected'}`);
}

test('truncated: shorter than a header, or than the length field says', () => {
  const full = request().add(Software, 'abcd').finish();
  for (let n = 0; n < 20; n++) {
    fails(decodeStun(full.subarray(0, n)), 'truncated', false);
    fails(decodeStun(full.subarray(0, n), false), 'truncated', false);
  }
  for (let n = 20; n < full.length; n += 4) {
    fails(decodeStun(full.subarray(0, n)), 'truncated', false);
    fails(decodeStun(full.subarray(0, n), false), 'truncated', false);
  }
  assert.ok(decodeStun(full).ok);
});

test('not-stun: the first two bits are not 0b00', () => {
  const msg = request().finish();
  for (const first of [0x40, 0x7f, 0x80, 0xc0, 0xff]) {
    const b = Buffer.from(msg);
    b[0] = first;
    fails(decodeStun(b), 'not-stun', false);
    fails(decodeStun(b, false), 'not-stun', false);
  }
});

test('bad-length: a length that is not a multiple of 4, or trailing bytes in a datagram', () => {
  const msg = request().add(Software, 'abcd').finish();
  for (let len = 1; len < 8; len++) {
    if (len % 4 === 0) continue;
    const b = Buffer.from(msg);
    b.writeUInt16BE(len, 2);
    fails(decodeStun(b), 'bad-length', false);
  }
  for (const extra of [1, 3, 4, 100]) {
    const b = Buffer.concat([msg, Buffer.alloc(extra, 0xee)]);
    fails(decodeStun(b), 'bad-length', false);
    // In stream mode the trailing bytes belong to the next frame.
    const r = decodeStun(b, false);
    assert.ok(r.ok);
    assert.equal(r.message.raw.length, msg.length);
    assert.equal(r.message.get(Software), 'abcd');
  }
});

test('bad-cookie: anything but 0x2112A442', () => {
  const msg = request().finish();
  for (let bit = 0; bit < 32; bit++) {
    const b = Buffer.from(msg);
    b[4 + (bit >> 3)] ^= 1 << (bit & 7);
    fails(decodeStun(b), 'bad-cookie', false);
  }
});

test('bad-attribute: an attribute that overruns the message, with the header decoded', () => {
  const msg = request().add(Software, 'abcd').add(Realm, 'r').finish();
  for (const len of [13, 17, 0x100, 0xffff]) {
    const b = Buffer.from(msg);
    b.writeUInt16BE(len, 22); // SOFTWARE's length
    fails(decodeStun(b), 'bad-attribute', true);
  }
  // The last attribute's value fits but its padding would not.
  const b = Buffer.from(msg);
  b.writeUInt16BE(5, 30); // REALM: 5 bytes + 3 padding past the end
  const r = decodeStun(b);
  fails(r, 'bad-attribute', true);
  assert.equal(r.message?.method, Method.allocate);
  assert.deepEqual(Buffer.from(r.message!.transactionId), TID);
});

test('bad-fingerprint: a wrong CRC, a wrong length, or an attribute after FINGERPRINT', () => {
  const msg = request().add(Software, 'abcd').addFingerprint().finish();
  assert.ok(decodeStun(msg).ok);
  const wrongCrc = Buffer.from(msg);
  wrongCrc[wrongCrc.length - 1] ^= 0x80;
  fails(decodeStun(wrongCrc), 'bad-fingerprint', true);

  const wrongLength = Buffer.concat([msg.subarray(0, msg.length - 8), Buffer.from('80280008', 'hex'), Buffer.alloc(8)]);
  wrongLength.writeUInt16BE(wrongLength.length - 20, 2);
  fails(decodeStun(wrongLength), 'bad-fingerprint', true);

  // An attribute after FINGERPRINT, with the CRC computed so that only the position is wrong.
  const after = Buffer.concat([msg, Buffer.from('80220000', 'hex')]);
  after.writeUInt16BE(after.length - 20, 2);
  const fp = msg.length - 8;
  after.writeUInt32BE((crc32(after.subarray(0, fp)) ^ 0x5354554e) >>> 0, fp + 4);
  fails(decodeStun(after), 'bad-fingerprint', true);
});

test('unknown-attributes: comprehension-required types listed in order, the message kept for a 420', () => {
  const key = Buffer.from('secret');
  const msg = request()
    .add(Username, 'alice')
    .addRaw(0x0030, Uint8Array.of(1))
    .addRaw(0x8fff, Uint8Array.of(2)) // comprehension-optional: silently ignored
    .addRaw(0x7fff, new Uint8Array(0))
    .addMessageIntegrity(key)
    .addRaw(0x0031, new Uint8Array(4)) // after MESSAGE-INTEGRITY: ignored, not reported
    .addFingerprint()
    .finish();
  const r = decodeStun(msg);
  fails(r, 'unknown-attributes', true);
  assert.ok(!r.ok);
  assert.deepEqual(r.unknown, [0x0030, 0x7fff]);
  const m = r.message!;
  assert.equal(m.get(Username), 'alice');
  assert.equal(verifyMessageIntegrity(m, key), true);

  // What a server does with it: a 420 error response listing them (RFC 8489 §6.3.1.1).
  const answer = new StunWriter(m.method, MessageClass.errorResponse, m.transactionId)
    .add(ErrorCode, errorCode(420))
    .add(UnknownAttributes, r.unknown!)
    .finish();
  const a = decodeStun(answer);
  assert.ok(a.ok);
  assert.deepEqual(a.message.get(ErrorCode), { code: 420, reason: 'Unknown Attribute' });
  assert.deepEqual(a.message.get(UnknownAttributes), [0x0030, 0x7fff]);
  assert.deepEqual(a.message.transactionId, m.transactionId);
});

test('only comprehension-optional unknown attributes: the message decodes', () => {
  const r = decodeStun(request().addRaw(0x8000 + 0x7ff, new Uint8Array(3)).addRaw(0xffff, new Uint8Array(0)).finish());
  assert.ok(r.ok);
  assert.equal(r.message.has(0xffff), true);
});

test('a bad fingerprint outranks unknown attributes', () => {
  const msg = request().addRaw(0x0030, new Uint8Array(0)).addFingerprint().finish();
  fails(decodeStun(msg), 'unknown-attributes', true);
  msg[msg.length - 1] ^= 1;
  fails(decodeStun(msg), 'bad-fingerprint', true);
});

test('attributes after MESSAGE-INTEGRITY are ignored except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT', () => {
  const key = Buffer.from('short-term key');
  const msg = request()
    .add(Username, 'alice')
    .addMessageIntegrity(key)
    .add(Realm, 'injected')
    .addRaw(Attr.MESSAGE_INTEGRITY, new Uint8Array(20)) // a second MESSAGE-INTEGRITY: ignored too
    .add(Username, 'mallory')
    .addMessageIntegritySha256(key)
    .addFingerprint()
    .finish();
  const r = decodeStun(msg);
  assert.ok(r.ok);
  const m = r.message;
  assert.deepEqual(m.attrs.filter((_, i) => i % 3 === 0), [Attr.USERNAME, Attr.MESSAGE_INTEGRITY,
    Attr.MESSAGE_INTEGRITY_SHA256, Attr.FINGERPRINT]);
  assert.equal(m.has(Attr.REALM), false);
  assert.equal(m.get(Realm), undefined);
  assert.deepEqual(m.getAll(Username), ['alice']);
  assert.equal(m.integrityOffset, 20 + 12);
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyMessageIntegritySha256(m, key), true);
});

test('attributes after MESSAGE-INTEGRITY-SHA256 are ignored except FINGERPRINT (RFC 8489 §14.6)', () => {
  const key = Buffer.from('k');
  const msg = request()
    .addMessageIntegritySha256(key)
    .addRaw(Attr.MESSAGE_INTEGRITY, new Uint8Array(20))
    .add(Software, 'late')
    .addFingerprint()
    .finish();
  const r = decodeStun(msg);
  assert.ok(r.ok);
  assert.equal(r.message.integrityOffset, -1);
  assert.equal(r.message.has(Attr.SOFTWARE), false);
  assert.equal(verifyMessageIntegrity(r.message, key), false);
  assert.equal(verifyMessageIntegritySha256(r.message, key), true);
  assert.equal(r.message.fingerprintOffset, msg.length - 8);
});

test('verification of a message without integrity attributes is false, not a throw', () => {
  const r = decodeStun(request().finish());
  assert.ok(r.ok);
  assert.equal(verifyMessageIntegrity(r.message, Buffer.from('k')), false);
  assert.equal(verifyMessageIntegritySha256(r.message, Buffer.from('k')), false);
});
