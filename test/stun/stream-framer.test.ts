// StreamFramer (stream-framer.ts): a TCP/TLS stream of STUN messages and padded ChannelData frames cut at any
// read boundary yields the same frames; garbage and oversized frames are errors that stick; and at most the
// bytes of one partial frame are ever held back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Data, FrameKind, MAX_FRAME_BYTES, MessageClass, Method, Nonce, Realm, Software, StreamFramer, StunWriter,
  Username, XorPeerAddress, encodeChannelData, longTermKey, type FramerError,
} from '../../src/stun/index.ts';
import { Prng, seedFrom } from './prng.ts';

interface Frame {
  readonly hex: string;
  readonly kind: FrameKind;
  readonly wireLength: number;
}

const TID = Buffer.from('00112233445566778899aabb', 'hex');
const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));

/** STUN messages of several sizes and ChannelData frames of odd payload lengths, padded as TCP requires. */
function streamFrames(): { wire: Buffer[]; expected: Frame[] } {
  const key = longTermKey('user', 'example.org', 'pass');
  const stun = [
    new StunWriter(Method.binding, MessageClass.request, TID).finish(), // header only
    new StunWriter(Method.send, MessageClass.indication, TID)
      .add(XorPeerAddress, { family: 4, address: '192.0.2.7', port: 5000 }).add(Data, bytes(1, 1)).finish(),
    new StunWriter(Method.allocate, MessageClass.request, TID)
      .add(Username, 'user').add(Realm, 'example.org').add(Nonce, 'abcdef')
      .addMessageIntegrity(key).addFingerprint().finish(),
    new StunWriter(Method.send, MessageClass.indication, TID)
      .add(XorPeerAddress, { family: 6, address: '2001:db8::7', port: 5001 }).add(Data, bytes(3001, 2)).finish(),
    new StunWriter(Method.binding, MessageClass.successResponse, TID).add(Software, 'x').finish(),
  ];
  const channel = [0, 1, 2, 3, 5, 7, 1201, 4].map((n, i) => ({ channel: 0x4000 + i, payload: bytes(n, 10 + i) }));
  const wire: Buffer[] = [];
  const expected: Frame[] = [];
  for (let i = 0; i < Math.max(stun.length, channel.length); i++) {
    if (i < stun.length) {
      wire.push(stun[i]);
      expected.push({ hex: stun[i].toString('hex'), kind: FrameKind.stun, wireLength: stun[i].length });
    }
    if (i < channel.length) {
      const { channel: c, payload } = channel[i];
      const padded = encodeChannelData(c, payload, true);
      wire.push(padded);
      expected.push({ hex: encodeChannelData(c, payload).toString('hex'), kind: FrameKind.channelData, wireLength: padded.length });
    }
  }
  return { wire, expected };
}

/**
 * Feeds `chunks` to a framer, checking after each push that exactly the bytes of the partial frame are
 * buffered, and scribbling over each chunk after the push (a socket reuses its read buffer) so a framer that
 * kept a view of it would deliver corrupt frames.
 */
function frameAll(chunks: Buffer[], expected: readonly Frame[], maxFrameBytes?: number): { frames: Frame[]; error?: FramerError } {
  const frames: Frame[] = [];
  const framer = new StreamFramer((frame, kind, wireLength) => {
    frames.push({ hex: frame.toString('hex'), kind, wireLength });
  }, maxFrameBytes);
  let pushed = 0;
  for (const chunk of chunks) {
    const error = framer.push(chunk);
    if (error !== undefined) return { frames, error };
    chunk.fill(0xee);
    pushed += chunk.length;
    const consumed = frames.reduce((n, f) => n + f.wireLength, 0);
    assert.equal(framer.buffered, pushed - consumed, 'buffered = bytes of the partial frame');
    if (frames.length < expected.length) assert.ok(framer.buffered < expected[frames.length].wireLength);
  }
  return { frames };
}

/** Copies, so that frameAll's scribbling does not destroy the source stream. */
function cut(stream: Buffer, at: readonly number[]): Buffer[] {
  const points = [0, ...at, stream.length];
  return points.slice(1).map((end, i) => Buffer.from(stream.subarray(points[i], end)));
}

const { wire, expected } = streamFrames();
const stream = Buffer.concat(wire);

test('the whole stream in one chunk yields every frame, ChannelData without its padding', () => {
  const { frames, error } = frameAll(cut(stream, []), expected);
  assert.equal(error, undefined);
  assert.deepEqual(frames, expected);
  assert.ok(expected.some((f) => f.kind === FrameKind.channelData && f.wireLength !== f.hex.length / 2));
});

test('split at every point, the stream yields the same frames and wire lengths', () => {
  for (let at = 0; at <= stream.length; at++) {
    const { frames, error } = frameAll(cut(stream, [at]), expected);
    assert.equal(error, undefined);
    assert.deepEqual(frames, expected, `split at ${at}`);
  }
});

test('in 1-byte chunks, the stream yields the same frames', () => {
  const { frames } = frameAll(cut(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)), expected);
  assert.deepEqual(frames, expected);
});

