// RFC 5769 test vectors, byte for byte: decoding, every attribute value, MESSAGE-INTEGRITY with the right and
// a wrong key, FINGERPRINT, and re-encoding with StunWriter.
//
// Re-encoding and padding: RFC 8489 §14 lets a sender put any value in padding bytes and the RFC 5769 vectors
// §2.1-§2.3 use 0x20, while StunWriter always pads with zeros. Both checksums cover the padding, so the writer
// cannot reproduce those three messages byte for byte, and must not: it has no way to be told a padding value.
// For them the test compares the writer's output with the RFC bytes after setting the padding to zero and
// recomputing MESSAGE-INTEGRITY and FINGERPRINT with the independent reference (reference.ts), and checks that
// this reference reproduces the RFC's own checksums from the original bytes. §2.4 pads with zeros and is
// compared unmodified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attr, IceControlled, MessageClass, Method, Nonce, Priority, Realm, Software, StunWriter, Username,
  XorMappedAddress, decodeStun, longTermKey, verifyMessageIntegrity, type StunMessage,
} from '../../src/stun/index.ts';
import {
  LONG_TERM_NONCE, LONG_TERM_PASSWORD, LONG_TERM_REALM, LONG_TERM_TRANSACTION_ID, LONG_TERM_USERNAME,
  RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE, RFC5769_LONG_TERM_REQUEST, RFC5769_REQUEST, SAMPLE_PASSWORD,
  SAMPLE_TRANSACTION_ID,
} from './vectors.ts';
import { referenceFingerprint, referenceHmac, tlvs, withZeroPadding } from './reference.ts';

const shortTermKey = Buffer.from(SAMPLE_PASSWORD, 'utf8');
const wrongKey = Buffer.from('VOkJxbRl1RmTxUk/WvJxBu', 'utf8');

function decoded(bytes: Uint8Array): StunMessage {
  const r = decodeStun(bytes);
  assert.ok(r.ok, `decode failed: ${r.ok ? '' : r.reason}`);
  return r.message;
}

function types(m: StunMessage): number[] {
  return m.attrs.filter((_, i) => i % 3 === 0);
}

/** Offsets of the padding bytes of every attribute. */
function paddingOffsets(msg: Uint8Array): number[] {
  const out: number[] = [];
  for (const a of tlvs(msg)) {
    const end = a.offset + 4 + a.length;
    for (let i = end; i < end + ((4 - (a.length % 4)) % 4); i++) out.push(i);
  }
  return out;
}

test('the independent reference reproduces every checksum printed in RFC 5769', () => {
  const cases: [Uint8Array, Uint8Array][] = [
    [RFC5769_REQUEST, shortTermKey], [RFC5769_IPV4_RESPONSE, shortTermKey], [RFC5769_IPV6_RESPONSE, shortTermKey],
    [RFC5769_LONG_TERM_REQUEST, longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD)],
  ];
  for (const [msg, key] of cases) {
    const attrs = tlvs(msg);
    const mi = attrs.find((a) => a.type === Attr.MESSAGE_INTEGRITY);
    assert.ok(mi);
    assert.deepEqual(referenceHmac(msg, mi.offset, 20, 'sha1', key), Buffer.from(msg.subarray(mi.offset + 4, mi.offset + 24)));
    const fp = attrs.find((a) => a.type === Attr.FINGERPRINT);
    if (fp !== undefined) {
      assert.equal(referenceFingerprint(msg, fp.offset), Buffer.from(msg).readUInt32BE(fp.offset + 4));
    }
  }
});

test('RFC 5769 §2.1 sample request decodes with every attribute value', () => {
  const m = decoded(RFC5769_REQUEST);
  assert.equal(m.method, Method.binding);
  assert.equal(m.cls, MessageClass.request);
  assert.deepEqual(Buffer.from(m.transactionId), SAMPLE_TRANSACTION_ID);
  assert.deepEqual(types(m), [Attr.SOFTWARE, Attr.PRIORITY, Attr.ICE_CONTROLLED, Attr.USERNAME,
    Attr.MESSAGE_INTEGRITY, Attr.FINGERPRINT]);
  assert.equal(m.get(Software), 'STUN test client');
  assert.equal(m.get(Priority), 0x6e0001ff);
  assert.equal(m.get(IceControlled), 0x932ff9b151263b36n);
  // The value excludes the three 0x20 padding bytes.
  assert.equal(m.get(Username), 'evtj:h6vY');
  assert.equal(m.integrityOffset, 20 + 20 + 8 + 12 + 16);
  assert.equal(m.fingerprintOffset, RFC5769_REQUEST.length - 8);
});

