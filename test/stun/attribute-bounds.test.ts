// Boundary cases of the attribute codecs: the largest values the RFCs allow decode, one byte more does not,
// malformed lengths decode to undefined (never throw), and values that cannot be encoded make StunWriter.add
// throw EncodeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressErrorCode, AlternateDomain, ChannelNumber, ConnectionId, Data, DontFragment, EncodeError, ErrorCode,
  EvenPort, IceControlled, IceControlling, Icmp, Lifetime, MappedAddress, MessageClass, MessageIntegrity,
  MessageIntegritySha256, Method, Nonce, PasswordAlgorithm, PasswordAlgorithms, Priority, Realm,
  RequestedAddressFamily, RequestedTransport, ReservationToken, Software, StunWriter, UnknownAttributes,
  UseCandidate, UserHash, Username, XorMappedAddress, XorPeerAddress, decodeStun, type AttributeCodec,
} from '../../src/stun/index.ts';

const KEY = Buffer.from('2112a442000102030405060708090a0b', 'hex');
const len = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill);

function rejects(codec: AttributeCodec<unknown>, value: Uint8Array, why: string): void {
  assert.equal(codec.decode(value, KEY), undefined, `${codec.name}: ${why}`);
  // The same value inside a message: get() is undefined although has() is true.
  const r = decodeStun(new StunWriter(Method.allocate, MessageClass.request).addRaw(codec.type, value).finish());
  assert.ok(r.ok, `${codec.name}: ${why}: the message itself is well-formed`);
  assert.equal(r.message.has(codec.type), true);
  assert.equal(r.message.get(codec), undefined, `${codec.name}: ${why} (in a message)`);
  assert.equal(r.message.getAll(codec), undefined, `${codec.name}: ${why} (getAll)`);
}

function accepts(codec: AttributeCodec<unknown>, value: Uint8Array, why: string): void {
  assert.notEqual(codec.decode(value, KEY), undefined, `${codec.name}: ${why}`);
}

function cannotEncode<T>(codec: AttributeCodec<T>, value: T, why: string): void {
  assert.equal(codec.encode(value, KEY), undefined, `${codec.name}: ${why}`);
  assert.throws(() => new StunWriter(Method.allocate, MessageClass.request).add(codec, value),
    (e: unknown) => e instanceof EncodeError && e.code === 'ERR_STUN_ENCODE', `${codec.name}: ${why}`);
}

test('address attributes: only 8 (IPv4) and 20 (IPv6) byte values of family 1 or 2 decode', () => {
  for (const codec of [MappedAddress, XorMappedAddress, XorPeerAddress]) {
    for (const n of [0, 1, 3, 4, 7]) rejects(codec, Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0).subarray(0, n), `IPv4 length ${n}`);
    rejects(codec, Uint8Array.of(0, 1, 0, 0, 1, 2, 3, 4, 0), 'IPv4 length 9');
    rejects(codec, Uint8Array.of(0, 1, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0), 'IPv4 family with 12 bytes');
    const v6 = new Uint8Array(20);
    v6[1] = 2;
    accepts(codec, v6, 'IPv6 length 20');
    rejects(codec, v6.subarray(0, 19), 'IPv6 length 19');
    rejects(codec, Uint8Array.from([...v6, 0, 0, 0, 0]), 'IPv6 length 24');
    rejects(codec, Uint8Array.of(0, 2, 0, 0, 1, 2, 3, 4), 'IPv6 family with 8 bytes');
    for (const family of [0, 3, 0xff]) rejects(codec, Uint8Array.of(0, family, 0, 0, 1, 2, 3, 4), `family ${family}`);
  }
  // The reserved first byte is ignored (RFC 8489 §14.1: "MUST be set to 0 and MUST be ignored").
  accepts(MappedAddress, Uint8Array.of(0xff, 1, 0, 1, 1, 2, 3, 4), 'non-zero reserved byte');
});

test('address attributes: address text that is not an IP of the given family cannot be encoded', () => {
  for (const address of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-1', ' 1.2.3.4', '2001:db8::1']) {
    cannotEncode(XorPeerAddress, { family: 4, address, port: 1 }, `IPv4 "${address}"`);
  }
  for (const address of ['', '1.2.3.4', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1',
    '1:2:3:4:5:6:7::8', '::1.2.3', ':1::', '1::2:']) {
    cannotEncode(XorPeerAddress, { family: 6, address, port: 1 }, `IPv6 "${address}"`);
  }
});

test('USERNAME: 512 bytes decode, 513 do not (RFC 8489 §14.3: "less than 513 bytes")', () => {
  accepts(Username, len(512), '512 bytes');
  rejects(Username, len(513), '513 bytes');
  cannotEncode(Username, 'u'.repeat(513), '513 bytes');
  cannotEncode(Username, '€'.repeat(171), '513 bytes of 3-byte characters');
});

