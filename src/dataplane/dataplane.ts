// What the daemon runs: one Gateway on the main thread, or a WorkerPool of Gateways on worker threads. Both
// apply configs, count allocations, drain and stop the same way.
import type { StunnerConfig } from '../config/types.ts';

export interface Dataplane {
  readonly config: StunnerConfig;
  /** Incremented on every applied config. */
  readonly generation: number;
  /** Applies a validated config in place; on failure the running one is restored and the error rethrown. */
  reconfigure(next: StunnerConfig): Promise<unknown>;
  /** Allocations open now. */
  allocations(): number;
  /** The port a listener is bound to (port 0 in the config resolves here). */
  boundPort(name: string): number | undefined;
  /** Stops accepting new allocations; existing ones keep relaying. */
  drain(): void;
  stop(): Promise<void>;
}
