// Transport addresses in (XOR-)MAPPED-ADDRESS form, RFC 8489 §14.1 and §14.2.
import { MAGIC_COOKIE } from './constants.ts';
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from './ip.ts';

export interface TransportAddress {
  readonly family: 4 | 6;
  /** Text form as Node reports it: `192.0.2.1`, `2001:db8::1`. */
  readonly address: string;
  readonly port: number;
}

const FAMILY_V4 = 0x01;
const FAMILY_V6 = 0x02;

/**
 * Decodes the value of an address attribute; with `xorKey` (magic cookie + transaction id, 16 bytes) it is
 * an XOR-*-ADDRESS. Returns undefined on a malformed value.
 */
export function decodeAddress(v: Uint8Array, xorKey?: Uint8Array): TransportAddress | undefined {
  if (v.length < 4) return undefined;
  const family = v[1];
  let port = (v[2] << 8) | v[3];
  if (xorKey !== undefined) port ^= MAGIC_COOKIE >>> 16;
  if (family === FAMILY_V4) {
    if (v.length !== 8) return undefined;
    if (xorKey === undefined) return { family: 4, address: formatIPv4(v, 4), port };
    const b = new Uint8Array(4);
    for (let i = 0; i < 4; i++) b[i] = v[4 + i] ^ xorKey[i];
    return { family: 4, address: formatIPv4(b, 0), port };
  }
  if (family === FAMILY_V6) {
    if (v.length !== 20) return undefined;
    if (xorKey === undefined) return { family: 6, address: formatIPv6(v, 4), port };
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = v[4 + i] ^ xorKey[i];
    return { family: 6, address: formatIPv6(b, 0), port };
  }
  return undefined;
}

/** Encodes an address attribute value (8 or 20 bytes); undefined if the address text is not an IP or the
 *  port is not 0..65535. */
export function encodeAddress(a: TransportAddress, xorKey?: Uint8Array): Uint8Array | undefined {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) return undefined;
  const v4 = a.family === 4;
  const out = new Uint8Array(v4 ? 8 : 20);
  out[1] = v4 ? FAMILY_V4 : FAMILY_V6;
  const port = xorKey === undefined ? a.port : a.port ^ (MAGIC_COOKIE >>> 16);
  out[2] = port >> 8;
  out[3] = port & 0xff;
  if (!(v4 ? writeIPv4(a.address, out, 4) : writeIPv6(a.address, out, 4))) return undefined;
  if (xorKey !== undefined) for (let i = 4; i < out.length; i++) out[i] ^= xorKey[i - 4];
  return out;
}

/** The XOR key of a message: the magic cookie followed by its transaction id (bytes 4..20 of the header). */
export function xorKeyOf(header: Uint8Array): Uint8Array {
  return header.subarray(4, 20);
}
