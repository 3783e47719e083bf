// The daemon fed by a Config Discovery Service: the one-shot load, and the -w watch whose every message goes
// through the daemon's reload path (validated, all-or-nothing in every worker, counted in
// stunner_config_reloads_total). As upstream's stunnerd -w, a delete (the zero-config of our id) is ignored,
// so a Gateway being deleted cannot tear down the listeners of a draining pod.
import { cdsEndpoints, type CdsTarget } from '../config/cds/origin.ts';
import { CdsWatch, type CdsWatchOptions } from '../config/cds/cds-watch.ts';
import { fetchCdsConfig } from '../config/cds/cds-fetch.ts';
import { isDeleteConfig } from '../config/cds/zero-config.ts';
import type { Environment } from '../config/env.ts';
import { loadConfigText } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import type { ConfigUpdate, Daemon } from './daemon.ts';

/** Fetches and validates the config once (stunnerd -c http://… without -w); throws on any failure. */
export async function loadFromCds(origin: URL, target: CdsTarget, env: Environment): Promise<ConfigUpdate> {
  const text = await fetchCdsConfig(cdsEndpoints(origin, target).get);
  const { config, warnings } = loadConfigText(text, { env });
  return { config, warnings };
}

export interface CdsSourceOptions {
  readonly daemon: Daemon;
  readonly origin: URL;
  readonly target: CdsTarget;
  readonly env: Environment;
  readonly logger: Logger;
  /** Keepalive and backoff overrides (tests). */
  readonly watch?: Partial<Pick<CdsWatchOptions, 'pingIntervalMs' | 'pongWaitMs' | 'connectTimeoutMs' | 'backoff'>>;
}

export class CdsConfigSource {
  readonly #opts: CdsSourceOptions;
  readonly #watch: CdsWatch;

  constructor(opts: CdsSourceOptions) {
    this.#opts = opts;
    const { watch: url, originHeader } = cdsEndpoints(opts.origin, opts.target);
    this.#watch = new CdsWatch({
      ...opts.watch,
      url,
      originHeader,
      logger: opts.logger,
      onConfig: (text) => void opts.daemon.update('config discovery update', () => this.#accept(text)),
      onConnection: (connected) => this.#publish(connected),
    });
    this.#publish(false);
  }

  get connected(): boolean {
    return this.#watch.connected;
  }

  start(): void {
    this.#watch.start();
  }

  /** No more updates (the drain has begun, or the process exits). */
  close(): void {
    this.#watch.close();
  }

  /** Runs in the daemon's reload queue: parse and validate (a throw is a rejected config), or skip. */
  #accept(text: string): ConfigUpdate | undefined {
    const { config, warnings } = loadConfigText(text, { env: this.#opts.env });
    const log = this.#opts.logger;
    if (isDeleteConfig(config)) {
      log.info('ignoring a delete-config update: the running config is kept (as upstream stunnerd -w)',
        { id: config.admin.name });
      return undefined;
    }
    // A reconnect resends the config the server holds: the same config is no reload.
    if (JSON.stringify(config) === JSON.stringify(this.#opts.daemon.config)) {
      log.debug('config unchanged', { id: config.admin.name });
      return undefined;
    }
    return { config, warnings };
  }

  #publish(connected: boolean): void {
    this.#opts.daemon.configSource = { origin: this.#opts.origin.href, watch: true, connected };
  }
}
