// The fuzzer's check of StreamFramer on one input: cut at random points it frames exactly as when pushed
// whole, every frame is the next slice of the stream with the kind and length its header announces, and
// the bytes pushed equal the frames' wire lengths plus what is buffered.
import assert from 'node:assert/strict';
import { FrameKind, MAX_FRAME_BYTES, StreamFramer, type FramerError } from '../../src/stun/index.ts';
import type { Prng } from './prng.ts';

interface Framed {
  readonly frames: string[];
  readonly error: FramerError | undefined;
  readonly buffered: number;
}

function run(stream: Buffer, cuts: readonly number[], maxFrameBytes: number): Framed {
  const frames: string[] = [];
  let offset = 0;
  const framer = new StreamFramer((frame, kind, wireLength) => {
    const header = stream.subarray(offset, offset + 4);
    const length = (header[2] << 8) | header[3];
    assert.equal(kind, (header[0] & 0xc0) === 0 ? FrameKind.stun : FrameKind.channelData, 'kind from the first bits');
    assert.equal(frame.length, kind === FrameKind.stun ? 20 + length : 4 + length, 'frame length from the header');
    assert.equal(wireLength, kind === FrameKind.stun ? frame.length : frame.length + ((4 - (length % 4)) % 4));
    assert.ok(wireLength <= maxFrameBytes, 'within maxFrameBytes');
    assert.ok(frame.equals(stream.subarray(offset, offset + frame.length)), 'the next bytes of the stream');
    frames.push(`${kind}:${wireLength}:${frame.length}`);
    offset += wireLength;
  }, maxFrameBytes);
  let error: FramerError | undefined;
  let pushed = 0;
  const points = [0, ...cuts, stream.length];
  for (let i = 1; i < points.length && error === undefined; i++) {
    // A copy, overwritten after the push as a socket would reuse its read buffer.
    const chunk = Buffer.from(stream.subarray(points[i - 1], points[i]));
    error = framer.push(chunk);
    chunk.fill(0xee);
    pushed += chunk.length;
    if (error === undefined) assert.equal(offset + framer.buffered, pushed, 'pushed = framed + buffered');
  }
  if (error !== undefined) assert.equal(framer.push(Buffer.from([0, 1, 0, 0])), error, 'errors stick');
  return { frames, error, buffered: framer.buffered };
}

export function checkFramer(input: Uint8Array, rng: Prng): void {
  const maxFrameBytes = rng.pick([MAX_FRAME_BYTES, 64, 200, 1000]);
  const stream = Buffer.from(input);
  const whole = run(stream, [], maxFrameBytes);
  const cuts: number[] = [];
  const step = rng.pick([1, 3, 17, 64]);
  for (let p = rng.int(step) + 1; p < stream.length; p += rng.int(2 * step) + 1) cuts.push(p);
  assert.deepEqual(run(stream, cuts, maxFrameBytes), whole, `cut at ${cuts.join(',')}`);
}
