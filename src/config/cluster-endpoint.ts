// STATIC cluster endpoints: `IP`, `CIDR`, and either with a peer port range `:<min-max>`
// (upstream v1 syntax, e.g. `10.0.0.0/8:<10000-20000>`).

import { formatIpBytes, maskIpBytes, parseIpBytes } from './ip-address.ts';

export interface StaticEndpoint {
  readonly family: 4 | 6;
  /** Network address (host bits cleared), canonical text. */
  readonly address: string;
  /** 32 or 128 for a bare address. */
  readonly prefixLength: number;
  /** Peer port range, inclusive; 1..65535 when none is written. */
  readonly minPort: number;
  readonly maxPort: number;
  /** Canonical text: as written, with the address normalised and host bits cleared. */
  readonly text: string;
}

const PORT_RANGE = /^(.*):<(\d+)-(\d+)>$/;

/** Parses one STATIC endpoint; a string result says what is wrong with it. */
export function parseStaticEndpoint(raw: string): StaticEndpoint | string {
  const text = raw.trim();
  let addrPart = text;
  let minPort = 1;
  let maxPort = 65535;
  let ranged = false;
  const range = PORT_RANGE.exec(text);
  if (range !== null) {
    [addrPart, minPort, maxPort, ranged] = [range[1], Number(range[2]), Number(range[3]), true];
    if (minPort < 1 || maxPort > 65535 || minPort > maxPort) {
      return `port range must be <min-max> with 1 <= min <= max <= 65535, got ${JSON.stringify(raw)}`;
    }
  }
  if (addrPart.startsWith('[') && addrPart.endsWith(']')) addrPart = addrPart.slice(1, -1);
  const slash = addrPart.indexOf('/');
  const ipText = slash < 0 ? addrPart : addrPart.slice(0, slash);
  const bytes = parseIpBytes(ipText);
  if (bytes === undefined) {
    if (range === null && /:<|:\d+$/.test(text) && parseIpBytes(text.replace(/:\d+$/, '')) !== undefined) {
      return `a peer port is written as IP:<min-max>, got ${JSON.stringify(raw)}`;
    }
    return `must be an IP address or CIDR prefix, optionally with :<min-max> ports, got ${JSON.stringify(raw)}`;
  }
  const bits = bytes.length * 8;
  let prefixLength = bits;
  if (slash >= 0) {
    const len = addrPart.slice(slash + 1);
    prefixLength = /^\d{1,3}$/.test(len) ? Number(len) : NaN;
    if (!(prefixLength <= bits)) return `prefix length must be 0..${bits}, got ${JSON.stringify(raw)}`;
  }
  const address = formatIpBytes(maskIpBytes(bytes, prefixLength));
  const cidr = slash >= 0 ? `${address}/${prefixLength}` : address;
  return {
    family: bytes.length === 4 ? 4 : 6,
    address,
    prefixLength,
    minPort,
    maxPort,
    text: ranged ? `${cidr}:<${minPort}-${maxPort}>` : cidr,
  };
}