test('random chunkings yield the same frames', () => {
  const seed = seedFrom('FUZZ_SEED');
  const rng = new Prng(seed);
  for (let round = 0; round < 300; round++) {
    const at: number[] = [];
    const mean = rng.pick([2, 7, 50, 600, 5000]);
    for (let p = rng.int(mean) + 1; p < stream.length; p += rng.int(2 * mean) + 1) at.push(p);
    const { frames } = frameAll(cut(stream, at), expected);
    assert.deepEqual(frames, expected, `FUZZ_SEED=${seed} round ${round}: cut at ${at.join(',')}`);
  }
});

test('garbage (first bits 0b10 or 0b11) is an error, after the frames before it, and it sticks', () => {
  for (const first of [0x80, 0xbf, 0xc0, 0xff]) {
    for (const at of [0, 1, 3, stream.length]) {
      const garbage = Buffer.from([first, 0, 0, 0, ...bytes(20, 3)]);
      const withGarbage = Buffer.concat([stream, garbage, stream]);
      const chunks = cut(withGarbage, [at, stream.length + 2]);
      const framer = new StreamFramer(() => {});
      const results = chunks.map((c) => framer.push(c));
      assert.equal(results.at(-1), 'not-stun-or-channeldata');
      assert.equal(framer.error, 'not-stun-or-channeldata');
      const { frames, error } = frameAll(cut(withGarbage, [at, stream.length + 2]), expected);
      assert.equal(error, 'not-stun-or-channeldata');
      assert.deepEqual(frames, expected, 'every frame before the garbage is delivered, none after');
      // A valid frame afterwards is refused too.
      assert.equal(framer.push(Buffer.from(wire[0])), 'not-stun-or-channeldata');
    }
  }
});

test('frame-too-large: refused from its header, before buffering it; the limit is inclusive', () => {
  const max = 100;
  const fits = encodeChannelData(0x4000, bytes(96, 1), true); // 4 + 96 = 100
  const padded = encodeChannelData(0x4000, bytes(95, 1), true); // 4 + 95 + 1 padding = 100
  const over = encodeChannelData(0x4000, bytes(97, 1), true); // 4 + 97 + 3 padding = 104
  const stunFits = new StunWriter(Method.binding, MessageClass.request, TID).add(Data, bytes(76, 1)).finish(); // 100
  const stunOver = new StunWriter(Method.binding, MessageClass.request, TID).add(Data, bytes(77, 1)).finish(); // 104
  for (const ok of [fits, padded, stunFits]) {
    const framer = new StreamFramer(() => {}, max);
    assert.equal(framer.push(Buffer.from(ok)), undefined);
  }
  for (const big of [over, stunOver]) {
    const framer = new StreamFramer(() => {}, max);
    assert.equal(framer.push(Buffer.from(big.subarray(0, 3))), undefined);
    assert.equal(framer.push(Buffer.from(big.subarray(3, 4))), 'frame-too-large');
    assert.ok(framer.buffered <= 4);
    assert.equal(framer.push(Buffer.from(fits)), 'frame-too-large');
  }
});

// Regression: MAX_FRAME_BYTES was 65540, the largest ChannelData frame, but a STUN message can be 20 + 65532
// bytes, so the default framer closed streams carrying a legal maximum-size message.
test('the default limit admits the largest STUN message and the largest padded ChannelData frame', () => {
  const stunMax = new StunWriter(Method.send, MessageClass.indication, TID).add(Data, new Uint8Array(65528)).finish();
  assert.equal(stunMax.length, 20 + 65532);
  const channelMax = encodeChannelData(0x4000, new Uint8Array(65535), true);
  assert.equal(channelMax.length, 65540);
  assert.ok(MAX_FRAME_BYTES >= stunMax.length);
  for (const frame of [stunMax, channelMax]) {
    const got: number[] = [];
    const framer = new StreamFramer((_f, _k, wireLength) => got.push(wireLength));
    assert.equal(framer.push(Buffer.from(frame)), undefined);
    assert.deepEqual(got, [frame.length]);
  }
});

// Regression: each push concatenated the partial frame with the new chunk, so a frame arriving in n small
// reads cost O(n²) bytes copied (a 64 KiB frame sent a byte at a time: ~2 GB of copying, about a second of
// CPU per frame). The cost of a byte-at-a-time stream must not grow with the frame size: 16 frames of 4 KiB
// and one frame of 64 KiB (the same bytes) take about the same time; a quadratic framer takes ~16× longer.
test('byte-at-a-time delivery costs time linear in the bytes, not in the square of the frame size', () => {
  const small = Buffer.concat(Array.from({ length: 16 }, () => encodeChannelData(0x4000, new Uint8Array(4092))));
  const large = encodeChannelData(0x4000, new Uint8Array(65532));
  assert.equal(small.length, large.length);
  const time = (stream: Buffer): number => {
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      let frames = 0;
      const framer = new StreamFramer(() => frames++);
      const start = process.hrtime.bigint();
      for (let i = 0; i < stream.length; i++) framer.push(stream.subarray(i, i + 1));
      best = Math.min(best, Number(process.hrtime.bigint() - start));
      assert.ok(frames > 0);
    }
    return best;
  };
  time(small); // warm up
  const ratio = time(large) / time(small);
  assert.ok(ratio < 4, `64 KiB frame took ${ratio.toFixed(1)}× as long as 16 × 4 KiB`);
});
