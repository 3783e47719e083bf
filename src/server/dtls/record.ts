// DTLS 1.2 record layer constants and header access (RFC 6347 §4.1). Pure: no I/O.
//
//   struct {
//     ContentType type;          // 1 byte, offset 0
//     ProtocolVersion version;   // 2 bytes, offset 1
//     uint16 epoch;              // offset 3
//     uint48 sequence_number;    // offset 5
//     uint16 length;             // offset 11
//     opaque fragment[DTLSPlaintext.length];
//   } DTLSPlaintext;

export const RECORD_HEADER_LENGTH = 13;
/** RFC 6347 §4.2.2: msg_type, length(3), message_seq(2), fragment_offset(3), fragment_length(3). */
export const HANDSHAKE_HEADER_LENGTH = 12;

export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
} as const;

export const HandshakeType = {
  clientHello: 1,
  helloVerifyRequest: 3,
  finished: 20,
} as const;

export const AlertLevel = { warning: 1, fatal: 2 } as const;
export const AlertDescription = {
  closeNotify: 0,
  handshakeFailure: 40,
  decryptError: 51,
  internalError: 80,
} as const;

/** {254, 253}: DTLS 1.2 on the wire. */
export const DTLS_1_2 = 0xfefd;
/** {254, 255}: DTLS 1.0, which RFC 6347 §4.2.1 asks HelloVerifyRequest to carry. */
export const DTLS_1_0 = 0xfeff;

/** Largest plaintext a record may carry (RFC 5246 §6.2.1: 2^14). */
export const MAX_PLAINTEXT_LENGTH = 16384;

export function recordEpoch(buf: Uint8Array, at: number): number {
  return (buf[at + 3] << 8) | buf[at + 4];
}

/** The 48-bit sequence number as a safe integer (< 2^53). */
export function recordSequence(buf: Uint8Array, at: number): number {
  const hi = (buf[at + 5] << 8) | buf[at + 6];
  const lo = ((buf[at + 7] << 24) | (buf[at + 8] << 16) | (buf[at + 9] << 8) | buf[at + 10]) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

export function writeRecordSequence(buf: Uint8Array, at: number, seq: number): void {
  const hi = Math.floor(seq / 0x1_0000_0000);
  const lo = seq >>> 0;
  buf[at + 5] = hi >>> 8;
  buf[at + 6] = hi;
  buf[at + 7] = lo >>> 24;
  buf[at + 8] = lo >>> 16;
  buf[at + 9] = lo >>> 8;
  buf[at + 10] = lo;
}

export function recordLength(buf: Uint8Array, at: number): number {
  return (buf[at + 11] << 8) | buf[at + 12];
}

/**
 * Offset just past the record starting at `at`, or -1 when the header or the body does not fit
 * in the datagram (RFC 6347 §4.1.2.7: such a record is silently discarded).
 */
export function recordEnd(buf: Uint8Array, at: number): number {
  if (at + RECORD_HEADER_LENGTH > buf.length) return -1;
  const end = at + RECORD_HEADER_LENGTH + recordLength(buf, at);
  return end > buf.length ? -1 : end;
}

/** A datagram holding one alert record in epoch 0 (sent before any keys exist). */
export function encodePlaintextAlert(level: number, description: number, seq: number): Buffer {
  const out = Buffer.alloc(RECORD_HEADER_LENGTH + 2);
  out[0] = ContentType.alert;
  out.writeUInt16BE(DTLS_1_2, 1);
  writeRecordSequence(out, 0, seq);
  out.writeUInt16BE(2, 11);
  out[13] = level;
  out[14] = description;
  return out;
}
