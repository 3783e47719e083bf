// The CONNECTION-IDs of every peer data connection (RFC 6062 §6.2.1), server-wide: a ConnectionBind arrives
// on a new client connection that has no allocation of its own, so only the id leads to the allocation.
import { randomInt } from 'node:crypto';
import type { PeerDataConnection } from './peer-data-connection.ts';

export class TcpConnectionTable {
  readonly #byId = new Map<number, PeerDataConnection>();

  get size(): number {
    return this.#byId.size;
  }

  /**
   * A fresh id: "The attribute's value MUST uniquely identify the peer data connection" (§5.2). Random
   * rather than counted, so a client cannot guess the id of another user's connection.
   */
  register(c: PeerDataConnection): number {
    let id: number;
    do id = randomInt(1, 0x1_0000_0000);
    while (this.#byId.has(id));
    this.#byId.set(id, c);
    return id;
  }

  get(id: number): PeerDataConnection | undefined {
    return this.#byId.get(id);
  }

  delete(c: PeerDataConnection): void {
    if (this.#byId.get(c.id) === c) this.#byId.delete(c.id);
  }

  /** §5.2, §5.3: pending connections not bound within 30 seconds are closed. */
  sweep(now: number): void {
    for (const c of this.#byId.values()) {
      if (c.state === 'pending' && c.bindDeadline <= now) c.close();
    }
  }
}