test('REALM, NONCE, SOFTWARE: fewer than 128 characters and at most 763 bytes', () => {
  for (const codec of [Realm, Nonce, Software]) {
    accepts(codec, Buffer.from('x'.repeat(127)), '127 characters');
    rejects(codec, Buffer.from('x'.repeat(128)), '128 characters');
    accepts(codec, Buffer.from('😀'.repeat(127)), '127 four-byte characters (508 bytes)');
    rejects(codec, Buffer.from('😀'.repeat(128)), '128 four-byte characters');
    rejects(codec, len(764), '764 bytes');
    cannotEncode(codec, 'x'.repeat(128), '128 characters');
    cannotEncode(codec, '😀'.repeat(128), '128 four-byte characters');
  }
  accepts(AlternateDomain, len(255), '255 bytes');
  rejects(AlternateDomain, len(256), '256 bytes');
});

test('text attributes: bytes that are not UTF-8 do not decode', () => {
  const invalid: [string, number[]][] = [
    ['lone continuation byte', [0x80]], ['0xff', [0x61, 0xff]], ['overlong NUL', [0xc0, 0x80]],
    ['truncated 3-byte sequence', [0xe3, 0x83]], ['UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];
  for (const codec of [Username, Realm, Nonce, Software, AlternateDomain]) {
    for (const [why, b] of invalid) rejects(codec, Uint8Array.from(b), why);
  }
  for (const [why, b] of invalid) rejects(ErrorCode, Uint8Array.from([0, 0, 4, 0, ...b]), `reason: ${why}`);
});

test('32-bit attributes: exactly 4 bytes; values 0..2^32-1', () => {
  for (const codec of [Lifetime, ConnectionId, Priority]) {
    for (const n of [0, 3, 5, 8]) rejects(codec, len(n), `length ${n}`);
    accepts(codec, len(4, 0xff), '0xffffffff');
    for (const v of [-1, 2 ** 32, 1.5, Number.NaN, Infinity]) cannotEncode(codec, v, `value ${v}`);
  }
});

test('CHANNEL-NUMBER, REQUESTED-TRANSPORT, REQUESTED-ADDRESS-FAMILY: 4 bytes with the value in front', () => {
  for (const codec of [ChannelNumber, RequestedTransport, RequestedAddressFamily]) {
    for (const n of [0, 1, 2, 3, 5, 8]) rejects(codec, len(n), `length ${n}`);
  }
  assert.equal(ChannelNumber.decode(Uint8Array.of(0x40, 0x01, 0xff, 0xff), KEY), 0x4001); // RFFU ignored
  assert.equal(RequestedTransport.decode(Uint8Array.of(17, 1, 2, 3), KEY), 17);
  cannotEncode(ChannelNumber, 0x10000, '0x10000');
  cannotEncode(ChannelNumber, -1, '-1');
  cannotEncode(RequestedTransport, 256, '256');
  cannotEncode(RequestedAddressFamily, 1.5, '1.5');
});

test('EVEN-PORT: 1 byte (as drawn in RFC 8656 §18.6) or 4 bytes (padded in value); nothing else', () => {
  assert.deepEqual(EvenPort.decode(Uint8Array.of(0x80), KEY), { reserve: true });
  assert.deepEqual(EvenPort.decode(Uint8Array.of(0x7f, 0, 0, 0), KEY), { reserve: false });
  for (const n of [0, 2, 3, 5]) rejects(EvenPort, len(n), `length ${n}`);
});

test('DONT-FRAGMENT and USE-CANDIDATE: empty values only', () => {
  for (const codec of [DontFragment, UseCandidate]) {
    accepts(codec, new Uint8Array(0), 'empty');
    for (const n of [1, 4]) rejects(codec, len(n), `length ${n}`);
  }
});

test('fixed-size opaque attributes reject every other length', () => {
  const cases: [AttributeCodec<Uint8Array>, number[], number[]][] = [
    [ReservationToken, [8], [0, 7, 9, 16]],
    [UserHash, [32], [0, 31, 33, 64]],
    [MessageIntegrity, [20], [0, 16, 19, 21, 32]],
    [MessageIntegritySha256, [16, 20, 24, 28, 32], [0, 4, 12, 15, 17, 18, 30, 33, 36, 64]],
  ];
  for (const [codec, ok, bad] of cases) {
    for (const n of ok) accepts(codec, len(n), `length ${n}`);
    for (const n of bad) {
      assert.equal(codec.decode(len(n), KEY), undefined, `${codec.name}: length ${n}`);
      cannotEncode(codec, len(n), `length ${n}`);
    }
  }
  // DATA takes any length up to what fits in a message.
  accepts(Data, new Uint8Array(0), 'empty DATA');
  accepts(Data, len(0xffff), '65535-byte DATA');
});

test('ICMP: exactly 8 bytes', () => {
  for (const n of [0, 4, 7, 9, 12]) rejects(Icmp, len(n), `length ${n}`);
  assert.deepEqual(Icmp.decode(Uint8Array.of(0xff, 0xff, 3, 13, 0, 0, 5, 0xdc), KEY), { type: 3, code: 13, data: 1500 });
});

test('ICE-CONTROLLED/CONTROLLING: exactly 8 bytes; 0..2^64-1', () => {
  for (const codec of [IceControlled, IceControlling]) {
    for (const n of [0, 4, 7, 9, 16]) rejects(codec, len(n), `length ${n}`);
    cannotEncode(codec, -1n, '-1');
    cannotEncode(codec, 1n << 64n, '2^64');
  }
  // A view at an odd offset of a larger buffer decodes from the right bytes.
  const big = Uint8Array.of(0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 0xbb);
  assert.equal(IceControlled.decode(big.subarray(1, 9), KEY), 0x0102030405060708n);
});

test('ERROR-CODE: class 3..6, number 0..99, reason up to 763 bytes', () => {
  for (const n of [0, 1, 3]) rejects(ErrorCode, len(n, 0), `length ${n}`);
  for (const cls of [0, 1, 2, 7]) rejects(ErrorCode, Uint8Array.of(0, 0, cls, 0), `class ${cls}`);
  for (const num of [100, 255]) rejects(ErrorCode, Uint8Array.of(0, 0, 4, num), `number ${num}`);
  assert.deepEqual(ErrorCode.decode(Uint8Array.of(0xff, 0xff, 0xfe, 99), KEY), { code: 699, reason: '' },
    'reserved bits are ignored');
  accepts(ErrorCode, Uint8Array.from([0, 0, 4, 0, ...len(763)]), '763-byte reason');
  rejects(ErrorCode, Uint8Array.from([0, 0, 4, 0, ...len(764)]), '764-byte reason');
  for (const code of [0, 299, 700, 400.5, Number.NaN]) cannotEncode(ErrorCode, { code, reason: '' }, `code ${code}`);
  rejects(AddressErrorCode, Uint8Array.of(1, 0, 2, 0), 'class 2');
  assert.deepEqual(AddressErrorCode.decode(Uint8Array.of(2, 0, 4, 40, 0x41), KEY), { family: 2, code: 440, reason: 'A' });
});

test('UNKNOWN-ATTRIBUTES: an even number of bytes', () => {
  for (const n of [1, 3, 5]) rejects(UnknownAttributes, len(n), `length ${n}`);
  assert.deepEqual(UnknownAttributes.decode(Uint8Array.of(0x80, 0x00, 0x00, 0x31), KEY), [0x8000, 0x0031]);
});

test('PASSWORD-ALGORITHM(S): algorithm, parameter length, parameters; nothing may overrun', () => {
  for (const v of [[0], [0, 1], [0, 1, 0], [0, 1, 0, 1], [0, 1, 0, 8, 1, 2, 3, 4], [0, 1, 0, 0, 0, 2, 0, 1]]) {
    rejects(PasswordAlgorithm, Uint8Array.from(v), `value ${v}`);
  }
  rejects(PasswordAlgorithm, new Uint8Array(0), 'empty (no algorithm)');
  for (const v of [[0], [0, 1, 0], [0, 1, 0, 0, 0, 2], [0, 1, 0, 5, 1, 2, 3, 4]]) {
    rejects(PasswordAlgorithms, Uint8Array.from(v), `value ${v}`);
  }
  // Parameters are padded to 4 bytes inside the value.
  const list = PasswordAlgorithms.decode(Uint8Array.of(0, 9, 0, 1, 0xaa, 0, 0, 0, 0, 2, 0, 0), KEY)!;
  assert.deepEqual(list.map((a) => [a.algorithm, [...a.parameters]]), [[9, [0xaa]], [2, []]]);
});

// Regression: ports outside 0..65535 were truncated to 16 bits (70000 went out as 4464).
test('address attributes: a port outside 0..65535 cannot be encoded', () => {
  for (const codec of [MappedAddress, XorPeerAddress]) {
    for (const port of [-1, 65536, 70000, 1.5, Number.NaN]) {
      cannotEncode(codec, { family: 4, address: '192.0.2.1', port }, `port ${port}`);
      cannotEncode(codec, { family: 6, address: '2001:db8::1', port }, `port ${port}`);
    }
  }
});

// Regression: the encoder wrote reason phrases the decoder then rejected (longer than 763 bytes).
test('ERROR-CODE: a reason phrase of 128 characters or more than 763 bytes cannot be encoded', () => {
  assert.notEqual(ErrorCode.encode({ code: 400, reason: 'x'.repeat(127) }, KEY), undefined);
  cannotEncode(ErrorCode, { code: 400, reason: 'x'.repeat(128) }, '128 characters');
  cannotEncode(ErrorCode, { code: 400, reason: 'x'.repeat(800) }, '800 bytes');
  cannotEncode(AddressErrorCode, { family: 1, code: 440, reason: '😀'.repeat(128) }, '128 characters');
});
