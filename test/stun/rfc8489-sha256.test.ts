// RFC 8489 Appendix B.1: a request with USERHASH, PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256 —
// the SHA-256 path of long-term credentials (§9.2.2 key, §14.4 USERHASH, §14.6 HMAC-SHA256).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  Attr, MessageClass, MessageIntegritySha256, Method, Nonce, PASSWORD_ALGORITHM_SHA256, PasswordAlgorithm, Realm,
  StunWriter, UserHash, decodeStun, longTermKey, verifyMessageIntegrity, verifyMessageIntegritySha256,
} from '../../src/stun/index.ts';
import {
  LONG_TERM_PASSWORD, LONG_TERM_REALM, LONG_TERM_TRANSACTION_ID, LONG_TERM_USERNAME, RFC8489_NONCE,
  RFC8489_SHA256_REQUEST,
} from './vectors.ts';
import { referenceHmac, tlvs } from './reference.ts';

const sha256Key = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD, 'sha256');

test("longTermKey 'sha256' is SHA-256 of username:realm:password; 'md5' is the default", () => {
  assert.equal(sha256Key.length, 32);
  assert.deepEqual(longTermKey('user', 'realm', 'pass', 'sha256'),
    createHash('sha256').update('user:realm:pass').digest());
  assert.deepEqual(longTermKey('user', 'realm', 'pass'), createHash('md5').update('user:realm:pass').digest());
  // UTF-8, not Latin-1: the RFC's username is non-ASCII.
  assert.deepEqual(longTermKey(LONG_TERM_USERNAME, 'r', 'p', 'sha256'),
    createHash('sha256').update(Buffer.from(`${LONG_TERM_USERNAME}:r:p`, 'utf8')).digest());
});

test('the independent reference reproduces the RFC 8489 B.1 HMAC-SHA256', () => {
  const mi = tlvs(RFC8489_SHA256_REQUEST).find((a) => a.type === Attr.MESSAGE_INTEGRITY_SHA256)!;
  assert.deepEqual(referenceHmac(RFC8489_SHA256_REQUEST, mi.offset, 32, 'sha256', sha256Key),
    Buffer.from(RFC8489_SHA256_REQUEST.subarray(mi.offset + 4)));
});

test('RFC 8489 B.1 decodes with every attribute value', () => {
  const r = decodeStun(RFC8489_SHA256_REQUEST);
  assert.ok(r.ok);
  const m = r.message;
  assert.equal(m.method, Method.binding);
  assert.equal(m.cls, MessageClass.request);
  assert.deepEqual(Buffer.from(m.transactionId), LONG_TERM_TRANSACTION_ID);
  assert.deepEqual(m.attrs.filter((_, i) => i % 3 === 0), [Attr.USERHASH, Attr.NONCE, Attr.REALM,
    Attr.PASSWORD_ALGORITHM, Attr.MESSAGE_INTEGRITY_SHA256]);
  // RFC 8489 §14.4: USERHASH = SHA-256(OpaqueString(username) ":" OpaqueString(realm)).
  assert.deepEqual(Buffer.from(m.get(UserHash)!),
    createHash('sha256').update(`${LONG_TERM_USERNAME}:${LONG_TERM_REALM}`).digest());
  assert.equal(m.get(Nonce), RFC8489_NONCE);
  assert.equal(m.get(Realm), LONG_TERM_REALM);
  const alg = m.get(PasswordAlgorithm)!;
  assert.equal(alg.algorithm, PASSWORD_ALGORITHM_SHA256);
  assert.equal(alg.parameters.length, 0);
  assert.equal(m.get(MessageIntegritySha256)!.length, 32);
  assert.equal(m.integrityOffset, -1);
  assert.equal(m.integritySha256Offset, RFC8489_SHA256_REQUEST.length - 36);
});

test('RFC 8489 B.1 MESSAGE-INTEGRITY-SHA256 verifies with the SHA-256 key only', () => {
  const r = decodeStun(RFC8489_SHA256_REQUEST);
  assert.ok(r.ok);
  assert.equal(verifyMessageIntegritySha256(r.message, sha256Key), true);
  assert.equal(verifyMessageIntegritySha256(r.message,
    longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD, 'md5')), false);
  assert.equal(verifyMessageIntegritySha256(r.message,
    longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, 'TheMatrix', 'sha256')), false);
  // There is no SHA-1 MESSAGE-INTEGRITY to verify.
  assert.equal(verifyMessageIntegrity(r.message, sha256Key), false);
});

test('RFC 8489 B.1 re-encodes with StunWriter byte for byte', () => {
  const out = new StunWriter(Method.binding, MessageClass.request, LONG_TERM_TRANSACTION_ID)
    .add(UserHash, createHash('sha256').update(`${LONG_TERM_USERNAME}:${LONG_TERM_REALM}`).digest())
    .add(Nonce, RFC8489_NONCE)
    .add(Realm, LONG_TERM_REALM)
    .add(PasswordAlgorithm, { algorithm: PASSWORD_ALGORITHM_SHA256, parameters: new Uint8Array(0) })
    .addMessageIntegritySha256(sha256Key)
    .finish();
  assert.deepEqual(out, RFC8489_SHA256_REQUEST);
});

test('truncated MESSAGE-INTEGRITY-SHA256 (16..28 bytes) round-trips and verifies; the wrong key fails', () => {
  for (const length of [16, 20, 24, 28, 32]) {
    const msg = new StunWriter(Method.allocate, MessageClass.request, LONG_TERM_TRANSACTION_ID)
      .add(Realm, LONG_TERM_REALM)
      .addMessageIntegritySha256(sha256Key, length)
      .addFingerprint()
      .finish();
    const r = decodeStun(msg);
    assert.ok(r.ok, `length ${length}`);
    assert.equal(r.message.get(MessageIntegritySha256)!.length, length);
    assert.equal(verifyMessageIntegritySha256(r.message, sha256Key), true, `length ${length}`);
    assert.equal(verifyMessageIntegritySha256(r.message, Buffer.alloc(32)), false, `length ${length}`);
    const off = r.message.integritySha256Offset;
    assert.deepEqual(referenceHmac(msg, off, length, 'sha256', sha256Key), msg.subarray(off + 4, off + 4 + length));
  }
});

test('MESSAGE-INTEGRITY followed by MESSAGE-INTEGRITY-SHA256: both verify (RFC 8489 §14.5)', () => {
  const md5Key = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
  const msg = new StunWriter(Method.allocate, MessageClass.request, LONG_TERM_TRANSACTION_ID)
    .add(Realm, LONG_TERM_REALM)
    .addMessageIntegrity(md5Key)
    .addMessageIntegritySha256(sha256Key)
    .addFingerprint()
    .finish();
  const r = decodeStun(msg);
  assert.ok(r.ok);
  assert.equal(verifyMessageIntegrity(r.message, md5Key), true);
  assert.equal(verifyMessageIntegritySha256(r.message, sha256Key), true);
  assert.equal(verifyMessageIntegritySha256(r.message, md5Key), false);
});