test('RFC 5769 §2.1 MESSAGE-INTEGRITY verifies with the password and fails with a wrong one', () => {
  const m = decoded(RFC5769_REQUEST);
  assert.equal(verifyMessageIntegrity(m, shortTermKey), true);
  assert.equal(verifyMessageIntegrity(m, wrongKey), false);
  assert.equal(verifyMessageIntegrity(m, Buffer.alloc(0)), false);
});

test('RFC 5769 §2.1: the HMAC covers the 0x20 padding, so changing a padding byte breaks integrity', () => {
  const pad = paddingOffsets(RFC5769_REQUEST);
  assert.equal(pad.length, 3);
  for (const p of pad) assert.equal(RFC5769_REQUEST[p], 0x20);
  const changed = Buffer.from(RFC5769_REQUEST);
  changed[pad[0]] = 0;
  // FINGERPRINT now fails first: it too covers the padding.
  const r = decodeStun(changed);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'bad-fingerprint');
  assert.ok(!r.ok && r.message !== undefined);
  assert.equal(verifyMessageIntegrity(r.message!, shortTermKey), false);
});

test('RFC 5769 §2.1 re-encodes with StunWriter to the RFC bytes with zero padding', () => {
  const out = new StunWriter(Method.binding, MessageClass.request, SAMPLE_TRANSACTION_ID)
    .add(Software, 'STUN test client')
    .add(Priority, 0x6e0001ff)
    .add(IceControlled, 0x932ff9b151263b36n)
    .add(Username, 'evtj:h6vY')
    .addMessageIntegrity(shortTermKey)
    .addFingerprint()
    .finish();
  assert.deepEqual(out, withZeroPadding(RFC5769_REQUEST, shortTermKey));
  // Only the padding and the two checksums over it differ from the RFC's bytes.
  const { integrityOffset: mi, fingerprintOffset: fp } = decoded(RFC5769_REQUEST);
  const differs = [...out.keys()].filter((i) => out[i] !== RFC5769_REQUEST[i]);
  assert.ok(differs.length > 0);
  for (const i of differs) {
    assert.ok(paddingOffsets(RFC5769_REQUEST).includes(i) || (i >= mi + 4 && i < mi + 24) || i >= fp + 4,
      `byte ${i} differs outside padding and checksums`);
  }
  assert.ok(decodeStun(out).ok);
});

for (const [name, bytes, family, address] of [
  ['§2.2 IPv4', RFC5769_IPV4_RESPONSE, 4, '192.0.2.1'],
  ['§2.3 IPv6', RFC5769_IPV6_RESPONSE, 6, '2001:db8:1234:5678:11:2233:4455:6677'],
] as const) {
  test(`RFC 5769 ${name} response decodes, verifies and re-encodes`, () => {
    const m = decoded(bytes);
    assert.equal(m.method, Method.binding);
    assert.equal(m.cls, MessageClass.successResponse);
    assert.deepEqual(Buffer.from(m.transactionId), SAMPLE_TRANSACTION_ID);
    assert.deepEqual(types(m), [Attr.SOFTWARE, Attr.XOR_MAPPED_ADDRESS, Attr.MESSAGE_INTEGRITY, Attr.FINGERPRINT]);
    // SOFTWARE is 11 bytes, "test vector"; the 12th byte on the wire is a 0x20 padding byte.
    assert.equal(m.get(Software), 'test vector');
    assert.deepEqual(paddingOffsets(bytes).map((i) => bytes[i]), [0x20]);
    assert.deepEqual(m.get(XorMappedAddress), { family, address, port: 32853 });
    assert.equal(verifyMessageIntegrity(m, shortTermKey), true);
    assert.equal(verifyMessageIntegrity(m, wrongKey), false);

    const out = new StunWriter(Method.binding, MessageClass.successResponse, SAMPLE_TRANSACTION_ID)
      .add(Software, 'test vector')
      .add(XorMappedAddress, { family, address, port: 32853 })
      .addMessageIntegrity(shortTermKey)
      .addFingerprint()
      .finish();
    assert.deepEqual(out, withZeroPadding(bytes, shortTermKey));
    // The XOR-MAPPED-ADDRESS encoding, the part the RFC tests, is identical to the RFC's bytes.
    const at = tlvs(bytes).find((a) => a.type === Attr.XOR_MAPPED_ADDRESS)!;
    assert.deepEqual(out.subarray(at.offset, at.offset + 4 + at.length),
      Buffer.from(bytes.subarray(at.offset, at.offset + 4 + at.length)));
  });
}

