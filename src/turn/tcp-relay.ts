// The TCP relay of RFC 6062 allocations as the core sees it: a relayed TCP address that accepts and opens peer
// connections, and the peer data connections themselves. The Node adapter does the I/O (src/server/tcp-relay.ts).
import type { TransportAddress } from '../stun/address.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { ClientLink } from './client-link.ts';

/** What bytes relayed on a peer data connection are counted against; read per chunk, so a reconfiguration
 *  that moves the peer to another cluster moves the counting with it. */
export interface PeerFlow {
  readonly cluster: ClusterStats;
}

/** A TCP connection between a relayed address and a peer. It reads nothing until bound (RFC 6062 §5.2, §5.3:
 *  "The server MUST buffer any data received from the peer"; the TCP window does the buffering). */
export interface TcpPeerConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Set by the core; called once when the connection closes, whichever side closed it. */
  onClose: () => void;
  /**
   * RFC 6062 §5.4: from now on bytes go as they are between this connection and the client data connection
   * `client`, counted on `flow.cluster` (one packet per chunk relayed). False if `client` is not a stream.
   */
  bind(client: ClientLink, flow: PeerFlow): boolean;
  close(): void;
}

/** A relayed transport address of a TCP allocation: a listening TCP socket. */
export interface TcpRelay {
  readonly address: TransportAddress;
  /** Set by the core; the adapter calls it for every connection a peer opens to this address (§5.3). */
  onPeerConnection: (connection: TcpPeerConnection) => void;
  /** Opens a connection to a peer (§5.2); undefined when it fails or times out (at least 30 s). */
  connect(address: string, port: number): Promise<TcpPeerConnection | undefined>;
  close(): void;
}

export type TcpRelayResult =
  | { readonly ok: true; readonly relay: TcpRelay }
  /** 508: no port free; 440: the family is not available on this listener. */
  | { readonly ok: false; readonly code: 440 | 508 };

export interface TcpRelayAllocator {
  readonly families: ReadonlySet<4 | 6>;
  allocate(family: 4 | 6): Promise<TcpRelayResult>;
  /** Applies a new relay port range to allocations made from now on (existing relays keep their ports). */
  setPortRange(minPort: number, maxPort: number): void;
  /** The listener closes: relays still listening are closed, and allocate answers 508. */
  close(): void;
}
