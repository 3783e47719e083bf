// Plain counters for the peer flows one listener relays into one cluster ("on behalf of a listener").
// Upstream connections are permissions (UDP relay) or peer data connections (TCP relay).
import { TrafficCounters } from './traffic-counters.ts';

export class ClusterStats extends TrafficCounters {
  /** The listener name: the `name` label. */
  readonly listener: string;
  /** The cluster name: the `cluster` label. */
  readonly cluster: string;

  constructor(listener: string, cluster: string) {
    super();
    this.listener = listener;
    this.cluster = cluster;
  }
}
