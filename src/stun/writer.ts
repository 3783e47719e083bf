// Encoding of STUN messages. Attributes are appended in order; MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT,
// which cover what precedes them, are appended last.
import { randomFillSync } from 'node:crypto';
import {
  Attr, FINGERPRINT_XOR, HEADER_LENGTH, MAGIC_COOKIE, type MessageClass, TRANSACTION_ID_LENGTH,
} from './constants.ts';
import type { AttributeCodec } from './attributes/codec.ts';
import { crc32 } from './crc32.ts';
import { computeMessageIntegrity, computeMessageIntegritySha256, type IntegrityKey } from './integrity.ts';

export class EncodeError extends Error {
  readonly code = 'ERR_STUN_ENCODE';
}

export function newTransactionId(): Buffer {
  return randomFillSync(Buffer.allocUnsafe(TRANSACTION_ID_LENGTH));
}

/** RFC 8489 §5: interleaves the 12 method bits with the two class bits into the 14-bit message type. */
export function messageType(method: number, cls: MessageClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | cls;
}

export class StunWriter {
  #buf: Buffer;
  #len = HEADER_LENGTH;

  constructor(method: number, cls: MessageClass, transactionId: Uint8Array = newTransactionId(), capacity = 256) {
    if (transactionId.length !== TRANSACTION_ID_LENGTH) throw new EncodeError('transaction id must be 12 bytes');
    this.#buf = Buffer.allocUnsafe(Math.max(capacity, HEADER_LENGTH));
    this.#buf.writeUInt16BE(messageType(method, cls), 0);
    this.#buf.writeUInt16BE(0, 2);
    this.#buf.writeUInt32BE(MAGIC_COOKIE, 4);
    this.#buf.set(transactionId, 8);
  }

  get transactionId(): Buffer {
    return this.#buf.subarray(8, HEADER_LENGTH);
  }

  /** Makes room for an attribute of `n` bytes (header, value, padding). */
  #reserve(n: number): void {
    // RFC 8489 §5: the message length is a 16-bit field counting the bytes after the header.
    if (this.#len + n - HEADER_LENGTH > 0xffff) throw new EncodeError('message longer than 65535 bytes after the header');
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  /** Appends an attribute with a raw value, padded with zeros to a multiple of 4 bytes. */
  addRaw(type: number, value: Uint8Array): this {
    if (value.length > 0xffff) throw new EncodeError(`attribute 0x${type.toString(16)} is too long`);
    const pad = (4 - (value.length % 4)) % 4;
    this.#reserve(4 + value.length + pad);
    const b = this.#buf;
    b.writeUInt16BE(type, this.#len);
    b.writeUInt16BE(value.length, this.#len + 2);
    b.set(value, this.#len + 4);
    this.#len += 4 + value.length;
    for (let i = 0; i < pad; i++) b[this.#len++] = 0;
    return this;
  }

  /** Appends `value` encoded by `codec`; throws EncodeError if it cannot be encoded. */
  add<T>(codec: AttributeCodec<T>, value: T): this {
    const v = codec.encode(value, this.#buf.subarray(4, HEADER_LENGTH));
    if (v === undefined) throw new EncodeError(`cannot encode ${codec.name}`);
    return this.addRaw(codec.type, v);
  }

  /** RFC 8489 §14.5: HMAC-SHA1 over everything so far, with the length field counting this attribute. */
  addMessageIntegrity(key: IntegrityKey): this {
    this.#reserve(24);
    const at = this.#len;
    const mac = computeMessageIntegrity(this.#buf.subarray(0, at), at, key);
    return this.addRaw(Attr.MESSAGE_INTEGRITY, mac);
  }

  /** RFC 8489 §14.6: "The value will be at most 32 bytes, but it MUST be at least 16 bytes and MUST be a multiple
   *  of 4 bytes." */
  addMessageIntegritySha256(key: IntegrityKey, length = 32): this {
    if (!Number.isInteger(length) || length < 16 || length > 32 || length % 4 !== 0) {
      throw new EncodeError(`MESSAGE-INTEGRITY-SHA256 length ${length} is not 16..32 and a multiple of 4`);
    }
    this.#reserve(4 + length);
    const at = this.#len;
    const mac = computeMessageIntegritySha256(this.#buf.subarray(0, at), at, key, length);
    return this.addRaw(Attr.MESSAGE_INTEGRITY_SHA256, mac);
  }

  /** RFC 8489 §14.7: CRC-32 of the message so far (length counting this attribute) XOR 0x5354554e. */
  addFingerprint(): this {
    this.#reserve(8);
    const at = this.#len;
    this.#buf.writeUInt16BE(at + 8 - HEADER_LENGTH, 2);
    const fp = (crc32(this.#buf, 0, at) ^ FINGERPRINT_XOR) >>> 0;
    this.#buf.writeUInt16BE(Attr.FINGERPRINT, at);
    this.#buf.writeUInt16BE(4, at + 2);
    this.#buf.writeUInt32BE(fp, at + 4);
    this.#len += 8;
    return this;
  }

  /** The finished message (a view of the internal buffer; do not reuse the writer afterwards). */
  finish(): Buffer {
    this.#buf.writeUInt16BE(this.#len - HEADER_LENGTH, 2);
    return this.#buf.subarray(0, this.#len);
  }
}
