// Error reporting attributes: RFC 8489 §14.8 ERROR-CODE, §14.13 UNKNOWN-ATTRIBUTES;
// RFC 8656 §18.12 ADDRESS-ERROR-CODE.
import { Attr, ERROR_REASONS } from '../constants.ts';
import type { AttributeCodec } from './codec.ts';

export interface ErrorCodeValue {
  /** 300..699 */
  readonly code: number;
  readonly reason: string;
}

export interface AddressErrorCodeValue extends ErrorCodeValue {
  /** 0x01 IPv4, 0x02 IPv6 */
  readonly family: number;
}

// ignoreBOM: a leading U+FEFF is part of the value, not a byte-order mark to strip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** RFC 8489 §14.8: "The reason phrase MUST be a UTF-8-encoded sequence of fewer than 128 characters (which
 *  can be as long as 509 bytes when encoding them or 763 bytes when decoding them)." */
const MAX_REASON_BYTES = 763;

function decodeCode(v: Uint8Array): ErrorCodeValue | undefined {
  if (v.length < 4 || v.length > 4 + MAX_REASON_BYTES) return undefined;
  const cls = v[2] & 0x07;
  const num = v[3];
  if (cls < 3 || cls > 6 || num > 99) return undefined;
  try {
    return { code: cls * 100 + num, reason: utf8.decode(v.subarray(4)) };
  } catch {
    return undefined;
  }
}

function encodeCode(e: ErrorCodeValue, first: number): Uint8Array | undefined {
  if (!Number.isInteger(e.code) || e.code < 300 || e.code > 699) return undefined;
  const reason = encoder.encode(e.reason);
  if (reason.length > MAX_REASON_BYTES || [...e.reason].length >= 128) return undefined;
  const out = new Uint8Array(4 + reason.length);
  out[0] = first;
  out[2] = Math.floor(e.code / 100);
  out[3] = e.code % 100;
  out.set(reason, 4);
  return out;
}

export const ErrorCode: AttributeCodec<ErrorCodeValue> = {
  type: Attr.ERROR_CODE,
  name: 'ERROR-CODE',
  decode: decodeCode,
  encode: (e) => encodeCode(e, 0),
};

export const AddressErrorCode: AttributeCodec<AddressErrorCodeValue> = {
  type: Attr.ADDRESS_ERROR_CODE,
  name: 'ADDRESS-ERROR-CODE',
  decode: (v) => {
    const e = decodeCode(v);
    return e === undefined ? undefined : { family: v[0], ...e };
  },
  encode: (e) => encodeCode(e, e.family),
};

/** An ERROR-CODE value with the standard reason phrase. */
export function errorCode(code: number, reason?: string): ErrorCodeValue {
  return { code, reason: reason ?? ERROR_REASONS[code] ?? 'Error' };
}

export const UnknownAttributes: AttributeCodec<readonly number[]> = {
  type: Attr.UNKNOWN_ATTRIBUTES,
  name: 'UNKNOWN-ATTRIBUTES',
  decode: (v) => {
    if (v.length % 2 !== 0) return undefined;
    const out: number[] = [];
    for (let i = 0; i < v.length; i += 2) out.push((v[i] << 8) | v[i + 1]);
    return out;
  },
  encode: (types) => {
    const out = new Uint8Array(types.length * 2);
    types.forEach((t, i) => {
      out[2 * i] = t >> 8;
      out[2 * i + 1] = t & 0xff;
    });
    return out;
  },
};
