// IP prefixes (CIDR) and the normalisation of IPv6 forms that embed an IPv4 address, for peer admission.
import { isIP } from 'node:net';
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from '../stun/ip.ts';
import { maskIpBytes } from '../config/ip-address.ts';

/** An address or prefix as 16 bytes (IPv4 in the IPv4-mapped form ::ffff:a.b.c.d) and a prefix length
 *  counted on those 128 bits, so one matcher serves both families. */
export interface IpPrefix {
  readonly bytes: Uint8Array;
  readonly bits: number;
  /** As written, for messages. */
  readonly text: string;
}

const V4_MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

export function ipToBytes(ip: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  if (writeIPv4(ip, out, 12)) {
    out.set(V4_MAPPED, 0);
    return out;
  }
  return ip.includes(':') && writeIPv6(ip, out, 0) ? out : undefined;
}

/** IPv4 text for IPv4-mapped bytes, RFC 5952 IPv6 text otherwise. */
export function bytesToIp(b: Uint8Array): string {
  return isV4Mapped(b) ? formatIPv4(b, 12) : formatIPv6(b, 0);
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (b[i] !== V4_MAPPED[i]) return false;
  return true;
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::y/n`; undefined if malformed. */
export function parsePrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  // node:net decides what is an address: ipToBytes alone would read `010.0.0.0` as IPv4 while the length
  // below was taken on 128 bits, so `010.0.0.0/8` would have admitted every IPv4 peer.
  const family = isIP(ip);
  const bytes = family === 0 ? undefined : ipToBytes(ip);
  if (bytes === undefined) return undefined;
  const v4 = family === 4;
  const max = v4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const s = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(s)) return undefined;
    len = Number(s);
    if (len > max) return undefined;
  }
  const bits = v4 ? 96 + len : len;
  return { bytes: maskIpBytes(bytes, bits), bits, text };
}


export function prefixContains(p: IpPrefix, addr: Uint8Array): boolean {
  let bits = p.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & m) !== p.bytes[i]) return false;
  }
  return true;
}

const NAT64 = parsePrefix('64:ff9b::/96')!;
const SIX_TO_FOUR = parsePrefix('2002::/16')!;

/**
 * docs/config.md: "after normalising IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6 forms to IPv4".
 * Returns the bytes of the IPv4 address (mapped form) a peer address really reaches, or the input.
 */
export function normalisePeer(b: Uint8Array): Uint8Array {
  if (isV4Mapped(b)) return b;
  let v4: Uint8Array | undefined;
  if (prefixContains(NAT64, b)) v4 = b.subarray(12, 16);
  else if (prefixContains(SIX_TO_FOUR, b)) v4 = b.subarray(2, 6);
  else if (isV4Compatible(b)) v4 = b.subarray(12, 16);
  if (v4 === undefined) return b;
  const out = new Uint8Array(16);
  out.set(V4_MAPPED, 0);
  out.set(v4, 12);
  return out;
}

/** ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated); `::` and `::1` are not. */
function isV4Compatible(b: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (b[i] !== 0) return false;
  return b[12] !== 0 || b[13] !== 0 || b[14] !== 0 || b[15] > 1;
}
