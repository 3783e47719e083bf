// Decoding of STUN messages (RFC 8489 §5, §14). Attribute values are not decoded up front: the message keeps
// (type, offset, length) triples into the original buffer and typed codecs decode a value on demand.
// Decoding never throws; it returns a failure with a reason a server can act on.
import {
  Attr, FINGERPRINT_XOR, HEADER_LENGTH, MAGIC_COOKIE, type MessageClass, isComprehensionRequired,
} from './constants.ts';
import { ATTRIBUTES, type AttributeCodec } from './attributes/index.ts';
import { crc32 } from './crc32.ts';

export type DecodeFailureReason =
  | 'truncated' // shorter than a header, or than the length field says
  | 'not-stun' // the first two bits are not 0b00
  | 'bad-length' // message length not a multiple of 4, or trailing bytes in a datagram
  | 'bad-cookie'
  | 'bad-attribute' // an attribute overruns the message
  | 'bad-fingerprint' // FINGERPRINT not last, or its CRC does not match
  | 'unknown-attributes'; // comprehension-required attributes we do not understand (answer 420)

export type DecodeResult =
  | { readonly ok: true; readonly message: StunMessage }
  | {
    readonly ok: false;
    readonly reason: DecodeFailureReason;
    /** Present when the header was valid, so a request can still be answered (e.g. 420, 400). */
    readonly message?: StunMessage;
    /** With 'unknown-attributes': the types to list in UNKNOWN-ATTRIBUTES. */
    readonly unknown?: readonly number[];
  };

export class StunMessage {
  /** The whole message, a view of the input. */
  readonly raw: Uint8Array;
  readonly method: number;
  readonly cls: MessageClass;
  /** Flat (type, value offset, value length) triples in wire order, up to and including the integrity
   *  attributes and FINGERPRINT; attributes after MESSAGE-INTEGRITY other than those are ignored (§14.5). */
  readonly attrs: number[];
  /** Offsets of the attribute headers, or -1 when absent. */
  integrityOffset = -1;
  integritySha256Offset = -1;
  fingerprintOffset = -1;

  constructor(raw: Uint8Array, method: number, cls: MessageClass, attrs: number[]) {
    this.raw = raw;
    this.method = method;
    this.cls = cls;
    this.attrs = attrs;
  }

  get transactionId(): Uint8Array {
    return this.raw.subarray(8, HEADER_LENGTH);
  }

  /** Magic cookie + transaction id: the key of XOR-*-ADDRESS attributes. */
  get xorKey(): Uint8Array {
    return this.raw.subarray(4, HEADER_LENGTH);
  }

  has(type: number): boolean {
    for (let i = 0; i < this.attrs.length; i += 3) if (this.attrs[i] === type) return true;
    return false;
  }

  /** The raw value of the first attribute of `type`. */
  value(type: number): Uint8Array | undefined {
    const a = this.attrs;
    for (let i = 0; i < a.length; i += 3) if (a[i] === type) return this.raw.subarray(a[i + 1], a[i + 1] + a[i + 2]);
    return undefined;
  }

  /** The first attribute decoded by `codec`; undefined when absent or malformed (tell them apart with has()). */
  get<T>(codec: AttributeCodec<T>): T | undefined {
    const v = this.value(codec.type);
    return v === undefined ? undefined : codec.decode(v, this.xorKey);
  }

  /** Every attribute of the codec's type, in order; undefined if any of them is malformed. */
  getAll<T>(codec: AttributeCodec<T>): T[] | undefined {
    const out: T[] = [];
    const a = this.attrs;
    for (let i = 0; i < a.length; i += 3) {
      if (a[i] !== codec.type) continue;
      const v = codec.decode(this.raw.subarray(a[i + 1], a[i + 1] + a[i + 2]), this.xorKey);
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  }
}

/** True if the first byte can start a STUN message (RFC 8489 §5: the most significant 2 bits are zero). */
export function looksLikeStun(b: Uint8Array): boolean {
  return b.length >= HEADER_LENGTH && (b[0] & 0xc0) === 0;
}

/**
 * Decodes one STUN message. With `exact` (datagrams) the buffer must hold exactly one message; without it
 * (streams) trailing bytes are left alone.
 */
export function decodeStun(b: Uint8Array, exact = true): DecodeResult {
  if (b.length < HEADER_LENGTH) return { ok: false, reason: 'truncated' };
  if ((b[0] & 0xc0) !== 0) return { ok: false, reason: 'not-stun' };
  const length = (b[2] << 8) | b[3];
  if (length % 4 !== 0) return { ok: false, reason: 'bad-length' };
  const end = HEADER_LENGTH + length;
  if (end > b.length) return { ok: false, reason: 'truncated' };
  if (exact && end !== b.length) return { ok: false, reason: 'bad-length' };
  if (((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0 !== MAGIC_COOKIE) {
    return { ok: false, reason: 'bad-cookie' };
  }
  // RFC 8489 §5: the 14-bit type interleaves the method bits M0-M11 with the class bits C0-C1.
  const type = (b[0] << 8) | b[1];
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (type & 0x0110) as MessageClass;
  const raw = b.length === end ? b : b.subarray(0, end);
  const attrs: number[] = [];
  const message = new StunMessage(raw, method, cls, attrs);
  let unknown: number[] | undefined;
  let ignoring = false;
  for (let off = HEADER_LENGTH; off < end; ) {
    if (off + 4 > end) return { ok: false, reason: 'bad-attribute', message };
    const at = (raw[off] << 8) | raw[off + 1];
    const len = (raw[off + 2] << 8) | raw[off + 3];
    const next = off + 4 + len + ((4 - (len % 4)) % 4);
    if (next > end) return { ok: false, reason: 'bad-attribute', message };
    if (message.fingerprintOffset >= 0) return { ok: false, reason: 'bad-fingerprint', message };
    if (at === Attr.FINGERPRINT) {
      message.fingerprintOffset = off;
    } else if (at === Attr.MESSAGE_INTEGRITY_SHA256) {
      if (message.integritySha256Offset < 0) message.integritySha256Offset = off;
      ignoring = true;
    } else if (at === Attr.MESSAGE_INTEGRITY) {
      // RFC 8489 §14.5: "agents MUST ignore all other attributes that follow MESSAGE-INTEGRITY, with the
      // exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes."
      if (ignoring) {
        off = next;
        continue;
      }
      message.integrityOffset = off;
      ignoring = true;
    } else if (ignoring) {
      off = next;
      continue;
    } else if (isComprehensionRequired(at) && !ATTRIBUTES.has(at)) {
      (unknown ??= []).push(at);
    }
    attrs.push(at, off + 4, len);
    off = next;
  }
  if (message.fingerprintOffset >= 0) {
    // RFC 8489 §14.7: CRC-32 of the message up to (but excluding) the FINGERPRINT attribute, XOR 0x5354554e.
    const fp = message.fingerprintOffset;
    if ((raw[fp + 2] << 8 | raw[fp + 3]) !== 4) return { ok: false, reason: 'bad-fingerprint', message };
    const want = ((raw[fp + 4] << 24) | (raw[fp + 5] << 16) | (raw[fp + 6] << 8) | raw[fp + 7]) >>> 0;
    if (((crc32(raw, 0, fp) ^ FINGERPRINT_XOR) >>> 0) !== want) {
      return { ok: false, reason: 'bad-fingerprint', message };
    }
  }
  if (unknown !== undefined) return { ok: false, reason: 'unknown-attributes', message, unknown };
  return { ok: true, message };
}
