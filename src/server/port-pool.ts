// The relay ports of one listener's TCP relays: a random free port of the configured range, or any ephemeral
// port (0) when the listener has no range.
import { randomInt } from 'node:crypto';

export class PortPool {
  readonly #min: number;
  readonly #max: number;
  readonly #used = new Set<number>();

  constructor(minPort: number, maxPort: number) {
    this.#min = minPort;
    this.#max = maxPort;
  }

  /** 0..0 and ranges covering every unprivileged port mean "let the kernel pick". */
  get ranged(): boolean {
    return this.#min > 0 && !(this.#min <= 1024 && this.#max >= 65535);
  }

  /** A port to try: 0 = any; undefined = the range is full. */
  pick(): number | undefined {
    if (!this.ranged) return 0;
    const size = this.#max - this.#min + 1;
    if (this.#used.size >= size) return undefined;
    // Random start, then linear probe: O(1) while the range is sparse, bounded when it is dense.
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = this.#min + ((start + i) % size);
      if (!this.#used.has(port)) return port;
    }
    return undefined;
  }

  take(port: number): void {
    this.#used.add(port);
  }

  release(port: number): void {
    this.#used.delete(port);
  }
}
