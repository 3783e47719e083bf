// Cluster endpoints as written in the config: `IP`, `CIDR`, either with an optional `:<min-max>` peer port
// range (STATIC), or a host name (STRICT_DNS).
import { parsePrefix, type IpPrefix } from './ip-prefix.ts';

export interface StaticEndpoint {
  readonly prefix: IpPrefix;
  readonly minPort: number;
  readonly maxPort: number;
}

const PORT_RANGE = /:<(\d{1,5})-(\d{1,5})>$/;

/** Returns the endpoint, or a message saying what is wrong with it. */
export function parseStaticEndpoint(text: string): StaticEndpoint | string {
  let minPort = 0;
  let maxPort = 65535;
  let addr = text.trim();
  const m = PORT_RANGE.exec(addr);
  if (m !== null) {
    minPort = Number(m[1]);
    maxPort = Number(m[2]);
    if (minPort > 65535 || maxPort > 65535 || minPort > maxPort) {
      return `port range must be <min-max> within 0..65535 with min <= max, got "${m[0].slice(1)}"`;
    }
    addr = addr.slice(0, m.index);
  }
  const prefix = parsePrefix(addr);
  if (prefix === undefined) return `want an IP address or CIDR prefix with optional :<min-max> port range, got "${text}"`;
  return { prefix, minPort, maxPort };
}
