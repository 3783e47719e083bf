// One peer data connection of a TCP allocation (RFC 6062 §2): from the Connect request or the peer's incoming
// connection, through the wait for ConnectionBind, to the end. It is an upstream (cluster) connection while
// its TCP connection exists (docs/metrics.md). Its state changes only through its methods.
import { admits, type Admission } from '../cluster/peer-admission.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { Allocation } from './allocation.ts';
import type { ClientLink } from './client-link.ts';
import type { PeerFlow, TcpPeerConnection } from './tcp-relay.ts';

export type PeerDataState = 'connecting' | 'pending' | 'bound' | 'closed';

export class PeerDataConnection implements PeerFlow {
  readonly allocation: Allocation;
  readonly peerAddress: string;
  readonly peerPort: number;
  #id = 0;
  #state: PeerDataState = 'connecting';
  #cluster: ClusterStats;
  #connection: TcpPeerConnection | undefined = undefined;
  #bindDeadline = 0;
  /** Removes it from the tables that hold it. */
  readonly #onClosed: (c: PeerDataConnection) => void;

  constructor(allocation: Allocation, peerAddress: string, peerPort: number, admission: Admission,
    onClosed: (c: PeerDataConnection) => void) {
    this.allocation = allocation;
    this.peerAddress = peerAddress;
    this.peerPort = peerPort;
    this.#cluster = admission.stats;
    this.#onClosed = onClosed;
  }

  /** CONNECTION-ID; 0 until the TCP connection exists. */
  get id(): number {
    return this.#id;
  }

  get state(): PeerDataState {
    return this.#state;
  }

  /** What relayed bytes are counted against; read per chunk (PeerFlow). */
  get cluster(): ClusterStats {
    return this.#cluster;
  }

  get connection(): TcpPeerConnection | undefined {
    return this.#connection;
  }

  /** §5.2, §5.3: "If no ConnectionBind request ... is received after 30 seconds, the peer data connection
   *  MUST be closed." */
  get bindDeadline(): number {
    return this.#bindDeadline;
  }

  /** The TCP connection to the peer exists: it waits for ConnectionBind until `bindDeadline`. */
  opened(connection: TcpPeerConnection, id: number, bindDeadline: number): void {
    this.#connection = connection;
    this.#id = id;
    this.#bindDeadline = bindDeadline;
    this.#state = 'pending';
    this.#cluster.connectionOpened();
    connection.onClose = () => this.close();
  }

  /**
   * ConnectionBind succeeded (§5.4): `client` becomes the client data connection, bytes flow as they are. Only
   * a pending connection binds; if `client` cannot carry raw bytes, the peer data connection closes.
   */
  bind(client: ClientLink): boolean {
    const connection = this.#connection;
    if (this.#state !== 'pending' || connection === undefined) return false;
    if (!connection.bind(client, this)) {
      this.close();
      return false;
    }
    this.#state = 'bound';
    return true;
  }

  /**
   * After a reconfiguration: the peer's cluster may have changed (counting moves with it) or the peer may no
   * longer be admitted, in which case the connection closes at once (docs/config.md, "Reconfiguration").
   */
  readmit(next: Admission | undefined): void {
    if (!admits(next, this.peerPort)) {
      this.close();
      return;
    }
    if (next.stats === this.#cluster) return;
    if (this.#connection !== undefined && this.#state !== 'closed') {
      this.#cluster.connectionClosed();
      next.stats.connectionOpened();
    }
    this.#cluster = next.stats;
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const connection = this.#connection;
    if (connection !== undefined) {
      this.#cluster.connectionClosed();
      connection.onClose = () => {};
      connection.close();
    }
    this.#onClosed(this);
  }
}
