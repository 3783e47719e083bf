// A TURN-DTLS listener (RFC 8656 §3.1): a DtlsServer on one UDP socket. Each association is a client 5-tuple
// and a downstream connection; its decrypted datagrams take the UDP path (ChannelData recognised by the first
// byte, else STUN), and its allocation is deleted when the association closes.
import { takeClientDatagram } from './client-datagram.ts';
import type { ListenerConfig } from '../config/types.ts';
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import { DROP, type ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';
import type { TurnServer } from '../turn/turn-server.ts';
import type { RelayAllocator } from '../turn/relay.ts';
import { MAX_ALLOCATION_LIFETIME_S } from '../turn/timers.ts';
import { DtlsServer, type DtlsAssociation } from './dtls/dtls-server.ts';
import { DtlsClientLink } from './dtls-link.ts';
import type { ListenerRuntime } from './listener-runtime.ts';
import { listenerBindAddress } from './relay-address.ts';
import { DEFAULT_STREAM_LIMITS, STREAM_SWEEP_INTERVAL_MS, type StreamLimits } from './stream-limits.ts';

export interface DtlsListenerOptions {
  readonly config: ListenerConfig;
  readonly stats: ListenerStats;
  readonly server: TurnServer;
  readonly relays: RelayAllocator;
  admission: PeerAdmission;
  readonly onError: (err: Error) => void;
  /** Bind with SO_REUSEPORT, next to the same listener in other dataplane workers. */
  readonly reusePort?: boolean;
  /** With reusePort: each established association gets a connected socket of its own (default true). */
  readonly clientSockets?: boolean;
  readonly limits?: StreamLimits;
}

export class DtlsListener implements ListenerRuntime {
  readonly name: string;
  readonly stats: ListenerStats;
  readonly relays: RelayAllocator;
  readonly limits: StreamLimits;
  admission: PeerAdmission;
  config: ListenerConfig;
  readonly #server: TurnServer;
  readonly #onError: (err: Error) => void;
  readonly #reusePort: boolean;
  readonly #clientSockets: boolean;
  readonly #links = new Set<DtlsClientLink>();
  #dtls: DtlsServer | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  /** DtlsServer drops already added to this listener's malformed drops. */
  #mirroredDrops = 0;

  constructor(opts: DtlsListenerOptions) {
    this.name = opts.config.name;
    this.config = opts.config;
    this.stats = opts.stats;
    this.relays = opts.relays;
    this.admission = opts.admission;
    this.limits = opts.limits ?? DEFAULT_STREAM_LIMITS;
    this.#server = opts.server;
    this.#onError = opts.onError;
    this.#reusePort = opts.reusePort ?? false;
    this.#clientSockets = opts.clientSockets ?? true;
  }

  async listen(): Promise<void> {
    const dtls = await DtlsServer.listen({ address: listenerBindAddress(this.config.address), port: this.config.port, reusePort: this.#reusePort,
      connectedSockets: this.#clientSockets }, {
      cert: this.config.cert, key: this.config.key, handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
      // Associations with an allocation live as long as it may (the listener closes idle ones without).
      idleTimeoutMs: MAX_ALLOCATION_LIFETIME_S * 1000,
    });
    dtls.on('association', (a: DtlsAssociation) => this.#accept(a));
    dtls.on('error', this.#onError);
    this.#dtls = dtls;
    this.#sweepTimer = setInterval(() => this.#sweep(), STREAM_SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
  }

  get address(): { address: string; port: number } {
    return this.#dtls?.address() ?? { address: this.config.address, port: this.config.port };
  }

  get connectionCount(): number {
    return this.#links.size;
  }

  /** New handshakes use this certificate and key; throws DtlsError (with `field`) and keeps the old pair. */
  updateCredentials(cert: string, key: string): void {
    this.#dtls?.updateCredentials(cert, key);
  }

  #accept(a: DtlsAssociation): void {
    if (this.#links.size >= this.limits.maxConnections) {
      a.close();
      return;
    }
    const link = new DtlsClientLink(a, this.stats);
    this.#links.add(link);
    this.stats.connectionOpened();
    a.on('message', (m: Buffer) => this.#onMessage(link, m));
    a.on('error', () => {});
    a.once('close', () => {
      this.#links.delete(link);
      this.stats.connectionClosed();
      const allocation = link.allocation;
      if (allocation !== undefined) this.#server.deleteAllocation(allocation, 'association closed');
    });
  }

  #onMessage(link: DtlsClientLink, msg: Buffer): void {
    const allocation = link.allocation;
    if (takeClientDatagram(this.stats, msg, allocation)) this.#server.handleStun(this, link, msg, allocation);
  }

  attach(a: Allocation): void {
    if (a.client instanceof DtlsClientLink) a.client.allocation = a;
  }

  detach(a: Allocation): void {
    if (a.client instanceof DtlsClientLink && a.client.allocation === a) a.client.allocation = undefined;
  }

  /** Closes associations idle without an allocation, and mirrors the DTLS layer's drops into the listener's. */
  #sweep(): void {
    const now = Date.now();
    for (const link of this.#links) {
      if (link.allocation === undefined && now - link.association.lastReceivedAt > this.limits.idleTimeoutMs) {
        link.association.close();
      }
    }
    this.#mirrorDrops();
  }

  /** Datagrams that were not DTLS records for an association, or failed authentication, are `malformed`. */
  #mirrorDrops(): void {
    const s = this.#dtls?.stats;
    if (s === undefined) return;
    const total = s.malformedDatagrams + s.decryptFailures;
    this.stats.drops[DROP.malformed] += total - this.#mirroredDrops;
    this.#mirroredDrops = total;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#mirrorDrops();
    this.relays.close();
    await this.#dtls?.close();
  }
}
