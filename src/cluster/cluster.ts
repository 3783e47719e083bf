// A cluster at run time: the set of peers it admits. STATIC clusters match prefixes (with optional port
// ranges); STRICT_DNS clusters match the addresses their host names resolved to most recently.
import type { ClusterConfig, ClusterProtocol } from '../config/types.ts';
import { ipToBytes, normalisePeer, parsePrefix, prefixContains, type IpPrefix } from './ip-prefix.ts';
import { parseStaticEndpoint } from '../config/cluster-endpoint.ts';

export interface EndpointMatch {
  readonly minPort: number;
  readonly maxPort: number;
  /** Prefix length (on 128 bits) of the endpoint that matched: how explicitly the cluster names the peer. */
  readonly bits: number;
}

/**
 * A resolved STRICT_DNS address matches with prefix length 0: a DNS answer never names a refused range
 * (link-local metadata, multicast...) explicitly, so a name that resolves there (DNS rebinding) is refused.
 */
const RESOLVED_HOST: EndpointMatch = { minPort: 0, maxPort: 65535, bits: 0 };

export class Cluster {
  readonly name: string;
  readonly type: ClusterConfig['type'];
  readonly protocol: ClusterProtocol;
  readonly config: ClusterConfig;
  #endpoints: { prefix: IpPrefix; minPort: number; maxPort: number }[] = [];
  /** STRICT_DNS: the addresses from the last resolution, normalised, as 16-byte mapped form. */
  #resolved: Uint8Array[] = [];

  constructor(config: ClusterConfig) {
    this.name = config.name;
    this.type = config.type;
    this.protocol = config.protocol;
    this.config = config;
    if (config.type === 'STATIC') {
      for (const e of config.endpoints) {
        const ep = parseStaticEndpoint(e);
        // The config was validated; an endpoint that still does not parse admits nothing.
        if (typeof ep === 'string') continue;
        const prefix = parsePrefix(`${ep.address}/${ep.prefixLength}`);
        if (prefix !== undefined) this.#endpoints.push({ prefix, minPort: ep.minPort, maxPort: ep.maxPort });
      }
    }
  }

  /** STRICT_DNS host names to resolve. */
  get hostnames(): readonly string[] {
    return this.type === 'STRICT_DNS' ? this.config.endpoints : [];
  }

  /** Replaces the resolved addresses of a STRICT_DNS cluster; returns true if the set changed. */
  setResolved(addresses: readonly string[]): boolean {
    // Normalised as peers are before matching, or a NAT64 / 6to4 answer could never match its own peer.
    const next = addresses.map(ipToBytes).filter((b): b is Uint8Array => b !== undefined).map(normalisePeer);
    const key = (l: Uint8Array[]) => l.map((b) => Buffer.from(b).toString('hex')).sort().join();
    if (key(next) === key(this.#resolved)) return false;
    this.#resolved = next;
    return true;
  }

  /** The endpoint that admits `addr` (16-byte mapped form, already normalised), if any. */
  match(addr: Uint8Array): EndpointMatch | undefined {
    if (this.type === 'STRICT_DNS') {
      for (const r of this.#resolved) if (Buffer.compare(r, addr) === 0) return RESOLVED_HOST;
      return undefined;
    }
    for (const e of this.#endpoints) {
      if (prefixContains(e.prefix, addr)) return { minPort: e.minPort, maxPort: e.maxPort, bits: e.prefix.bits };
    }
    return undefined;
  }

  get prefixes(): readonly IpPrefix[] {
    return this.#endpoints.map((e) => e.prefix);
  }
}
