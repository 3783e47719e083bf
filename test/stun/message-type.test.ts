// RFC 8489 §5: the 14-bit message type interleaves the 12 method bits M0-M11 with the class bits C0 and C1:
//   bit 13..9 = M11..M7, bit 8 = C1, bit 7..5 = M6..M4, bit 4 = C0, bit 3..0 = M3..M0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METHOD_NAMES, MessageClass, Method, StunWriter, decodeStun, messageType } from '../../src/stun/index.ts';

const CLASSES = Object.values(MessageClass);

/** The layout of the RFC 8489 §5 figure, bit by bit. */
function layout(method: number, c1: number, c0: number): number {
  let t = 0;
  for (let i = 0; i < 12; i++) {
    const bit = (method >> i) & 1;
    const pos = i < 4 ? i : i < 7 ? i + 1 : i + 2;
    t |= bit << pos;
  }
  return t | (c1 << 8) | (c0 << 4);
}

test('every method × class encodes to the RFC 8489 §5 layout and decodes back', () => {
  const tid = Buffer.alloc(12, 0x5a);
  for (let method = 0; method <= 0xfff; method++) {
    for (const cls of CLASSES) {
      const type = messageType(method, cls);
      assert.equal(type, layout(method, (cls >> 8) & 1, (cls >> 4) & 1));
      assert.equal(type >> 14, 0, 'the two most significant bits stay zero');
      const msg = new StunWriter(method, cls, tid).finish();
      assert.equal(msg.readUInt16BE(0), type);
      const r = decodeStun(msg);
      assert.ok(r.ok);
      assert.equal(r.message.method, method);
      assert.equal(r.message.cls, cls);
    }
  }
});

test('message types of STUN and TURN methods match the values the RFCs list', () => {
  // RFC 8489 §18.2, RFC 8656 §17 and §18, RFC 6062 §6.1: request / indication / success / error.
  const expected: [number, number, number, number, number][] = [
    [Method.binding, 0x0001, 0x0011, 0x0101, 0x0111],
    [Method.allocate, 0x0003, 0x0013, 0x0103, 0x0113],
    [Method.refresh, 0x0004, 0x0014, 0x0104, 0x0114],
    [Method.send, 0x0006, 0x0016, 0x0106, 0x0116],
    [Method.data, 0x0007, 0x0017, 0x0107, 0x0117],
    [Method.createPermission, 0x0008, 0x0018, 0x0108, 0x0118],
    [Method.channelBind, 0x0009, 0x0019, 0x0109, 0x0119],
    [Method.connect, 0x000a, 0x001a, 0x010a, 0x011a],
    [Method.connectionBind, 0x000b, 0x001b, 0x010b, 0x011b],
    [Method.connectionAttempt, 0x000c, 0x001c, 0x010c, 0x011c],
  ];
  for (const [method, req, ind, ok, err] of expected) {
    assert.equal(messageType(method, MessageClass.request), req);
    assert.equal(messageType(method, MessageClass.indication), ind);
    assert.equal(messageType(method, MessageClass.successResponse), ok);
    assert.equal(messageType(method, MessageClass.errorResponse), err);
    assert.equal(typeof METHOD_NAMES[method], 'string');
  }
  // A method with bits in every group: 0xfff.
  assert.equal(messageType(0xfff, MessageClass.errorResponse), 0x3fff);
  assert.equal(messageType(0x080, MessageClass.request), 0x0200);
});
