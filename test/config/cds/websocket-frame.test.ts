// RFC 6455 framing: the §5.7 examples byte for byte, split anywhere, and what a server must not send.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeClientFrame, OPCODE, ServerFrameDecoder } from '../../../src/config/cds/websocket-frame.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('client frames (RFC 6455 §5.7)', () => {
  it('"A single-frame masked text message": 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58', () => {
    const frame = encodeClientFrame(OPCODE.text, Buffer.from('Hello'), hex('37fa213d'));
    assert.deepEqual(frame, hex('8185 37fa213d 7f9f4d5158'));
  });
  it('lengths 126..65535 use the 16-bit form, larger the 64-bit form; the mask covers the payload', () => {
    const mask = hex('01020304');
    const f256 = encodeClientFrame(OPCODE.binary, Buffer.alloc(256), mask);
    assert.deepEqual(f256.subarray(0, 8), hex('82fe0100 01020304'));
    assert.deepEqual(f256.subarray(8, 12), mask, 'zeros XOR the mask');
    const f64k = encodeClientFrame(OPCODE.binary, Buffer.alloc(65536), mask);
    assert.deepEqual(f64k.subarray(0, 10), hex('82ff 0000000000010000'));
    assert.equal(f64k.length, 10 + 4 + 65536);
  });
  it('a fresh random mask per frame by default', () => {
    const a = encodeClientFrame(OPCODE.ping, Buffer.from('keepalive'));
    const b = encodeClientFrame(OPCODE.ping, Buffer.from('keepalive'));
    assert.equal(a[0], 0x89);
    assert.equal(a[1], 0x80 | 9);
    assert.notDeepEqual(a.subarray(2, 6), b.subarray(2, 6));
  });
});

describe('ServerFrameDecoder (RFC 6455 §5.7)', () => {
  const decode = (...chunks: Buffer[]) => {
    const d = new ServerFrameDecoder();
    return chunks.flatMap((c) => d.push(c));
  };
  it('"A single-frame unmasked text message": 0x81 0x05 Hello, whole and one byte at a time', () => {
    const frame = hex('810548656c6c6f');
    assert.deepEqual(decode(frame), [{ type: 'text', data: 'Hello' }]);
    assert.deepEqual(decode(...[...frame].map((b) => Buffer.from([b]))), [{ type: 'text', data: 'Hello' }]);
  });
  it('"A fragmented unmasked text message": 0x01 0x03 Hel, 0x80 0x02 lo; a ping between fragments', () => {
    assert.deepEqual(decode(hex('010348656c'), hex('8905 48656c6c6f'), hex('80026c6f')), [
      { type: 'ping', data: Buffer.from('Hello') },
      { type: 'text', data: 'Hello' },
    ]);
  });
  it('pong, 16- and 64-bit lengths, close with and without a status code', () => {
    const big = Buffer.alloc(65536, 0x61);
    assert.deepEqual(decode(hex('8a09'), Buffer.from('keepalive')), [{ type: 'pong', data: Buffer.from('keepalive') }]);
    assert.equal((decode(Buffer.concat([hex('817e0100'), Buffer.alloc(256, 0x61)]))[0] as { data: string }).data.length, 256);
    assert.equal((decode(Buffer.concat([hex('817f0000000000010000'), big]))[0] as { data: string }).data.length, 65536);
    assert.deepEqual(decode(hex('8800')), [{ type: 'close', code: undefined, reason: '' }]);
    assert.deepEqual(decode(hex('880503e8'), Buffer.from('bye')), [{ type: 'close', code: 1000, reason: 'bye' }]);
  });
  it('fails on what a server must not send', () => {
    const bad: Array<[string, Buffer]> = [
      ['masked frame (§5.1)', hex('8185 37fa213d 7f9f4d5158')],
      ['reserved bits (§5.2)', hex('c100')],
      ['fragmented control frame (§5.5)', hex('0900')],
      ['continuation without a start', hex('8000')],
      ['reserved opcode', hex('8300')],
      ['invalid UTF-8 text (§8.1)', hex('8102c328')],
    ];
    for (const [what, frame] of bad) assert.throws(() => decode(frame), { code: 'ERR_WEBSOCKET_PROTOCOL' }, what);
    assert.throws(() => new ServerFrameDecoder(10).push(hex('810b68656c6c6f20776f726c64')), /too large/);
  });
});
