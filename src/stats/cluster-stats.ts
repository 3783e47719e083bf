// Plain counters for the peer flows one listener relays into one cluster ("on behalf of a listener").
// Upstream connections are permissions (UDP relay) or peer data connections (TCP relay).
import { TRAFFIC_GAUGE_SLOTS, TRAFFIC_SLOTS, TrafficCounters } from './traffic-counters.ts';

export class ClusterStats extends TrafficCounters {
  /** Float64 slots one ClusterStats occupies. */
  static readonly SLOTS = TRAFFIC_SLOTS;
  static readonly GAUGE_SLOTS = TRAFFIC_GAUGE_SLOTS;
  /** The listener name: the `name` label. */
  readonly listener: string;
  /** The cluster name: the `cluster` label. */
  readonly cluster: string;

  constructor(listener: string, cluster: string, memory: Float64Array<ArrayBufferLike> = new Float64Array(ClusterStats.SLOTS)) {
    super(memory);
    this.listener = listener;
    this.cluster = cluster;
  }
}
