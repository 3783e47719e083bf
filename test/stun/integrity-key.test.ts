// Integrity keys as KeyObjects (crypto.createSecretKey): the same results as raw key bytes, for verifying
// and for writing. A server caches its keys this way because Node imports raw key bytes anew for every HMAC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import {
  MessageClass, Method, Nonce, Realm, StunWriter, Username, decodeStun, longTermKey, verifyMessageIntegrity,
  verifyMessageIntegritySha256, type IntegrityKey,
} from '../../src/stun/index.ts';
import {
  LONG_TERM_NONCE, LONG_TERM_PASSWORD, LONG_TERM_REALM, LONG_TERM_TRANSACTION_ID, LONG_TERM_USERNAME,
  RFC5769_LONG_TERM_REQUEST, RFC8489_SHA256_REQUEST,
} from './vectors.ts';

const md5 = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
const sha256 = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD, 'sha256');

test('verifyMessageIntegrity(-Sha256) accept a KeyObject key: RFC 5769 §2.4 and RFC 8489 B.1', () => {
  const a = decodeStun(RFC5769_LONG_TERM_REQUEST);
  assert.ok(a.ok);
  assert.equal(verifyMessageIntegrity(a.message, createSecretKey(md5)), true);
  assert.equal(verifyMessageIntegrity(a.message, createSecretKey(Buffer.from('wrong'))), false);
  const b = decodeStun(RFC8489_SHA256_REQUEST);
  assert.ok(b.ok);
  assert.equal(verifyMessageIntegritySha256(b.message, createSecretKey(sha256)), true);
  assert.equal(verifyMessageIntegritySha256(b.message, createSecretKey(md5)), false);
});

test('StunWriter writes the same MESSAGE-INTEGRITY(-SHA256) with a KeyObject key', () => {
  const write = (k1: IntegrityKey, k2: IntegrityKey) =>
    new StunWriter(Method.binding, MessageClass.request, LONG_TERM_TRANSACTION_ID)
      .add(Username, LONG_TERM_USERNAME).add(Nonce, LONG_TERM_NONCE).add(Realm, LONG_TERM_REALM)
      .addMessageIntegrity(k1).addMessageIntegritySha256(k2).addFingerprint().finish();
  const withBytes = write(md5, sha256);
  assert.deepEqual(write(createSecretKey(md5), createSecretKey(sha256)), withBytes);
  // And the first 116 bytes are the RFC 5769 §2.4 message itself (its length field aside).
  assert.deepEqual(withBytes.subarray(4, RFC5769_LONG_TERM_REQUEST.length), RFC5769_LONG_TERM_REQUEST.subarray(4));
});
