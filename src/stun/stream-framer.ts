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

const EMPTY = Buffer.alloc(0);

export class StreamFramer {
  readonly #onFrame: FrameHandler;
  readonly #maxFrameBytes: number;
  /** The frame that started in an earlier chunk; its first #have bytes are valid. It grows by doubling up to
   *  the frame's wire length, so memory follows the bytes received and reassembly copies each byte O(1) times
   *  (concatenating on every read would be quadratic in the number of reads). */
  #partial = EMPTY;
  #have = 0;
  /** Of the frame whose header was read last (#measure); #wireLength is 0 while the partial frame has fewer
   *  than 4 bytes. */
  #kind: FrameKind = FrameKind.stun;
  #frameLength = 0;
  #wireLength = 0;
  /** Set once the stream has carried something that is not a frame; every later push fails. */
  error: FramerError | undefined;

  constructor(onFrame: FrameHandler, maxFrameBytes = MAX_FRAME_BYTES) {
    this.#onFrame = onFrame;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#have;
  }

  /**
   * Feeds bytes read from the stream; returns an error when the stream cannot be framed (close it). Frames
   * wholly inside `chunk` are passed on as views of it; the bytes of an unfinished frame are copied.
   */
  push(chunk: Buffer): FramerError | undefined {
    if (this.error !== undefined) return this.error;
    let off = 0;
    if (this.#have > 0) {
      off = this.#resume(chunk);
      if (this.error !== undefined) return this.error;
      if (this.#have > 0) return undefined;
    }
    let measured = false;
    while (chunk.length - off >= 4) {
      if (!this.#measure(chunk, off)) return this.error;
      if (chunk.length - off < this.#wireLength) {
        measured = true;
        break;
      }
      this.#onFrame(chunk.subarray(off, off + this.#frameLength), this.#kind, this.#wireLength);
      off += this.#wireLength;
    }
    if (off < chunk.length) {
      if (!measured) this.#wireLength = 0;
      this.#append(chunk, off, chunk.length);
    }
    return undefined;
  }

  /** Reads the 4-byte frame header at `off`: RFC 8489 §6 (STUN, first bits 0b00), RFC 8656 §12 (ChannelData,
   *  0b01, padded to 4 bytes over streams). */
  #measure(b: Uint8Array, off: number): boolean {
    const first = b[off];
    const length = (b[off + 2] << 8) | b[off + 3];
    if ((first & 0xc0) === 0) {
      this.#kind = FrameKind.stun;
      this.#frameLength = this.#wireLength = HEADER_LENGTH + length;
    } else if ((first & 0xc0) === 0x40) {
      this.#kind = FrameKind.channelData;
      this.#frameLength = 4 + length;
      this.#wireLength = this.#frameLength + ((4 - (length % 4)) % 4);
    } else {
      return this.#fail('not-stun-or-channeldata');
    }
    if (this.#wireLength > this.#maxFrameBytes) return this.#fail('frame-too-large');
    return true;
  }

  #fail(error: FramerError): false {
    this.error = error;
    this.#partial = EMPTY;
    this.#have = 0;
    return false;
  }

  /** Continues the partial frame with the start of `chunk`; returns how many bytes of it were used. */
  #resume(chunk: Buffer): number {
    let off = 0;
    if (this.#wireLength === 0) {
      off = Math.min(4 - this.#have, chunk.length);
      this.#append(chunk, 0, off);
      if (this.#have < 4 || !this.#measure(this.#partial, 0)) return off;
    }
    const end = off + Math.min(this.#wireLength - this.#have, chunk.length - off);
    this.#append(chunk, off, end);
    if (this.#have === this.#wireLength) {
      const frame = this.#partial;
      this.#partial = EMPTY;
      this.#have = 0;
      this.#onFrame(frame.subarray(0, this.#frameLength), this.#kind, this.#wireLength);
    }
    return end;
  }

  #append(src: Buffer, start: number, end: number): void {
    const need = this.#have + (end - start);
    if (need > this.#partial.length) {
      const cap = Math.max(need, 2 * this.#partial.length, 64);
      const grown = Buffer.allocUnsafe(this.#wireLength > 0 ? Math.min(cap, this.#wireLength) : cap);
      this.#partial.copy(grown, 0, 0, this.#have);
      this.#partial = grown;
    }
    src.copy(this.#partial, this.#have, start, end);
    this.#have = need;
  }
}
