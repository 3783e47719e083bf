// The CDS watch (docs/cds-protocol.md, "The watch"): a WebSocket to the config's path with watch=true, one text
// message per config. Keepalive as upstream: a ping "keepalive" every 5 s, and a connection that brings neither a
// pong nor a config for 8 s is dead. Whatever ends a connection, the watch dials again after a backoff, until
// closed; the running config stays in force meanwhile.
import type { Logger } from '../../log/logger.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { connectWebSocket, type WebSocketConnection } from './websocket-client.ts';

/** Upstream's client.PingPeriod, PongWait. */
export const PING_INTERVAL_MS = 5000;
export const PONG_WAIT_MS = 8000;
/** What upstream pings with (and what its server answers with). */
export const KEEPALIVE_PAYLOAD = 'keepalive';
export const CONNECT_TIMEOUT_MS = 10_000;

export interface CdsWatchOptions {
  readonly url: URL;
  /** The Origin header upstream sends (cds-endpoints.ts). */
  readonly originHeader: string;
  readonly logger: Logger;
  /** Each config message as received (not parsed: the daemon's load path does that). */
  readonly onConfig: (text: string) => void;
  /** Connected (true) or lost (false); for /status and tests. */
  readonly onConnection?: (connected: boolean) => void;
  readonly pingIntervalMs?: number;
  readonly pongWaitMs?: number;
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

export class CdsWatch {
  readonly #opts: CdsWatchOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #conn: WebSocketConnection | undefined;
  #retry: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #closed = false;
  #attempts = 0;
  #connects = 0;

  constructor(opts: CdsWatchOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#backoff = new Backoff(opts.backoff);
  }

  get connected(): boolean {
    return this.#conn?.open ?? false;
  }

  /** Connections made so far (a reconnect counts). */
  get connects(): number {
    return this.#connects;
  }

  start(): void {
    void this.#dial();
  }

  /** Stops for good: a close frame to the server, no reconnect. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#stopTimers();
    this.#conn?.close();
    this.#conn = undefined;
  }

  async #dial(): Promise<void> {
    if (this.#closed) return;
    this.#attempts++;
    const url = this.#opts.url;
    let conn: WebSocketConnection;
    try {
      conn = await connectWebSocket(url, {
        text: (data) => this.#message(data),
        pong: () => this.#alive(),
        binary: (c) => c.terminate('binary message from the CDS server'),
        closed: (code, reason, error) => this.#lost(code, reason, error),
      }, { headers: { origin: this.#opts.originHeader }, timeoutMs: this.#opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS });
    } catch (err) {
      this.#scheduleRetry(`cannot connect: ${(err as Error).message}`);
      return;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    // Bytes that came with the handshake are read first: the connection may already be gone (and a retry set).
    if (!conn.open) return;
    this.#conn = conn;
    this.#connects++;
    this.#backoff.reset();
    this.#log.info('connected to the config discovery server', { url: url.href, attempts: this.#attempts });
    this.#attempts = 0;
    this.#opts.onConnection?.(true);
    this.#alive();
    this.#ping = setInterval(() => conn.ping(KEEPALIVE_PAYLOAD), this.#opts.pingIntervalMs ?? PING_INTERVAL_MS);
  }

  /** Any message, pong or config, proves the connection alive: re-arm the read deadline. */
  #alive(): void {
    clearTimeout(this.#deadline);
    const waitMs = this.#opts.pongWaitMs ?? PONG_WAIT_MS;
    this.#deadline = setTimeout(() => this.#conn?.terminate(`no pong or config for ${waitMs} ms`), waitMs);
  }

  #message(text: string): void {
    this.#alive();
    if (text.length === 0) {
      this.#log.warn('ignoring a zero-length config from the config discovery server');
      return;
    }
    this.#opts.onConfig(text);
  }

  #lost(code: number | undefined, reason: string, error?: Error): void {
    this.#stopTimers();
    this.#conn = undefined;
    if (this.#closed) return;
    this.#opts.onConnection?.(false);
    const why = error?.message ?? (reason !== '' ? reason : `closed by the server${code === undefined ? '' : ` (code ${code})`}`);
    this.#scheduleRetry(why);
  }

  #scheduleRetry(why: string): void {
    if (this.#closed) return;
    const delayMs = this.#backoff.next();
    this.#log.warn('no connection to the config discovery server, retrying', { url: this.#opts.url.href, error: why,
      retryMs: delayMs, attempt: this.#attempts });
    this.#retry = setTimeout(() => void this.#dial(), delayMs);
  }

  #stopTimers(): void {
    clearInterval(this.#ping);
    clearTimeout(this.#deadline);
    this.#ping = undefined;
    this.#deadline = undefined;
  }
}
