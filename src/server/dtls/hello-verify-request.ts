// Encodes a HelloVerifyRequest datagram (RFC 6347 §4.2.1). Pure: no I/O.
//
//   struct {
//     ProtocolVersion server_version;
//     opaque cookie<0..2^8-1>;
//   } HelloVerifyRequest;

import { ContentType, DTLS_1_0, HANDSHAKE_HEADER_LENGTH, HandshakeType, RECORD_HEADER_LENGTH, writeRecordSequence } from './record.ts';

/**
 * RFC 6347 §4.2.1: "the server MUST use the record sequence number in the ClientHello as the record
 * sequence number in the HelloVerifyRequest", and "DTLS 1.2 server implementations SHOULD use DTLS
 * version 1.0 regardless of the version of TLS that is expected to be negotiated."
 * It is the first message of the server's handshake, so its message_seq is 0 (§4.2.2).
 */
export function encodeHelloVerifyRequest(clientRecordSequence: number, cookie: Uint8Array): Buffer {
  const bodyLength = 2 + 1 + cookie.length;
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH + bodyLength);
  out[0] = ContentType.handshake;
  out.writeUInt16BE(DTLS_1_0, 1);
  out.writeUInt16BE(0, 3);
  writeRecordSequence(out, 0, clientRecordSequence);
  out.writeUInt16BE(HANDSHAKE_HEADER_LENGTH + bodyLength, 11);
  const hs = RECORD_HEADER_LENGTH;
  out[hs] = HandshakeType.helloVerifyRequest;
  out.writeUIntBE(bodyLength, hs + 1, 3);
  out.writeUInt16BE(0, hs + 4);
  out.writeUIntBE(0, hs + 6, 3);
  out.writeUIntBE(bodyLength, hs + 9, 3);
  const body = hs + HANDSHAKE_HEADER_LENGTH;
  out.writeUInt16BE(DTLS_1_0, body);
  out[body + 2] = cookie.length;
  out.set(cookie, body + 3);
  return out;
}
