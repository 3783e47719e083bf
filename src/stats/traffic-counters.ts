// The counters listeners and clusters share: connections open and opened, packets and bytes each way.

export class TrafficCounters {
  /** Connections open now (what "connection" means differs for listeners and clusters: docs/metrics.md). */
  connections = 0;
  connectionsTotal = 0;
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;

  connectionOpened(): void {
    this.connections++;
    this.connectionsTotal++;
  }

  connectionClosed(): void {
    this.connections--;
  }
}
