// Which address a listener's relays bind and which they advertise in XOR-RELAYED-ADDRESS.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface RelayAddressPlan {
  /** Bind address per family this listener can relay for. */
  readonly bind: ReadonlyMap<4 | 6, string>;
  /** Advertised address per family. */
  readonly advertise: ReadonlyMap<4 | 6, string>;
}

/**
 * A concrete listener address relays for its own family, bound and advertised as is (STUNner sets it to
 * the pod IP, `$STUNNER_ADDR`). A wildcard binds relays to the wildcard and advertises the first
 * non-internal interface address of the family (loopback if there is none); `::` serves both families.
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
    bind.set(family, listenerAddress);
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
