// Cuts a TCP/TLS byte stream into STUN messages and ChannelData frames at any read boundary (RFC 8656 §12.5,
// RFC 8489 §6.2.2: over streams, framing comes from the length fields). At most one partial frame is
// buffered, so memory per connection is bounded by `maxFrameBytes`.
import { HEADER_LENGTH } from './constants.ts';

export const FrameKind = { stun: 0, channelData: 1 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export type FramerError = 'not-stun-or-channeldata' | 'frame-too-large';

/** `frame` excludes ChannelData padding; `wireLength` includes it (what the stream carried). */
export type FrameHandler = (frame: Buffer, kind: FrameKind, wireLength: number) => void;

/** The largest frame a header can announce: STUN, 20-byte header + length (≤ 65535); ChannelData is at most
 *  4 + 65535 + 1 byte of padding. */
export const MAX_FRAME_BYTES = HEADER_LENGTH + 0xffff;

export class StreamFramer {
  readonly #onFrame: FrameHandler;
  readonly #maxFrameBytes: number;
  #pending: Buffer | undefined;
  /** Set once the stream has carried something that is not a frame; every later push fails. */
  error: FramerError | undefined;

  constructor(onFrame: FrameHandler, maxFrameBytes = MAX_FRAME_BYTES) {
    this.#onFrame = onFrame;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  /** Feeds bytes read from the stream; returns an error when the stream cannot be framed (close it). */
  push(chunk: Buffer): FramerError | undefined {
    if (this.error !== undefined) return this.error;
    let b = chunk;
    if (this.#pending !== undefined) {
      b = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let off = 0;
    while (b.length - off >= 4) {
      const first = b[off];
      const length = (b[off + 2] << 8) | b[off + 3];
      let frameLength: number;
      let wireLength: number;
      let kind: FrameKind;
      if ((first & 0xc0) === 0) {
        kind = FrameKind.stun;
        frameLength = wireLength = HEADER_LENGTH + length;
      } else if ((first & 0xc0) === 0x40) {
        kind = FrameKind.channelData;
        frameLength = 4 + length;
        wireLength = frameLength + ((4 - (length % 4)) % 4);
      } else {
        this.error = 'not-stun-or-channeldata';
        return this.error;
      }
      if (wireLength > this.#maxFrameBytes) {
        this.error = 'frame-too-large';
        return this.error;
      }
      if (b.length - off < wireLength) break;
      this.#onFrame(b.subarray(off, off + frameLength), kind, wireLength);
      off += wireLength;
    }
    if (off < b.length) this.#pending = Buffer.from(b.subarray(off));
    return undefined;
  }
}
