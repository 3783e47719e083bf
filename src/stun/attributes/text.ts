// UTF-8 text attributes and their length limits: RFC 8489 §14.3 USERNAME (< 513 bytes), §14.9 REALM and
// §14.10 NONCE (< 128 characters), §14.14 SOFTWARE (< 128 characters), §14.16 ALTERNATE-DOMAIN.
import { Attr } from '../constants.ts';
import type { AttributeCodec } from './codec.ts';

// ignoreBOM: a leading U+FEFF is part of the value, not a byte-order mark to strip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

function text(type: number, name: string, maxBytes: number, maxChars: number): AttributeCodec<string> {
  return {
    type,
    name,
    decode(v) {
      if (v.length > maxBytes) return undefined;
      let s: string;
      try {
        s = utf8.decode(v);
      } catch {
        return undefined;
      }
      return [...s].length > maxChars ? undefined : s;
    },
    encode(s) {
      const b = encoder.encode(s);
      return b.length > maxBytes || [...s].length > maxChars ? undefined : b;
    },
  };
}

export const Username = text(Attr.USERNAME, 'USERNAME', 512, 512);
export const Realm = text(Attr.REALM, 'REALM', 763, 127);
export const Nonce = text(Attr.NONCE, 'NONCE', 763, 127);
export const Software = text(Attr.SOFTWARE, 'SOFTWARE', 763, 127);
export const AlternateDomain = text(Attr.ALTERNATE_DOMAIN, 'ALTERNATE-DOMAIN', 255, 255);
