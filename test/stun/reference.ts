// An independent reference for the checksums, written against the RFC text and using node:crypto and
// node:zlib instead of the codec's own HMAC framing and CRC table, so a test can tell a wrong vector from a
// wrong codec.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** RFC 8489 §14.5/§14.6: HMAC over the message before the attribute at `offset`, with the header length
 *  field counting the message up to the end of that attribute (value `valueLength` bytes). */
export function referenceHmac(msg: Uint8Array, offset: number, valueLength: number, hash: 'sha1' | 'sha256',
  key: Uint8Array): Buffer {
  const covered = Buffer.from(msg.subarray(0, offset));
  covered.writeUInt16BE(offset + 4 + valueLength - 20, 2);
  return createHmac(hash, secret(key)).update(covered).digest().subarray(0, valueLength);
}

// Importing raw key bytes costs more than the HMAC itself; the fuzzer checks the same few keys many times.
const secrets = new WeakMap<Uint8Array, KeyObject>();

function secret(key: Uint8Array): KeyObject {
  let k = secrets.get(key);
  if (k === undefined) secrets.set(key, (k = createSecretKey(key)));
  return k;
}

/** RFC 8489 §14.7: CRC-32 of the message before the attribute at `offset` (length counting it), XOR
 *  0x5354554e. */
export function referenceFingerprint(msg: Uint8Array, offset: number): number {
  const covered = Buffer.from(msg.subarray(0, offset));
  covered.writeUInt16BE(offset + 8 - 20, 2);
  return (crc32(covered) ^ 0x5354554e) >>> 0;
}

export interface Tlv {
  readonly type: number;
  /** Offset of the attribute header. */
  readonly offset: number;
  readonly length: number;
}

/** The attributes of a well-formed message, in wire order. */
export function tlvs(msg: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 20; off + 4 <= msg.length;) {
    const length = (msg[off + 2] << 8) | msg[off + 3];
    out.push({ type: (msg[off] << 8) | msg[off + 1], offset: off, length });
    off += 4 + length + ((4 - (length % 4)) % 4);
  }
  return out;
}

/**
 * A copy of `msg` with every padding byte set to zero (what StunWriter emits) and the MESSAGE-INTEGRITY(-SHA256)
 * and FINGERPRINT values recomputed over the result, so it is the exact message a conforming zero-padding
 * encoder produces from the same attribute values.
 */
export function withZeroPadding(msg: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.from(msg);
  for (const a of tlvs(out)) {
    const end = a.offset + 4 + a.length;
    out.fill(0, end, end + ((4 - (a.length % 4)) % 4));
    if (a.type === 0x0008) referenceHmac(out, a.offset, 20, 'sha1', key).copy(out, a.offset + 4);
    if (a.type === 0x001c) referenceHmac(out, a.offset, a.length, 'sha256', key).copy(out, a.offset + 4);
    if (a.type === 0x8028) out.writeUInt32BE(referenceFingerprint(out, a.offset), a.offset + 4);
  }
  return out;
}
