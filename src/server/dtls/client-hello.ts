// Locates the fields of a DTLS 1.2 ClientHello in a datagram without copying (RFC 6347 §4.2.1,
// RFC 5246 §7.4.1.2). Only what the stateless cookie exchange needs is read. Pure: no I/O.
//
//   struct {
//     ProtocolVersion client_version;
//     Random random;                                  // 32 bytes
//     SessionID session_id;                           // <0..32>
//     opaque cookie<0..2^8-1>;                        // DTLS only
//     CipherSuite cipher_suites<2..2^16-2>;
//     CompressionMethod compression_methods<1..2^8-1>;
//     [extensions]
//   } ClientHello;

import {
  ContentType,
  HANDSHAKE_HEADER_LENGTH,
  HandshakeType,
  RECORD_HEADER_LENGTH,
  recordEnd,
  recordEpoch,
  recordSequence,
} from './record.ts';

export interface ClientHelloView {
  readonly datagram: Buffer;
  /** Record sequence number of the record that carried it (echoed by HelloVerifyRequest). */
  readonly recordSequence: number;
  readonly recordEnd: number;
  /** Offset of client_version: the start of the ClientHello body. */
  readonly bodyStart: number;
  /** Offset of the cookie's length byte. */
  readonly cookieAt: number;
  readonly cookieLength: number;
  /** Offset of the cipher_suites length. */
  readonly suitesAt: number;
  /** Offset just past compression_methods (where extensions begin, if any). */
  readonly compressionEnd: number;
}

const RANDOM_LENGTH = 32;

/**
 * Reads the first record of `datagram` as an epoch-0 handshake record holding one whole ClientHello.
 * Returns undefined for anything else, including a fragmented ClientHello (which no common client
 * sends: a DTLS 1.2 ClientHello is a few hundred bytes).
 */
export function readClientHello(datagram: Buffer): ClientHelloView | undefined {
  const end = recordEnd(datagram, 0);
  if (end < 0 || datagram[0] !== ContentType.handshake || recordEpoch(datagram, 0) !== 0) return undefined;
  const hs = RECORD_HEADER_LENGTH;
  if (hs + HANDSHAKE_HEADER_LENGTH > end || datagram[hs] !== HandshakeType.clientHello) return undefined;
  const length = datagram.readUIntBE(hs + 1, 3);
  const fragmentOffset = datagram.readUIntBE(hs + 6, 3);
  const fragmentLength = datagram.readUIntBE(hs + 9, 3);
  const bodyStart = hs + HANDSHAKE_HEADER_LENGTH;
  if (fragmentOffset !== 0 || fragmentLength !== length || bodyStart + length > end) return undefined;
  const bodyEnd = bodyStart + length;

  let at = bodyStart + 2 + RANDOM_LENGTH;
  if (at + 1 > bodyEnd) return undefined;
  const sessionIdLength = datagram[at];
  if (sessionIdLength > 32) return undefined;
  at += 1 + sessionIdLength;
  if (at + 1 > bodyEnd) return undefined;
  const cookieAt = at;
  const cookieLength = datagram[at];
  at += 1 + cookieLength;
  if (at + 2 > bodyEnd) return undefined;
  const suitesAt = at;
  const suitesLength = datagram.readUInt16BE(at);
  if (suitesLength < 2 || suitesLength % 2 !== 0) return undefined;
  at += 2 + suitesLength;
  if (at + 1 > bodyEnd) return undefined;
  const compressionLength = datagram[at];
  if (compressionLength < 1) return undefined;
  at += 1 + compressionLength;
  if (at > bodyEnd) return undefined;

  return {
    datagram,
    recordSequence: recordSequence(datagram, 0),
    recordEnd: end,
    bodyStart,
    cookieAt,
    cookieLength,
    suitesAt,
    compressionEnd: at,
  };
}

export function cookieOf(hello: ClientHelloView): Buffer {
  return hello.datagram.subarray(hello.cookieAt + 1, hello.cookieAt + 1 + hello.cookieLength);
}

/**
 * A copy of the ClientHello record with an empty cookie: the form a client sends first. The lengths
 * in the record and handshake headers shrink by the cookie's length; nothing else changes.
 */
export function withoutCookie(hello: ClientHelloView): Buffer {
  const d = hello.datagram;
  const cut = hello.cookieLength;
  const out = Buffer.allocUnsafe(hello.recordEnd - cut);
  d.copy(out, 0, 0, hello.cookieAt);
  out[hello.cookieAt] = 0;
  d.copy(out, hello.cookieAt + 1, hello.cookieAt + 1 + cut, hello.recordEnd);
  out.writeUInt16BE(out.length - RECORD_HEADER_LENGTH, 11);
  const bodyLength = out.length - hello.bodyStart;
  out.writeUIntBE(bodyLength, RECORD_HEADER_LENGTH + 1, 3);
  out.writeUIntBE(bodyLength, RECORD_HEADER_LENGTH + 9, 3);
  return out;
}
