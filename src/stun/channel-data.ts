// ChannelData messages, RFC 8656 §12.4: a 2-byte channel number, a 2-byte length, the application data.
// The relay reads these fields inline on its hot path; these helpers are for everyone else.
import { MAX_CHANNEL, MIN_CHANNEL } from './constants.ts';

export const CHANNEL_DATA_HEADER_LENGTH = 4;

/** RFC 8656 §12: the first two bits of a ChannelData message are 0b01 (channel numbers 0x4000-0x7FFF). */
export function isChannelData(b: Uint8Array): boolean {
  return b.length >= CHANNEL_DATA_HEADER_LENGTH && (b[0] & 0xc0) === 0x40;
}

export function isValidChannelNumber(n: number): boolean {
  return n >= MIN_CHANNEL && n <= MAX_CHANNEL;
}

export interface ChannelDataView {
  readonly channel: number;
  /** A view of the input; not copied. */
  readonly payload: Uint8Array;
}

/**
 * RFC 8656 §12.4: "the ChannelData message ... MAY be padded" over UDP, so the datagram may be longer than
 * 4 + length but never shorter. Returns undefined for anything else.
 */
export function decodeChannelData(b: Uint8Array): ChannelDataView | undefined {
  if (!isChannelData(b)) return undefined;
  const length = (b[2] << 8) | b[3];
  if (CHANNEL_DATA_HEADER_LENGTH + length > b.length) return undefined;
  return { channel: (b[0] << 8) | b[1], payload: b.subarray(4, 4 + length) };
}

/**
 * A ChannelData message in one buffer. RFC 8656 §12.5: over TCP and TLS "the ChannelData message MUST be padded
 * to a multiple of four bytes"; over UDP and DTLS it need not be. So `padToFour` is true exactly when the message
 * goes onto a stream. The padding bytes are zero; the length field counts the payload only.
 */
export function encodeChannelData(channel: number, payload: Uint8Array, padToFour = false): Buffer {
  const length = payload.length;
  const padding = padToFour ? (4 - (length % 4)) % 4 : 0;
  const out = Buffer.allocUnsafe(CHANNEL_DATA_HEADER_LENGTH + length + padding);
  out[0] = channel >> 8;
  out[1] = channel & 0xff;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out.set(payload, CHANNEL_DATA_HEADER_LENGTH);
  // allocUnsafe may hand out old bytes: the padding must not leak them.
  if (padding > 0) out.fill(0, CHANNEL_DATA_HEADER_LENGTH + length);
  return out;
}
