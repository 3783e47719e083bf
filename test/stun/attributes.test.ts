// Round trips for every attribute codec in the ATTRIBUTES table: encode with StunWriter.add, decode with
// decodeStun + message.get, for every sample in attribute-samples.ts; plus the wire layout of the XOR
// addresses and ERROR-CODE, and getAll over repeated attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ATTRIBUTES, Attr, ERROR_REASONS, ErrorCode, Fingerprint, MessageClass, Method, Software, StunWriter,
  Realm, Username, XorMappedAddress, XorPeerAddress, decodeStun, errorCode, type AttributeCodec,
  type TransportAddress,
} from '../../src/stun/index.ts';
import { IPV4_ADDRESSES, IPV6_ADDRESSES, SAMPLES, plain } from './attribute-samples.ts';
import { referenceFingerprint } from './reference.ts';

const TID = Buffer.from('0102030405060708090a0b0c', 'hex');
const XOR_KEY = Buffer.concat([Buffer.from('2112a442', 'hex'), TID]);

function decodeOk(bytes: Uint8Array) {
  const r = decodeStun(bytes);
  assert.ok(r.ok, `decode failed: ${r.ok ? '' : r.reason}`);
  return r.message;
}

test('the ATTRIBUTES table holds every attribute type of the Attr constants, once, under its own type', () => {
  const declared = new Set<number>(Object.values(Attr));
  assert.deepEqual(new Set(ATTRIBUTES.keys()), declared);
  for (const [type, codec] of ATTRIBUTES) {
    assert.equal(codec.type, type);
    assert.match(codec.name, /^[A-Z0-9-]+$/);
  }
});

test('every attribute in the table has round-trip samples', () => {
  for (const [type, codec] of ATTRIBUTES) {
    assert.ok((SAMPLES.get(type)?.length ?? 0) > 0, `no samples for ${codec.name}`);
  }
});

