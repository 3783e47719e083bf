// Which address a listener and its relays bind, and which the relays advertise in XOR-RELAYED-ADDRESS.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface RelayAddressPlan {
  /** Bind address per family this listener can relay for. */
  readonly bind: ReadonlyMap<4 | 6, string>;
  /** Advertised address per family. */
  readonly advertise: ReadonlyMap<4 | 6, string>;
}

/**
 * Where a listener with this address binds: the address itself when this host has it, else the wildcard of its
 * family. An address the host does not have is an address in front of it (a node's external IP, a load
 * balancer's, NAT): as upstream stunnerd, the gateway then listens on every address and advertises that one.
 */
export function listenerBindAddress(listenerAddress: string): string {
  const family = isIP(listenerAddress);
  if (family === 0 || isLocalAddress(listenerAddress)) return listenerAddress;
  return family === 6 ? '::' : '0.0.0.0';
}

/** Whether this host has `address` (wildcards and the loopback ranges count as its own). */
export function isLocalAddress(address: string): boolean {
  if (address === '0.0.0.0' || address === '::' || address === '::1' || address.startsWith('127.')) return true;
  const want = address.toLowerCase();
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.address.toLowerCase() === want) return true;
  }
  return false;
}

/**
 * A concrete listener address relays for its own family, bound and advertised as is (STUNner sets it to
 * the pod IP, `$STUNNER_ADDR`); one this host does not have is advertised as is and bound to the wildcard
 * (listenerBindAddress). A wildcard binds relays to the wildcard and advertises the first non-internal
 * interface address of the family (loopback if there is none); `::` serves both families.
 */
export function planRelayAddresses(listenerAddress: string): RelayAddressPlan {
  const family = isIP(listenerAddress);
  const bind = new Map<4 | 6, string>();
  const advertise = new Map<4 | 6, string>();
  if (listenerAddress === '0.0.0.0' || listenerAddress === '::') {
    bind.set(4, '0.0.0.0');
    advertise.set(4, interfaceAddress(4) ?? '127.0.0.1');
    if (listenerAddress === '::') {
      bind.set(6, '::');
      advertise.set(6, interfaceAddress(6) ?? '::1');
    }
  } else if (family === 4 || family === 6) {
    bind.set(family, listenerBindAddress(listenerAddress));
    advertise.set(family, listenerAddress);
  }
  return { bind, advertise };
}

function interfaceAddress(family: 4 | 6): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.internal || i.family !== (family === 4 ? 'IPv4' : 'IPv6')) continue;
      if (family === 6 && i.address.startsWith('fe80')) continue;
      return i.address;
    }
  }
  return undefined;
}
