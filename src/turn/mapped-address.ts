// The client's server-reflexive transport address for XOR-MAPPED-ADDRESS (RFC 8489 §14.2). A dual-stack listener
// (`::`) sees IPv4 clients as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d); the client sent from, and must learn,
// the IPv4 address.
import type { TransportAddress } from '../stun/address.ts';
import type { ClientLink } from './client-link.ts';

const V4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

export function mappedAddress(link: ClientLink): TransportAddress {
  const address = link.remoteAddress;
  const v4 = V4_MAPPED.exec(address);
  if (v4 !== null) return { family: 4, address: v4[1], port: link.remotePort };
  return { family: address.includes(':') ? 6 : 4, address, port: link.remotePort };
}
