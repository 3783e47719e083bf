// IP address text <-> bytes, for checking and normalising cluster endpoints (CIDR masking needs
// the bytes; RFC 5952 gives the canonical IPv6 text).

import { isIP } from 'node:net';
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from '../stun/ip.ts';

/** 4 bytes for IPv4, 16 for IPv6; undefined when `text` is not an IP address. */
export function parseIpBytes(text: string): Uint8Array | undefined {
  const family = isIP(text);
  const out = new Uint8Array(family === 4 ? 4 : 16);
  if (family === 4) return writeIPv4(text, out, 0) ? out : undefined;
  return family === 6 && writeIPv6(text, out, 0) ? out : undefined;
}

/** Dotted quad for 4 bytes, RFC 5952 text for 16 (as Node prints addresses). */
export function formatIpBytes(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIPv4(bytes, 0) : formatIPv6(bytes, 0);
}

/** Clears the host bits beyond `prefixLength`. */
export function maskIpBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLength - 8 * i));
    out[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}
