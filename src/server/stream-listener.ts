// A TURN-TCP or TURN-TLS listener (RFC 8656 §3.1, §12.5): one node:net / node:tls server. Each connection is a
// client 5-tuple and a downstream connection; it holds at most one allocation, which is deleted when the
// connection closes ("when the TCP connection closes, the allocation is deleted").
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { ListenerConfig } from '../config/types.ts';
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';
import type { TurnServer } from '../turn/turn-server.ts';
import type { RelayAllocator } from '../turn/relay.ts';
import type { TcpRelayAllocator } from '../turn/tcp-relay.ts';
import type { ListenerRuntime } from './listener-runtime.ts';
import { listenerBindAddress } from './relay-address.ts';
import { DEFAULT_STREAM_LIMITS, STREAM_SWEEP_INTERVAL_MS, type StreamLimits } from './stream-limits.ts';
import { StreamClientLink, type StreamLinkHost } from './stream-link.ts';
import { TlsCredentialsError, checkTlsCredentials } from './tls-credentials.ts';

export interface StreamListenerOptions {
  readonly config: ListenerConfig;
  readonly stats: ListenerStats;
  readonly server: TurnServer;
  readonly relays: RelayAllocator;
  /** RFC 6062 TCP relays; allocations use them when the listener routes to a TCP cluster. */
  readonly tcpRelays?: TcpRelayAllocator;
  /** Bind with SO_REUSEPORT, next to the same listener in other dataplane workers. */
  readonly reusePort?: boolean;
  admission: PeerAdmission;
  readonly onError: (err: Error) => void;
  readonly limits?: StreamLimits;
}

export class StreamListener implements ListenerRuntime, StreamLinkHost {
  readonly name: string;
  readonly stats: ListenerStats;
  readonly relays: RelayAllocator;
  readonly tcpRelays: TcpRelayAllocator | undefined;
  readonly limits: StreamLimits;
  admission: PeerAdmission;
  config: ListenerConfig;
  now = Date.now();
  readonly #server: TurnServer;
  readonly #net: Server;
  readonly #links = new Set<StreamClientLink>();
  /** Every accepted TCP socket, TLS ones still in the handshake included: close() must not wait for them. */
  readonly #sockets = new Set<Socket>();
  readonly #reusePort: boolean;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(opts: StreamListenerOptions) {
    this.name = opts.config.name;
    this.config = opts.config;
    this.stats = opts.stats;
    this.relays = opts.relays;
    this.tcpRelays = opts.tcpRelays;
    this.admission = opts.admission;
    this.limits = opts.limits ?? DEFAULT_STREAM_LIMITS;
    this.#server = opts.server;
    this.#reusePort = opts.reusePort ?? false;
    if (opts.config.protocol === 'TURN-TLS') {
      const tls = createTlsServer({
        cert: opts.config.cert, key: opts.config.key, minVersion: 'TLSv1.2',
        handshakeTimeout: this.limits.handshakeTimeoutMs,
      });
      tls.on('secureConnection', (socket: TLSSocket) => this.#accept(socket, 'tls'));
      // A failed or timed-out handshake. Node destroys the socket of a failed one but only reports a timed-out
      // one (ERR_TLS_HANDSHAKE_TIMEOUT), so it is destroyed here. Nothing was counted for it.
      tls.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
      this.#net = tls;
    } else {
      this.#net = createTcpServer((socket: Socket) => this.#accept(socket, 'tcp'));
    }
    // Counts connections still in the TLS handshake too: a flood of half-open ones is refused at accept.
    this.#net.maxConnections = this.limits.maxConnections;
    this.#net.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#net.on('error', opts.onError);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen({ port: this.config.port, host: listenerBindAddress(this.config.address), reusePort: this.#reusePort }, () => {
        this.#net.off('error', reject);
        this.#sweepTimer = setInterval(() => this.#sweep(), STREAM_SWEEP_INTERVAL_MS);
        this.#sweepTimer.unref();
        resolve();
      });
    });
  }

  get address(): { address: string; port: number } {
    return this.#net.address() as { address: string; port: number };
  }

  /** Open connections (downstream connections of this listener). */
  get connectionCount(): number {
    return this.#links.size;
  }

  /** TURN-TLS: new handshakes use this certificate and key; open connections keep theirs. Throws (with the
   *  offending field) and keeps the old pair on bad input. */
  updateCredentials(cert: string, key: string): void {
    if (this.config.protocol !== 'TURN-TLS') return;
    checkTlsCredentials(this.name, cert, key);
    try {
      (this.#net as TlsServer).setSecureContext({ cert, key, minVersion: 'TLSv1.2' });
    } catch (err) {
      throw new TlsCredentialsError(this.name, 'cert', (err as Error).message, { cause: err });
    }
  }

  #accept(socket: Socket, transport: 'tcp' | 'tls'): void {
    socket.setNoDelay(true);
    const link = new StreamClientLink(socket, transport, this, this.#server);
    this.#links.add(link);
    this.stats.connectionOpened();
    socket.on('data', link.receive);
    // Errors end in 'close'; an unheard 'error' would throw.
    socket.on('error', () => {});
    socket.once('close', () => {
      this.#links.delete(link);
      this.stats.connectionClosed();
      const allocation = link.allocation;
      if (allocation !== undefined) this.#server.deleteAllocation(allocation, 'connection closed');
    });
  }

  attach(a: Allocation): void {
    if (a.client instanceof StreamClientLink) a.client.allocation = a;
  }

  detach(a: Allocation): void {
    if (a.client instanceof StreamClientLink && a.client.allocation === a) a.client.allocation = undefined;
  }

  /** Closes connections that hold no allocation and have sent no complete frame for the idle timeout. */
  #sweep(): void {
    const now = Date.now();
    this.now = now;
    const idle = this.limits.idleTimeoutMs;
    for (const link of this.#links) {
      if (link.allocation === undefined && !link.isDataConnection && now - link.lastFrameAt > idle) {
        link.socket.destroy();
      }
    }
  }

  close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.relays.close();
    this.tcpRelays?.close();
    return new Promise((resolve) => {
      this.#net.close(() => resolve());
      for (const link of this.#links) link.socket.destroy();
      for (const socket of this.#sockets) socket.destroy();
    });
  }
}
