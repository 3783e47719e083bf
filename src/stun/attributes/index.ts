// Every attribute this codec understands, keyed by its numeric type. A comprehension-required attribute
// that is not in this table makes a request fail with 420 (RFC 8489 §14).
import type { AttributeCodec } from './codec.ts';
import { AlternateServer, MappedAddress, XorMappedAddress, XorPeerAddress, XorRelayedAddress } from './address.ts';
import { AlternateDomain, Nonce, Realm, Software, Username } from './text.ts';
import {
  AdditionalAddressFamily, ChannelNumber, ConnectionId, DontFragment, EvenPort, Fingerprint, Icmp, Lifetime,
  RequestedAddressFamily, RequestedTransport,
} from './numeric.ts';
import { Data, MessageIntegrity, MessageIntegritySha256, ReservationToken, UserHash } from './opaque.ts';
import { AddressErrorCode, ErrorCode, UnknownAttributes } from './errors.ts';
import { PasswordAlgorithm, PasswordAlgorithms } from './password-algorithm.ts';
import { IceControlled, IceControlling, Priority, UseCandidate } from './ice.ts';

export * from './address.ts';
export * from './text.ts';
export * from './numeric.ts';
export * from './opaque.ts';
export * from './errors.ts';
export * from './password-algorithm.ts';
export * from './ice.ts';
export type { AttributeCodec } from './codec.ts';

export const ATTRIBUTES: ReadonlyMap<number, AttributeCodec<unknown>> = new Map(
  ([
    MappedAddress, XorMappedAddress, AlternateServer, XorPeerAddress, XorRelayedAddress,
    Username, Realm, Nonce, Software, AlternateDomain,
    Lifetime, ConnectionId, Fingerprint, ChannelNumber, RequestedTransport, RequestedAddressFamily,
    AdditionalAddressFamily, EvenPort, DontFragment, Icmp,
    Data, ReservationToken, UserHash, MessageIntegrity, MessageIntegritySha256,
    ErrorCode, AddressErrorCode, UnknownAttributes, PasswordAlgorithm, PasswordAlgorithms,
    Priority, UseCandidate, IceControlled, IceControlling,
  ] as AttributeCodec<unknown>[]).map((c) => [c.type, c]),
);