for (const [type, codec] of ATTRIBUTES) {
  test(`${codec.name} round-trips through StunWriter.add and message.get`, () => {
    for (const value of SAMPLES.get(type) ?? []) {
      const label = `${codec.name} ${JSON.stringify(plain(value), (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      // The codec alone.
      const encoded = codec.encode(value, XOR_KEY);
      assert.ok(encoded !== undefined, `${label}: encode`);
      assert.deepEqual(plain(codec.decode(encoded, XOR_KEY)), plain(value), `${label}: codec round trip`);
      if (type === Attr.FINGERPRINT) continue; // a message carries only the correct CRC; see below

      // In a message, after a 3-byte comprehension-optional attribute so it starts after padding.
      const msg = new StunWriter(Method.allocate, MessageClass.request, TID)
        .addRaw(0x8fff, Buffer.from('abc'))
        .add(codec as AttributeCodec<unknown>, value)
        .finish();
      assert.equal(msg.length % 4, 0, label);
      const m = decodeOk(msg);
      assert.equal(m.has(type), true, label);
      assert.deepEqual(plain(m.get(codec)), plain(value), `${label}: message round trip`);
      assert.deepEqual(plain(m.getAll(codec)), [plain(value)], `${label}: getAll`);
      assert.deepEqual(Buffer.from(m.value(type)!), Buffer.from(encoded), `${label}: raw value`);
    }
  });
}

test('FINGERPRINT written by addFingerprint decodes to the CRC the reference computes', () => {
  const msg = new StunWriter(Method.binding, MessageClass.request, TID).add(Software, 'abc').addFingerprint().finish();
  const m = decodeOk(msg);
  assert.equal(m.get(Fingerprint), referenceFingerprint(msg, m.fingerprintOffset));
});

test('XOR address attributes: the wire value is port ^ 0x2112 and address ^ (cookie ‖ transaction id)', () => {
  for (const a of [...IPV4_ADDRESSES, ...IPV6_ADDRESSES]) {
    const v = XorPeerAddress.encode(a, XOR_KEY)!;
    assert.equal(v[0], 0);
    assert.equal(v[1], a.family === 4 ? 1 : 2);
    assert.equal(((v[2] << 8) | v[3]) ^ 0x2112, a.port);
    const ip = Uint8Array.from(v.subarray(4), (x, i) => x ^ XOR_KEY[i]);
    const expected = a.family === 4
      ? Buffer.from(a.address.split('.').map(Number))
      : ipv6Bytes(a.address);
    assert.deepEqual(Buffer.from(ip), expected, a.address);
  }
});

/** IPv6 text to bytes through URL parsing, independently of the codec's writeIPv6. */
function ipv6Bytes(text: string): Buffer {
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

test('an IPv6 XOR address decoded with another transaction id is a different address', () => {
  const a: TransportAddress = { family: 6, address: '2001:db8::1', port: 3478 };
  const other = Buffer.from(XOR_KEY);
  other[15] ^= 0xff;
  const v = XorMappedAddress.encode(a, XOR_KEY)!;
  assert.notDeepEqual(XorMappedAddress.decode(v, other), a);
  // IPv4 uses only the magic cookie, so the transaction id does not matter.
  const v4: TransportAddress = { family: 4, address: '192.0.2.1', port: 1 };
  assert.deepEqual(XorMappedAddress.decode(XorMappedAddress.encode(v4, XOR_KEY)!, other), v4);
});

test('ERROR-CODE standard reason phrases are those of RFC 8489 §14.8, RFC 8656 §19 and RFC 6062 §6.3', () => {
  const rfc: Record<number, string> = {
    300: 'Try Alternate', 400: 'Bad Request', 401: 'Unauthenticated', 403: 'Forbidden',
    405: 'Mobility Forbidden', 420: 'Unknown Attribute', 437: 'Allocation Mismatch', 438: 'Stale Nonce',
    440: 'Address Family not Supported', 441: 'Wrong Credentials', 442: 'Unsupported Transport Protocol',
    443: 'Peer Address Family Mismatch', 446: 'Connection Already Exists', 447: 'Connection Timeout or Failure',
    486: 'Allocation Quota Reached', 500: 'Server Error', 508: 'Insufficient Capacity',
  };
  assert.deepEqual(ERROR_REASONS, rfc);
  for (const [code, reason] of Object.entries(rfc)) {
    assert.deepEqual(errorCode(Number(code)), { code: Number(code), reason });
  }
  assert.deepEqual(errorCode(401, 'Unauthorized'), { code: 401, reason: 'Unauthorized' });
  assert.equal(errorCode(599).reason, 'Error');
});

test('ERROR-CODE wire layout: 21 zero bits, class, number, reason (RFC 8489 §14.8)', () => {
  const msg = new StunWriter(Method.allocate, MessageClass.errorResponse, TID).add(ErrorCode, errorCode(438)).finish();
  assert.deepEqual(msg.subarray(20, 24), Buffer.from([0x00, 0x09, 0x00, 4 + 11]));
  assert.deepEqual(msg.subarray(24, 28), Buffer.from([0x00, 0x00, 0x04, 38]));
  assert.equal(msg.subarray(28, 39).toString('utf8'), 'Stale Nonce');
  assert.equal(msg[39], 0); // one byte of zero padding
  assert.deepEqual(decodeOk(msg).get(ErrorCode), { code: 438, reason: 'Stale Nonce' });
});

test('getAll returns every XOR-PEER-ADDRESS in order; get returns the first', () => {
  const peers: TransportAddress[] = [IPV4_ADDRESSES[0], IPV6_ADDRESSES[0], IPV4_ADDRESSES[3], IPV6_ADDRESSES[3]];
  const w = new StunWriter(Method.createPermission, MessageClass.request, TID);
  for (const p of peers) w.add(XorPeerAddress, p).add(Software, 'between');
  const m = decodeOk(w.finish());
  assert.deepEqual(m.getAll(XorPeerAddress), peers);
  assert.deepEqual(m.get(XorPeerAddress), peers[0]);
  assert.deepEqual(m.getAll(XorMappedAddress), []);
  assert.equal(m.get(XorMappedAddress), undefined);
  assert.equal(m.has(Attr.XOR_MAPPED_ADDRESS), false);
});

test('getAll is undefined when one of the repeated attributes is malformed; get still returns the first', () => {
  const m = decodeOk(new StunWriter(Method.createPermission, MessageClass.request, TID)
    .add(XorPeerAddress, IPV4_ADDRESSES[0])
    .addRaw(Attr.XOR_PEER_ADDRESS, Uint8Array.of(0, 1, 0, 0, 1, 2, 3)) // 7 bytes: not an IPv4 address
    .finish());
  assert.equal(m.getAll(XorPeerAddress), undefined);
  assert.deepEqual(m.get(XorPeerAddress), IPV4_ADDRESSES[0]);
});

// Regression: TextDecoder strips a leading U+FEFF by default, so '\uFEFFalice' on the wire decoded as 'alice'.
test('text attributes and reason phrases keep a leading U+FEFF (no BOM stripping)', () => {
  const m = decodeOk(new StunWriter(Method.allocate, MessageClass.errorResponse, TID)
    .add(Username, '\uFEFFalice')
    .add(Realm, '\uFEFF')
    .add(ErrorCode, errorCode(400, '\uFEFFBad'))
    .finish());
  assert.equal(m.get(Username), '\uFEFFalice');
  assert.equal(m.get(Realm), '\uFEFF');
  assert.equal(m.get(ErrorCode)?.reason, '\uFEFFBad');
  assert.deepEqual(Buffer.from(m.value(Attr.USERNAME)!), Buffer.from('efbbbf616c696365', 'hex'));
});
