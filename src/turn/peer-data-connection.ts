// One peer data connection of a TCP allocation (RFC 6062 §2): from the Connect request or the peer's incoming
// connection, through the wait for ConnectionBind, to the end. It is an upstream (cluster) connection while
// its TCP connection exists (docs/metrics.md).
import { admits, type Admission } from '../cluster/peer-admission.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { Allocation } from './allocation.ts';
import type { PeerFlow, TcpPeerConnection } from './tcp-relay.ts';

export type PeerDataState = 'connecting' | 'pending' | 'bound' | 'closed';

export class PeerDataConnection implements PeerFlow {
  /** CONNECTION-ID; 0 until the TCP connection exists. */
  id = 0;
  readonly allocation: Allocation;
  readonly peerAddress: string;
  readonly peerPort: number;
  state: PeerDataState = 'connecting';
  cluster: ClusterStats;
  connection: TcpPeerConnection | undefined;
  /** §5.2, §5.3: "If no ConnectionBind request ... is received after 30 seconds, the peer data connection
   *  MUST be closed." */
  bindDeadline = 0;
  /** Removes it from the tables that hold it; set by whoever registered it. */
  onClosed: (c: PeerDataConnection) => void = () => {};

  constructor(allocation: Allocation, peerAddress: string, peerPort: number, admission: Admission) {
    this.allocation = allocation;
    this.peerAddress = peerAddress;
    this.peerPort = peerPort;
    this.cluster = admission.stats;
  }

  /** The TCP connection to the peer exists: it waits for ConnectionBind until `bindDeadline`. */
  opened(connection: TcpPeerConnection, id: number, bindDeadline: number): void {
    this.connection = connection;
    this.id = id;
    this.bindDeadline = bindDeadline;
    this.state = 'pending';
    this.cluster.connectionOpened();
    connection.onClose = () => this.close();
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
    if (next.stats === this.cluster) return;
    if (this.connection !== undefined && this.state !== 'closed') {
      this.cluster.connectionClosed();
      next.stats.connectionOpened();
    }
    this.cluster = next.stats;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const connection = this.connection;
    if (connection !== undefined) {
      this.cluster.connectionClosed();
      connection.onClose = () => {};
      connection.close();
    }
    this.onClosed(this);
  }
}
