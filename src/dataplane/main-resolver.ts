// DNS for a multi-worker dataplane: the main thread resolves the host names of STRICT_DNS clusters (at start, on
// every reload, and every DNS_REFRESH_INTERVAL_MS), logs what fails once for the process, and hands the answers
// to the workers, whose Gateways resolve from them instead of asking the system resolver N times.
import { DNS_REFRESH_INTERVAL_MS } from '../config/defaults.ts';
import type { StunnerConfig } from '../config/types.ts';
import { RateLimitedLog, type Logger } from '../log/logger.ts';
import { defaultResolver, type Resolver } from '../server/gateway.ts';

/** Host name -> its addresses ([] when it did not resolve). */
export type DnsAnswers = ReadonlyArray<readonly [host: string, addresses: readonly string[]]>;

export class MainResolver {
  readonly #log: Logger;
  readonly #resolver: Resolver;
  readonly #refreshMs: number;
  readonly #errors = new RateLimitedLog();
  #answers = new Map<string, readonly string[]>();
  #clusters: { name: string; hosts: readonly string[] }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(log: Logger, resolver: Resolver = defaultResolver, refreshMs = DNS_REFRESH_INTERVAL_MS) {
    this.#log = log;
    this.#resolver = resolver;
    this.#refreshMs = refreshMs;
  }

  get answers(): DnsAnswers {
    return [...this.#answers];
  }

  /** Resolves every STRICT_DNS host of `config` (and from now on, those of no other config). */
  async resolve(config: StunnerConfig): Promise<DnsAnswers> {
    this.#clusters = config.clusters.filter((c) => c.type === 'STRICT_DNS').map((c) => ({ name: c.name, hosts: c.endpoints }));
    await this.#resolveAll();
    return this.answers;
  }

  /** Re-resolves periodically; `changed` gets the answers whenever one of them changed. */
  start(changed: (answers: DnsAnswers) => void): void {
    this.#timer = setInterval(() => void this.#resolveAll().then((c) => c && changed(this.answers)), this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #resolveAll(): Promise<boolean> {
    const next = new Map<string, readonly string[]>();
    await Promise.all(this.#clusters.flatMap((c) => c.hosts.map(async (host) => {
      try {
        next.set(host, await this.#resolver(host));
      } catch (err) {
        next.set(host, []);
        this.#errors.warn(this.#log, `dns:${host}`, 'cannot resolve STRICT_DNS endpoint',
          { cluster: c.name, host, error: (err as Error).message });
      }
    })));
    const key = (m: ReadonlyMap<string, readonly string[]>) => JSON.stringify([...m].map(([h, a]) => [h, [...a].sort()]).sort());
    const changed = key(next) !== key(this.#answers);
    this.#answers = next;
    return changed;
  }
}
