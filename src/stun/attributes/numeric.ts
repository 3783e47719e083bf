// Fixed-size numeric attributes: RFC 8656 §18.1 CHANNEL-NUMBER, §18.2 LIFETIME, §18.6 EVEN-PORT,
// §18.7 REQUESTED-TRANSPORT, §18.8 REQUESTED-ADDRESS-FAMILY, §18.11 ADDITIONAL-ADDRESS-FAMILY;
// RFC 6062 §6.2.1 CONNECTION-ID; RFC 8489 §14.7 FINGERPRINT.
import { Attr } from '../constants.ts';
import type { AttributeCodec } from './codec.ts';

function u32(type: number, name: string): AttributeCodec<number> {
  return {
    type,
    name,
    decode: (v) => (v.length === 4 ? ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0 : undefined),
    encode: (n) => (Number.isInteger(n) && n >= 0 && n <= 0xffffffff
      ? Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
      : undefined),
  };
}

/** A value in the first 1 (or 2) bytes followed by RFFU padding to 4 bytes. */
function leading(type: number, name: string, bytes: 1 | 2): AttributeCodec<number> {
  const max = bytes === 1 ? 0xff : 0xffff;
  return {
    type,
    name,
    decode: (v) => (v.length === 4 ? (bytes === 1 ? v[0] : (v[0] << 8) | v[1]) : undefined),
    encode: (n) => {
      if (!Number.isInteger(n) || n < 0 || n > max) return undefined;
      return bytes === 1 ? Uint8Array.of(n, 0, 0, 0) : Uint8Array.of(n >> 8, n & 0xff, 0, 0);
    },
  };
}

export const Lifetime = u32(Attr.LIFETIME, 'LIFETIME');
export const ConnectionId = u32(Attr.CONNECTION_ID, 'CONNECTION-ID');
export const Fingerprint = u32(Attr.FINGERPRINT, 'FINGERPRINT');
export const ChannelNumber = leading(Attr.CHANNEL_NUMBER, 'CHANNEL-NUMBER', 2);
/** The IANA protocol number: 17 (UDP) or 6 (TCP, RFC 6062). */
export const RequestedTransport = leading(Attr.REQUESTED_TRANSPORT, 'REQUESTED-TRANSPORT', 1);
/** 0x01 IPv4, 0x02 IPv6. */
export const RequestedAddressFamily = leading(Attr.REQUESTED_ADDRESS_FAMILY, 'REQUESTED-ADDRESS-FAMILY', 1);
export const AdditionalAddressFamily = leading(Attr.ADDITIONAL_ADDRESS_FAMILY, 'ADDITIONAL-ADDRESS-FAMILY', 1);

/** RFC 8656 §18.6: one byte whose high bit R asks for the next-higher port to be reserved too. */
export const EvenPort: AttributeCodec<{ reserve: boolean }> = {
  type: Attr.EVEN_PORT,
  name: 'EVEN-PORT',
  // Clients in the field send 1 byte (as the RFC draws it) or pad it to 4.
  decode: (v) => (v.length === 1 || v.length === 4 ? { reserve: (v[0] & 0x80) !== 0 } : undefined),
  encode: (e) => Uint8Array.of(e.reserve ? 0x80 : 0),
};

/** RFC 8656 §18.9: an attribute with no value; its presence is the flag. */
export const DontFragment: AttributeCodec<true> = {
  type: Attr.DONT_FRAGMENT,
  name: 'DONT-FRAGMENT',
  decode: (v) => (v.length === 0 ? true : undefined),
  encode: () => new Uint8Array(0),
};

/** RFC 8656 §18.13: ICMP type, code and 4 bytes of error data, after 2 reserved bytes. */
export interface IcmpInfo {
  readonly type: number;
  readonly code: number;
  readonly data: number;
}

export const Icmp: AttributeCodec<IcmpInfo> = {
  type: Attr.ICMP,
  name: 'ICMP',
  decode: (v) => (v.length === 8
    ? { type: v[2], code: v[3], data: ((v[4] << 24) | (v[5] << 16) | (v[6] << 8) | v[7]) >>> 0 }
    : undefined),
  encode: (i) => Uint8Array.of(0, 0, i.type & 0xff, i.code & 0xff,
    i.data >>> 24, (i.data >>> 16) & 0xff, (i.data >>> 8) & 0xff, i.data & 0xff),
};
