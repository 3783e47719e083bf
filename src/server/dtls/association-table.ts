// Finds the association of a remote address and port with one Map lookup and no key string built
// per datagram: keyed by port first, and a port rarely has more than one address behind it.

export interface RemoteKeyed {
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export class AssociationTable<A extends RemoteKeyed> {
  readonly #byPort = new Map<number, A | Map<string, A>>();
  readonly #all = new Set<A>();

  get size(): number {
    return this.#all.size;
  }

  get(address: string, port: number): A | undefined {
    const slot = this.#byPort.get(port);
    if (slot === undefined) return undefined;
    if (slot instanceof Map) return slot.get(address);
    return slot.remoteAddress === address ? slot : undefined;
  }

  add(association: A): void {
    const port = association.remotePort;
    const slot = this.#byPort.get(port);
    if (slot === undefined) {
      this.#byPort.set(port, association);
    } else if (slot instanceof Map) {
      slot.set(association.remoteAddress, association);
    } else if (slot.remoteAddress === association.remoteAddress) {
      this.#all.delete(slot);
      this.#byPort.set(port, association);
    } else {
      this.#byPort.set(port, new Map([[slot.remoteAddress, slot], [association.remoteAddress, association]]));
    }
    this.#all.add(association);
  }

  /** Removes this very association (not a newer one that took its address). */
  delete(association: A): void {
    if (!this.#all.delete(association)) return;
    const port = association.remotePort;
    const slot = this.#byPort.get(port);
    if (slot === association) {
      this.#byPort.delete(port);
    } else if (slot instanceof Map && slot.get(association.remoteAddress) === association) {
      slot.delete(association.remoteAddress);
      if (slot.size === 1) {
        const [last] = slot.values();
        this.#byPort.set(port, last);
      }
    }
  }

  values(): IterableIterator<A> {
    return this.#all.values();
  }
}
