// Label sets of the gateway metrics, built once per stats object and reused by every collection, so a scrape
// allocates data points but not 10,000s of identical attribute objects. Key order is the label order of the
// exposition (docs/metrics.md table order).
import type { Attributes } from '@opentelemetry/api';
import type { ListenerStats } from '../stats/listener-stats.ts';
import { DROP_REASONS, PEER_UNREACHABLE_KINDS, SEND_DROP_SIDES, splitRequestKey } from '../stats/listener-stats.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';

export interface ListenerLabels {
  readonly name: Attributes;
  readonly rx: Attributes;
  readonly tx: Attributes;
  /** Indexed like `ListenerStats.drops`. */
  readonly drops: readonly Attributes[];
  /** Indexed like `ListenerStats.sendDrops`. */
  readonly sendDrops: readonly Attributes[];
  /** Indexed like `ListenerStats.peerUnreachable`. */
  readonly peerUnreachable: readonly Attributes[];
  /** Keyed like `ListenerStats.requests`. */
  readonly requests: Map<number, Attributes>;
}

export interface ClusterLabels {
  readonly pair: Attributes;
  readonly rx: Attributes;
  readonly tx: Attributes;
}

const listenerCache = new WeakMap<ListenerStats, ListenerLabels>();
const clusterCache = new WeakMap<ClusterStats, ClusterLabels>();

export function listenerLabels(s: ListenerStats): ListenerLabels {
  let l = listenerCache.get(s);
  if (l === undefined) {
    const name = s.name;
    l = {
      name: freeze({ name }),
      rx: freeze({ direction: 'rx', name }),
      tx: freeze({ direction: 'tx', name }),
      drops: DROP_REASONS.map((reason) => freeze({ name, reason })),
      sendDrops: SEND_DROP_SIDES.map((to) => freeze({ name, to })),
      peerUnreachable: PEER_UNREACHABLE_KINDS.map((icmp) => freeze({ name, icmp })),
      requests: new Map(),
    };
    listenerCache.set(s, l);
  }
  return l;
}

export function requestLabels(s: ListenerStats, l: ListenerLabels, key: number): Attributes {
  let a = l.requests.get(key);
  if (a === undefined) {
    const { method, code } = splitRequestKey(key);
    a = freeze({ name: s.name, method, code: String(code) });
    l.requests.set(key, a);
  }
  return a;
}

export function clusterLabels(s: ClusterStats): ClusterLabels {
  let c = clusterCache.get(s);
  if (c === undefined) {
    const { listener: name, cluster } = s;
    c = {
      pair: freeze({ name, cluster }),
      rx: freeze({ direction: 'rx', name, cluster }),
      tx: freeze({ direction: 'tx', name, cluster }),
    };
    clusterCache.set(s, c);
  }
  return c;
}

function freeze(a: Attributes): Attributes {
  return Object.freeze(a);
}
