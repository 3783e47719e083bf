// Which peers a listener may relay to (docs/config.md, "Peer admission"): the first cluster, in route
// order, with an endpoint containing the normalised peer address names the flow. Decided once per
// permission and channel, then cached on it, so the data path only reads a field.
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { Cluster } from './cluster.ts';
import { ipToBytes, normalisePeer, parsePrefix, prefixContains, type IpPrefix } from './ip-prefix.ts';

export interface Admission {
  readonly cluster: Cluster;
  readonly stats: ClusterStats;
  /** Peer ports this permission may reach (from the endpoint's `:<min-max>`). */
  readonly minPort: number;
  readonly maxPort: number;
}

export type AdmissionResult = Admission | 'forbidden' | 'malformed';

/**
 * True when `admission` still admits the peer (a reconfiguration may have withdrawn it) and `port` is inside
 * its endpoint's port range. Called per packet: two field reads, no allocation. (Read the predicate one way:
 * true means an Admission; false may also mean a defined one with the port outside its range.)
 */
export function admits(admission: Admission | undefined, port: number): admission is Admission {
  return admission !== undefined && port >= admission.minPort && port <= admission.maxPort;
}

/**
 * Unspecified, multicast, broadcast and link-local peers (cloud metadata at 169.254.169.254 among them) are
 * refused even under 0.0.0.0/0, unless an endpoint names the range at least as specifically.
 */
const REFUSED: readonly IpPrefix[] = [
  '0.0.0.0/8', '::/128', '224.0.0.0/4', 'ff00::/8', '255.255.255.255/32', '169.254.0.0/16', 'fe80::/10',
].map((p) => parsePrefix(p)!);

export class PeerAdmission {
  readonly listener: string;
  readonly #routes: readonly Cluster[];
  readonly #stats: (cluster: string) => ClusterStats;

  constructor(listener: string, routes: readonly Cluster[], stats: (cluster: string) => ClusterStats) {
    this.listener = listener;
    this.#routes = routes;
    this.#stats = stats;
  }

  /** True if some routed cluster relays TCP (RFC 6062 allocations are possible). */
  get allowsTcp(): boolean {
    return this.#routes.some((c) => c.protocol === 'TCP');
  }

  admit(peerIp: string, protocol: 'UDP' | 'TCP' = 'UDP'): AdmissionResult {
    const raw = ipToBytes(peerIp);
    if (raw === undefined) return 'malformed';
    const addr = normalisePeer(raw);
    const refused = REFUSED.find((p) => prefixContains(p, addr));
    for (const cluster of this.#routes) {
      if (cluster.protocol !== protocol) continue;
      const m = cluster.match(addr);
      if (m === undefined) continue;
      if (refused !== undefined && m.bits < refused.bits) continue;
      return { cluster, stats: this.#stats(cluster.name), minPort: m.minPort, maxPort: m.maxPort };
    }
    return 'forbidden';
  }
}
