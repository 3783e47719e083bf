// werift-dtls's ECDHE runs on node:crypto: the same keys and secrets as werift's own JavaScript (tweetnacl X25519,
// @noble/curves P-256), in werift's formats, with degenerate or malformed peer keys refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  CURVE_P256, CURVE_X25519, generateKeyPair, preMasterSecret, weriftGenerateKeyPair, weriftPreMasterSecret,
} from '../../src/server/dtls/native-key-exchange.ts';
import { prepareEngine } from '../../src/server/dtls/handshake-engine.ts';

const require = createRequire(import.meta.url);
// What DtlsServer.listen() does first: check werift-dtls and install the native functions into it.
prepareEngine();

test('werift\'s flights call the native functions', () => {
  const namedCurve = require('werift-dtls/lib/dtls/src/cipher/namedCurve.js') as { generateKeyPair: unknown };
  const prf = require('werift-dtls/lib/dtls/src/cipher/prf.js') as { prfPreMasterSecret: unknown };
  assert.equal(namedCurve.generateKeyPair, generateKeyPair);
  assert.equal(prf.prfPreMasterSecret, preMasterSecret);
});

for (const [name, curve, publicLength] of [['X25519', CURVE_X25519, 32], ['P-256', CURVE_P256, 65]] as const) {
  test(`${name}: native and werift's JavaScript agree on the premaster secret, both ways`, () => {
    // 600 rounds: one P-256 private key in 256 has a leading zero byte, which must not shorten it.
    for (let i = 0; i < 600; i++) {
      const ours = generateKeyPair(curve);
      const theirs = weriftGenerateKeyPair(curve);
      assert.equal(ours.curve, curve);
      assert.equal(ours.publicKey.length, publicLength);
      assert.equal(ours.privateKey.length, 32);
      const a = preMasterSecret(theirs.publicKey, ours.privateKey, curve);
      const b = weriftPreMasterSecret(ours.publicKey, theirs.privateKey, curve);
      assert.equal(a.length, 32);
      assert.deepEqual(a, b);
      // A private key werift kept as a copy (not the buffer we handed out) still works.
      assert.deepEqual(preMasterSecret(theirs.publicKey, Buffer.from(ours.privateKey), curve), a);
    }
  });
}

test('P-256: a private key with a leading zero byte keeps its 32 bytes and its secret', () => {
  const scalar = Buffer.concat([Buffer.alloc(1), Buffer.alloc(31, 0x11)]);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar);
  assert.equal(ecdh.getPrivateKey().length, 31, 'node:crypto drops the leading zero');
  const theirs = weriftGenerateKeyPair(CURVE_P256);
  assert.deepEqual(preMasterSecret(theirs.publicKey, scalar, CURVE_P256),
    weriftPreMasterSecret(ecdh.getPublicKey(), theirs.privateKey, CURVE_P256));
});

test('degenerate and malformed peer keys are refused (werift then fails that handshake)', () => {
  const x = generateKeyPair(CURVE_X25519);
  // The all-zero point gives the all-zero secret (RFC 7748 §6.1); tweetnacl would have accepted it.
  assert.throws(() => preMasterSecret(Buffer.alloc(32), x.privateKey, CURVE_X25519));
  assert.throws(() => preMasterSecret(Buffer.alloc(31, 9), x.privateKey, CURVE_X25519));
  const p = generateKeyPair(CURVE_P256);
  assert.throws(() => preMasterSecret(Buffer.alloc(65, 4), p.privateKey, CURVE_P256), /not valid/);
  assert.throws(() => preMasterSecret(Buffer.alloc(10), p.privateKey, CURVE_P256));
});
