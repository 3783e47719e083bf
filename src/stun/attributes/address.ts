// Address attributes: RFC 8489 §14.1 MAPPED-ADDRESS, §14.2 XOR-MAPPED-ADDRESS, §14.15 ALTERNATE-SERVER;
// RFC 8656 §18.3 XOR-PEER-ADDRESS, §18.5 XOR-RELAYED-ADDRESS.
import { Attr } from '../constants.ts';
import { decodeAddress, encodeAddress, type TransportAddress } from '../address.ts';
import type { AttributeCodec } from './codec.ts';

function plain(type: number, name: string): AttributeCodec<TransportAddress> {
  return { type, name, decode: (v) => decodeAddress(v), encode: (a) => encodeAddress(a) };
}

function xored(type: number, name: string): AttributeCodec<TransportAddress> {
  return { type, name, decode: (v, key) => decodeAddress(v, key), encode: (a, key) => encodeAddress(a, key) };
}

export const MappedAddress = plain(Attr.MAPPED_ADDRESS, 'MAPPED-ADDRESS');
export const AlternateServer = plain(Attr.ALTERNATE_SERVER, 'ALTERNATE-SERVER');
export const XorMappedAddress = xored(Attr.XOR_MAPPED_ADDRESS, 'XOR-MAPPED-ADDRESS');
export const XorPeerAddress = xored(Attr.XOR_PEER_ADDRESS, 'XOR-PEER-ADDRESS');
export const XorRelayedAddress = xored(Attr.XOR_RELAYED_ADDRESS, 'XOR-RELAYED-ADDRESS');
