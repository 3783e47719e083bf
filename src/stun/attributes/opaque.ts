// Attributes carried as opaque bytes: RFC 8656 §18.4 DATA, §18.10 RESERVATION-TOKEN (8 bytes);
// RFC 8489 §14.4 USERHASH (32 bytes), §14.5 MESSAGE-INTEGRITY (20 bytes), §14.6 MESSAGE-INTEGRITY-SHA256
// (16 to 32 bytes, a multiple of 4).
import { Attr } from '../constants.ts';
import type { AttributeCodec } from './codec.ts';

function bytes(type: number, name: string, ok: (len: number) => boolean): AttributeCodec<Uint8Array> {
  return {
    type,
    name,
    decode: (v) => (ok(v.length) ? v : undefined),
    encode: (v) => (ok(v.length) ? v : undefined),
  };
}

export const Data = bytes(Attr.DATA, 'DATA', () => true);
export const ReservationToken = bytes(Attr.RESERVATION_TOKEN, 'RESERVATION-TOKEN', (n) => n === 8);
export const UserHash = bytes(Attr.USERHASH, 'USERHASH', (n) => n === 32);
export const MessageIntegrity = bytes(Attr.MESSAGE_INTEGRITY, 'MESSAGE-INTEGRITY', (n) => n === 20);
export const MessageIntegritySha256 = bytes(Attr.MESSAGE_INTEGRITY_SHA256, 'MESSAGE-INTEGRITY-SHA256',
  (n) => n >= 16 && n <= 32 && n % 4 === 0);
