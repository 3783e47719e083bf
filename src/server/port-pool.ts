// The relay ports of one listener's relays (UDP or TCP), per address family: which ports our relays hold, and
// which port to bind next: a random free port of the configured range, or 0 (the kernel picks an ephemeral
// port) when the listener has no range. The state is one bitmap of taken ports per family, so that it can
// move to shared memory unchanged.
import { randomInt } from 'node:crypto';

/** 'even': an even port (EVEN-PORT); 'pair': an even port whose next port is free too (EVEN-PORT with R). */
export type PortPick = 'any' | 'even' | 'pair';

const PORTS = 65536;

export class RelayPortPool {
  #min: number;
  #max: number;
  /** Bit p set = port p is held by one of our relays (or reservations). */
  readonly #taken = { 4: new Uint32Array(PORTS / 32), 6: new Uint32Array(PORTS / 32) };
  /** Taken ports inside the current range, so that a full range is known without probing. */
  readonly #takenInRange = { 4: 0, 6: 0 };

  constructor(minPort: number, maxPort: number) {
    this.#min = minPort;
    this.#max = maxPort;
  }

  /** 0..0 and ranges covering every unprivileged port mean "let the kernel pick". */
  get ranged(): boolean {
    return this.#min > 0 && !(this.#min <= 1024 && this.#max >= 65535);
  }

  /**
   * Picks from now on come from this range. Relays bound before keep their ports; when they are released the
   * count of the new range stays right, whichever range they were taken in.
   */
  setRange(minPort: number, maxPort: number): void {
    this.#min = minPort;
    this.#max = maxPort;
    for (const family of [4, 6] as const) {
      let n = 0;
      if (this.ranged) for (let p = minPort; p <= maxPort; p++) if (this.#has(family, p)) n++;
      this.#takenInRange[family] = n;
    }
  }

  /** True when every port of the range is taken (never without a range: the kernel decides then). */
  full(family: 4 | 6): boolean {
    return this.ranged && this.#takenInRange[family] >= this.#max - this.#min + 1;
  }

  /** A port to try: 0 = any (no range); undefined = no free port of the range fits. */
  pick(family: 4 | 6, kind: PortPick = 'any'): number | undefined {
    if (!this.ranged) return 0;
    if (this.full(family)) return undefined;
    const min = this.#min;
    const max = this.#max;
    const size = max - min + 1;
    // Random start, then linear probe: O(1) while the range is sparse, bounded when it is dense.
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = min + ((start + i) % size);
      if (this.#has(family, port)) continue;
      if (kind !== 'any' && port % 2 !== 0) continue;
      if (kind === 'pair' && (port + 1 > max || this.#has(family, port + 1))) continue;
      return port;
    }
    return undefined;
  }

  /** Marks a bound port as held; taking a held port again changes nothing. */
  take(family: 4 | 6, port: number): void {
    if (this.#has(family, port)) return;
    this.#taken[family][port >>> 5] |= 1 << (port & 31);
    if (this.#inRange(port)) this.#takenInRange[family]++;
  }

  /** Frees a port; releasing a free port changes nothing. */
  release(family: 4 | 6, port: number): void {
    if (!this.#has(family, port)) return;
    this.#taken[family][port >>> 5] &= ~(1 << (port & 31));
    if (this.#inRange(port)) this.#takenInRange[family]--;
  }

  #has(family: 4 | 6, port: number): boolean {
    return (this.#taken[family][port >>> 5] & (1 << (port & 31))) !== 0;
  }

  #inRange(port: number): boolean {
    return this.ranged && port >= this.#min && port <= this.#max;
  }
}