test('RFC 5769 §2.4 long-term request decodes and verifies with MD5(username:realm:password)', () => {
  const m = decoded(RFC5769_LONG_TERM_REQUEST);
  assert.equal(m.method, Method.binding);
  assert.equal(m.cls, MessageClass.request);
  assert.deepEqual(Buffer.from(m.transactionId), LONG_TERM_TRANSACTION_ID);
  assert.deepEqual(types(m), [Attr.USERNAME, Attr.NONCE, Attr.REALM, Attr.MESSAGE_INTEGRITY]);
  assert.equal(m.get(Username), LONG_TERM_USERNAME);
  assert.equal(m.get(Username), 'マトリックス');
  assert.equal(m.get(Nonce), LONG_TERM_NONCE);
  assert.equal(m.get(Realm), LONG_TERM_REALM);
  assert.equal(m.fingerprintOffset, -1);

  const key = longTermKey(m.get(Username)!, m.get(Realm)!, LONG_TERM_PASSWORD);
  assert.equal(key.length, 16);
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyMessageIntegrity(m, longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, 'TheMatrix')), false);
  assert.equal(verifyMessageIntegrity(m, longTermKey(LONG_TERM_USERNAME, 'example.com', LONG_TERM_PASSWORD)), false);
  // The SHA-256 key of the same credentials is a different (32-byte) key and does not verify SHA-1 integrity.
  assert.equal(verifyMessageIntegrity(m, longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD,
    'sha256')), false);
});

test('RFC 5769 §2.4 re-encodes with StunWriter byte for byte (its padding is zero)', () => {
  const key = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
  const out = new StunWriter(Method.binding, MessageClass.request, LONG_TERM_TRANSACTION_ID)
    .add(Username, LONG_TERM_USERNAME)
    .add(Nonce, LONG_TERM_NONCE)
    .add(Realm, LONG_TERM_REALM)
    .addMessageIntegrity(key)
    .finish();
  assert.deepEqual(out, RFC5769_LONG_TERM_REQUEST);
});

test('a corrupted byte anywhere before MESSAGE-INTEGRITY fails verification (RFC 5769 §2.4)', () => {
  const key = longTermKey(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
  const miOffset = RFC5769_LONG_TERM_REQUEST.length - 24;
  // Skip the type/length/cookie words, whose corruption makes the message undecodable instead.
  for (let i = 8; i < miOffset; i++) {
    const bad = Buffer.from(RFC5769_LONG_TERM_REQUEST);
    bad[i] ^= 0x01;
    const m = decodeStun(bad).message;
    if (m === undefined) continue;
    assert.equal(verifyMessageIntegrity(m, key), false, `flip at byte ${i} still verifies`);
  }
});

test('RFC 5769 FINGERPRINT: a flipped CRC bit is reported as bad-fingerprint with the message', () => {
  for (const v of [RFC5769_REQUEST, RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE]) {
    for (let bit = 0; bit < 32; bit++) {
      const bad = Buffer.from(v);
      bad[v.length - 4 + (bit >> 3)] ^= 1 << (bit & 7);
      const r = decodeStun(bad);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, 'bad-fingerprint');
      assert.ok(!r.ok && r.message !== undefined);
    }
  }
});
