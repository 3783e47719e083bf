// Relayed transport addresses as the core sees them; the Node adapter binds the sockets.
import type { TransportAddress } from '../stun/address.ts';
import type { IcmpInfo } from '../stun/attributes/numeric.ts';
import type { PeerUnreachableKind } from '../stats/listener-stats.ts';
import type { TrafficCounters } from '../stats/traffic-counters.ts';

/** An ICMP error reported on a peer link: the kind counted, and the ICMP type and code to pass on to the client
 *  (RFC 8656 §11.5), undefined for an error the RFC does not pass on. */
export type PeerUnreachableHandler = (kind: PeerUnreachableKind, icmp: IcmpInfo | undefined) => void;

export interface RelaySocket {
  /** The relayed transport address advertised in XOR-RELAYED-ADDRESS. */
  readonly address: TransportAddress;
  /** Set by the core; the adapter calls it for every datagram a peer sends to this relay address. */
  onPeerDatagram: (data: Buffer, address: string, port: number) => void;
  /**
   * Sends a datagram to a peer and counts it in `counted` (tx packets and bytes) before it leaves, so that whoever
   * has it (the peer) and then reads the counters finds it there, even when they live in another thread. False,
   * and nothing counted, when it was dropped because the socket cannot take more now (its send queue is full).
   */
  send(data: Uint8Array, port: number, address: string, counted: TrafficCounters): boolean;
  /**
   * A path of its own to one peer transport address, for a channel bound to it: the adapter may open one (UDP:
   * a socket connected to the peer, which the kernel tells of ICMP errors), or not (undefined). `onUnreachable`
   * is called for each ICMP error reported on it. Closed by the core when the channel goes; closing the relay
   * closes them all.
   */
  openPeerLink?(address: string, port: number, onUnreachable: PeerUnreachableHandler): PeerLink | undefined;
  close(): void;
}

/** A relay socket's path to one peer transport address (RelaySocket.openPeerLink). */
export interface PeerLink {
  /** Set by the core; the adapter calls it for the datagrams of the link's peer that it received on the link. */
  onPeerDatagram: (data: Buffer) => void;
  /** Like RelaySocket.send, to the link's peer. */
  send(data: Uint8Array, counted: TrafficCounters): boolean;
  close(): void;
}

export interface RelayRequest {
  readonly family: 4 | 6;
  /** EVEN-PORT: the relay port must be even. */
  readonly evenPort: boolean;
  /** EVEN-PORT with R: also hold the next-higher port and return a token for it. */
  readonly reserveNext: boolean;
}

export type RelayResult =
  | { readonly ok: true; readonly socket: RelaySocket; readonly reservationToken?: Buffer }
  /** 508: no port free; 440: the family is not available on this listener. */
  | { readonly ok: false; readonly code: 440 | 508 };

export interface RelayAllocator {
  /** The address families this listener can relay for. */
  readonly families: ReadonlySet<4 | 6>;
  allocate(request: RelayRequest): Promise<RelayResult>;
  /** Claims the port a RESERVATION-TOKEN holds; undefined if unknown or expired. */
  claim(token: Uint8Array): Promise<RelaySocket | undefined>;
  /** Applies a new relay port range to allocations made from now on (existing relays keep their ports). */
  setPortRange(minPort: number, maxPort: number): void;
  /** The listener closes: reserved ports and relays still open are closed, and allocate answers 508. */
  close(): void;
}
