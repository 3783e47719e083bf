// The RFC 6062 part of a TCP allocation: its relayed TCP address and its peer data connections, by peer
// transport address (for "446 Connection Already Exists", §5.2).
import type { Admission } from '../cluster/peer-admission.ts';
import type { Allocation } from './allocation.ts';
import { PeerDataConnection } from './peer-data-connection.ts';
import type { TcpConnectionTable } from './tcp-connections.ts';
import type { TcpPeerConnection, TcpRelay } from './tcp-relay.ts';

/** §5.2, §5.3: a peer data connection must be bound within 30 seconds. */
export const CONNECTION_BIND_TIMEOUT_S = 30;

export function peerKey(address: string, port: number): string {
  return `${address} ${port}`;
}

export class TcpAllocation {
  readonly relay: TcpRelay;
  readonly #connections = new Map<string, PeerDataConnection>();
  readonly #table: TcpConnectionTable;

  constructor(relay: TcpRelay, table: TcpConnectionTable) {
    this.relay = relay;
    this.#table = table;
  }

  /** Connect attempts in progress and peer data connections not yet closed, by peerKey. */
  get connections(): ReadonlyMap<string, PeerDataConnection> {
    return this.#connections;
  }

  /** Starts tracking a connection to `address`:`port` (before its TCP connection exists, for a Connect). */
  begin(allocation: Allocation, address: string, port: number, admission: Admission): PeerDataConnection {
    const key = peerKey(address, port);
    const c = new PeerDataConnection(allocation, address, port, admission, () => {
      if (this.#connections.get(key) === c) this.#connections.delete(key);
      this.#table.delete(c);
    });
    this.#connections.set(key, c);
    return c;
  }

  /** The TCP connection of `c` exists: it gets its CONNECTION-ID and waits for ConnectionBind. */
  open(c: PeerDataConnection, connection: TcpPeerConnection, now: number): number {
    const id = this.#table.register(c);
    c.opened(connection, id, now + CONNECTION_BIND_TIMEOUT_S * 1000);
    return id;
  }

  /** The allocation ends: its relayed address stops listening and every peer data connection closes. */
  close(): void {
    this.relay.close();
    for (const c of [...this.#connections.values()]) c.close();
  }
}
