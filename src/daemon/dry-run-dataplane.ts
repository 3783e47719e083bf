// -d / --dry-run, as upstream: every config is validated and "applied", but nothing is bound. Stands in for the
// Gateway so that reloads, config discovery and signals run their normal course.
import type { StunnerConfig } from '../config/types.ts';
import type { Dataplane } from '../dataplane/dataplane.ts';

export class DryRunDataplane implements Dataplane {
  #config: StunnerConfig;
  #generation = 1;
  /** Nothing else holds the event loop open: like upstream's dry run, the process runs until it is stopped. */
  readonly #keepAlive = setInterval(() => {}, 1 << 30);

  constructor(config: StunnerConfig) {
    this.#config = config;
  }

  get config(): StunnerConfig {
    return this.#config;
  }

  get generation(): number {
    return this.#generation;
  }

  reconfigure(next: StunnerConfig): Promise<void> {
    this.#config = next;
    this.#generation++;
    return Promise.resolve();
  }

  allocations(): number {
    return 0;
  }

  boundPort(): number | undefined {
    return undefined;
  }

  drain(): void {}

  stop(): Promise<void> {
    clearInterval(this.#keepAlive);
    return Promise.resolve();
  }
}
