// ChannelData (RFC 8656 §12.4, §12.5): decoding padded and unpadded datagrams, encoding with and without
// padding, and which channel numbers are valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHANNEL_DATA_HEADER_LENGTH, MAX_CHANNEL, MIN_CHANNEL, decodeChannelData, encodeChannelData, isChannelData,
  isValidChannelNumber,
} from '../../src/stun/index.ts';

const payload = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff));

test('encode without padding: channel, length, payload; nothing else', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 1199, 1200, 65535]) {
    const frame = encodeChannelData(0x4001, payload(n));
    assert.equal(frame.length, CHANNEL_DATA_HEADER_LENGTH + n);
    assert.equal(frame.readUInt16BE(0), 0x4001);
    assert.equal(frame.readUInt16BE(2), n);
    assert.deepEqual(frame.subarray(4), payload(n));
  }
});

test('encode with padding (TCP/TLS): a multiple of 4 bytes, padding zero, length field unpadded', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 1201, 65535]) {
    // Fresh pool memory may be dirty; the padding must still come out zero.
    Buffer.allocUnsafe(8192).fill(0xee);
    const frame = encodeChannelData(0x4fff, payload(n), true);
    assert.equal(frame.length, 4 + n + ((4 - (n % 4)) % 4));
    assert.equal(frame.length % 4, 0);
    assert.equal(frame.readUInt16BE(2), n);
    assert.deepEqual(frame.subarray(4, 4 + n), payload(n));
    assert.ok(frame.subarray(4 + n).every((b) => b === 0), `padding of ${n}`);
  }
});

test('decode: exact and padded datagrams give the payload without padding, as a view of the input', () => {
  for (const n of [0, 1, 3, 4, 5, 1200]) {
    for (const pad of [false, true]) {
      const frame = encodeChannelData(0x4abc, payload(n), pad);
      const d = decodeChannelData(frame);
      assert.ok(d);
      assert.equal(d.channel, 0x4abc);
      assert.deepEqual(Buffer.from(d.payload), payload(n));
      assert.equal(d.payload.buffer, frame.buffer, 'a view, not a copy');
      assert.equal(d.payload.byteOffset, frame.byteOffset + 4);
    }
    // RFC 8656 §12.4 lets a UDP datagram be longer than 4 + length (padding, or more): the rest is ignored.
    const longer = Buffer.concat([encodeChannelData(0x4000, payload(n)), Buffer.alloc(9, 0xff)]);
    assert.equal(decodeChannelData(longer)?.payload.length, n);
  }
});

test('decode: shorter than 4 + length, shorter than a header, or not 0b01 in front is undefined', () => {
  const frame = encodeChannelData(0x4000, payload(10));
  for (let n = 0; n < frame.length; n++) assert.equal(decodeChannelData(frame.subarray(0, n)), undefined, `${n} bytes`);
  for (const first of [0x00, 0x3f, 0x80, 0xbf, 0xc0, 0xff]) {
    const b = Buffer.from(frame);
    b[0] = first;
    assert.equal(isChannelData(b), false);
    assert.equal(decodeChannelData(b), undefined, `first byte ${first}`);
  }
});

test('isChannelData is true for 0x4000-0x7FFF; only 0x4000-0x4FFF are valid channel numbers (RFC 8656 §12)', () => {
  assert.equal(MIN_CHANNEL, 0x4000);
  assert.equal(MAX_CHANNEL, 0x4fff);
  for (let n = 0; n <= 0xffff; n++) {
    const b = Uint8Array.of(n >> 8, n & 0xff, 0, 0);
    assert.equal(isChannelData(b), n >= 0x4000 && n <= 0x7fff, `0x${n.toString(16)}`);
    assert.equal(isValidChannelNumber(n), n >= 0x4000 && n <= 0x4fff, `0x${n.toString(16)}`);
  }
  for (const n of [-1, 0x4000 - 0.5, Number.NaN, 0x10000]) assert.equal(isValidChannelNumber(n), false);
  // Reserved channel numbers (0x5000-0x7FFF) still decode: the relay, not the codec, rejects them.
  assert.equal(decodeChannelData(encodeChannelData(0x7fff, payload(2)))?.channel, 0x7fff);
});
