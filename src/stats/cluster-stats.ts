// Plain counters for the peer flows one listener relays into one cluster ("on behalf of a listener").

export class ClusterStats {
  /** The listener name: the `name` label. */
  readonly listener: string;
  /** The cluster name: the `cluster` label. */
  readonly cluster: string;
  /** Upstream connections open now: permissions (UDP relay) or peer data connections (TCP relay). */
  connections = 0;
  connectionsTotal = 0;
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;

  constructor(listener: string, cluster: string) {
    this.listener = listener;
    this.cluster = cluster;
  }

  connectionOpened(): void {
    this.connections++;
    this.connectionsTotal++;
  }

  connectionClosed(): void {
    this.connections--;
  }
}
