// Long-term credentials and message integrity: RFC 8489 §9.2.2 (keys), §14.5 MESSAGE-INTEGRITY (HMAC-SHA1),
// §14.6 MESSAGE-INTEGRITY-SHA256.
import { createHash, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { HEADER_LENGTH } from './constants.ts';
import type { StunMessage } from './message.ts';

export type PasswordAlgorithmName = 'md5' | 'sha256';

/**
 * An HMAC key: raw bytes, or the same bytes as a KeyObject (crypto.createSecretKey). Cache keys as KeyObjects:
 * Node imports raw key bytes anew for every HMAC, a cost a KeyObject pays once (README "Performance" has the
 * codec benchmark's figures).
 */
export type IntegrityKey = Uint8Array | KeyObject;

/** The raw bytes of a key, whichever form it is in (diagnostics and tests). */
export function keyBytes(key: IntegrityKey): Buffer {
  return key instanceof Uint8Array ? Buffer.from(key) : key.export();
}

/**
 * RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)), or SHA-256 of
 * the same string for the SHA-256 algorithm. (OpaqueString is the identity for the ASCII credentials TURN
 * deployments use; like pion and coturn we do not apply further normalisation.)
 */
export function longTermKey(username: string, realm: string, password: string,
  algorithm: PasswordAlgorithmName = 'md5'): Buffer {
  return createHash(algorithm).update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/**
 * RFC 8489 §14.5: the HMAC covers the message up to the attribute preceding MESSAGE-INTEGRITY, with the
 * header length field set as if MESSAGE-INTEGRITY were the last attribute.
 */
function hmacOver(raw: Uint8Array, attrOffset: number, attrValueLength: number, hash: 'sha1' | 'sha256',
  key: IntegrityKey): Buffer {
  const header = Buffer.from(raw.subarray(0, HEADER_LENGTH));
  header.writeUInt16BE(attrOffset + 4 + attrValueLength - HEADER_LENGTH, 2);
  return createHmac(hash, key).update(header).update(raw.subarray(HEADER_LENGTH, attrOffset)).digest();
}

/** Computes the 20-byte MESSAGE-INTEGRITY value for an attribute placed at `attrOffset` of `raw`. */
export function computeMessageIntegrity(raw: Uint8Array, attrOffset: number, key: IntegrityKey): Buffer {
  return hmacOver(raw, attrOffset, 20, 'sha1', key);
}

/** Computes the MESSAGE-INTEGRITY-SHA256 value (32 bytes; truncated on the wire if shorter is wanted). */
export function computeMessageIntegritySha256(raw: Uint8Array, attrOffset: number, key: IntegrityKey,
  length = 32): Buffer {
  return hmacOver(raw, attrOffset, length, 'sha256', key).subarray(0, length);
}

/** True if the message carries MESSAGE-INTEGRITY and it matches `key`; compared in constant time. */
export function verifyMessageIntegrity(msg: StunMessage, key: IntegrityKey): boolean {
  const off = msg.integrityOffset;
  if (off < 0) return false;
  const raw = msg.raw;
  if (((raw[off + 2] << 8) | raw[off + 3]) !== 20) return false;
  const got = raw.subarray(off + 4, off + 24);
  return timingSafeEqual(computeMessageIntegrity(raw, off, key), got);
}

/** As verifyMessageIntegrity for MESSAGE-INTEGRITY-SHA256, honouring a truncated (16..32 byte) value. */
export function verifyMessageIntegritySha256(msg: StunMessage, key: IntegrityKey): boolean {
  const off = msg.integritySha256Offset;
  if (off < 0) return false;
  const raw = msg.raw;
  const len = (raw[off + 2] << 8) | raw[off + 3];
  if (len < 16 || len > 32 || len % 4 !== 0) return false;
  const got = raw.subarray(off + 4, off + 4 + len);
  return timingSafeEqual(computeMessageIntegritySha256(raw, off, key, len), got);
}
