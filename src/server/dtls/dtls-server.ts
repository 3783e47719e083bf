// A DTLS 1.2 server on one UDP socket: demultiplexes remote address:port into associations, answers
// ClientHellos with stateless cookies, bounds handshakes in number and time, closes idle associations.
// Events: 'association' (DtlsAssociation, once its handshake is done), 'handshakeError' (error,
// remoteAddress, remotePort; only when listened to), 'error' (socket errors; only when listened to).

import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import { AssociationState, CloseReason, DtlsAssociation } from './association.ts';
import type { AssociationHost } from './association.ts';
import { AssociationTable } from './association-table.ts';
import { readClientHello } from './client-hello.ts';
import type { ClientHelloView } from './client-hello.ts';
import { CookieJar } from './cookie-jar.ts';
import { loadCredentials } from './credentials.ts';
import type { Credentials } from './credentials.ts';
import { DtlsError, DtlsErrorCode } from './errors.ts';
import { assertEngineAccepts, prepareEngine } from './handshake-engine.ts';
import { encodeHelloVerifyRequest } from './hello-verify-request.ts';
import { ClientSocket } from '../client-socket.ts';
import { ipLiteralLookup } from '../ip-literal-lookup.ts';
import { DtlsServerStats } from './server-stats.ts';

export { DtlsAssociation, AssociationState, CloseReason } from './association.ts';
export { DtlsError, DtlsErrorCode } from './errors.ts';
export { DtlsServerStats } from './server-stats.ts';

export interface DtlsServerOptions {
  /** PEM certificate (RSA or ECDSA); with a chain, only the leaf is sent (see README). */
  readonly cert: string;
  /** PEM private key of the certificate, unencrypted (PKCS#1, SEC1 or PKCS#8). */
  readonly key: string;
  /** A handshake not done by then is dropped. Default 15 000. */
  readonly handshakeTimeoutMs?: number;
  /** Handshakes in progress at once (after the cookie exchange); more are ignored. Default 512. */
  readonly maxHandshakes?: number;
  /** An association with no authenticated record for this long is closed. Default 600 000. */
  readonly idleTimeoutMs?: number;
  /** Largest handshake datagram sent, in bytes. Default 1200. */
  readonly mtu?: number;
}

export interface DtlsListenOptions {
  /** IP address to bind, e.g. 0.0.0.0, 127.0.0.1 or ::. */
  readonly address: string;
  /** UDP port; 0 picks a free one. */
  readonly port: number;
  /** SO_REUSEPORT: other sockets (other workers) may bind the same address and port. */
  readonly reusePort?: boolean;
  /**
   * With reusePort: each established association gets a socket of its own bound to the same address and port
   * and connected to its peer. The kernel delivers a connected flow to that socket, so when another worker's
   * socket leaves or joins the reuseport group (a restart), the association's datagrams do not move to a
   * worker that does not know it.
   */
  readonly connectedSockets?: boolean;
}

const DEFAULTS = { handshakeTimeoutMs: 15_000, maxHandshakes: 512, idleTimeoutMs: 600_000, mtu: 1200 } as const;

function checkedInteger(options: DtlsServerOptions, field: 'handshakeTimeoutMs' | 'maxHandshakes' | 'idleTimeoutMs' | 'mtu', min: number, max: number): number {
  const value = options[field] ?? DEFAULTS[field];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DtlsError(DtlsErrorCode.badOption, `must be an integer in ${min}..${max}, got ${String(value)}`, field);
  }
  return value;
}

export class DtlsServer extends EventEmitter implements AssociationHost {
  readonly stats = new DtlsServerStats();
  readonly mtu: number;
  now = Date.now();
  readonly #socket: Socket;
  readonly #handshakeTimeoutMs: number;
  readonly #maxHandshakes: number;
  readonly #idleTimeoutMs: number;
  readonly #cookies: CookieJar;
  readonly #table = new AssociationTable<DtlsAssociation>();
  readonly #sweepTimer: NodeJS.Timeout;
  #credentials: Credentials;
  #handshaking = 0;
  #closing: Promise<void> | undefined;
  #socketClosed = false;
  readonly #connectedSockets: boolean;
  readonly #own = new Map<DtlsAssociation, ClientSocket>();

  private constructor(socket: Socket, options: DtlsServerOptions, credentials: Credentials, connectedSockets: boolean) {
    super();
    this.#socket = socket;
    this.#connectedSockets = connectedSockets;
    this.#credentials = credentials;
    this.#handshakeTimeoutMs = checkedInteger(options, 'handshakeTimeoutMs', 100, 600_000);
    this.#maxHandshakes = checkedInteger(options, 'maxHandshakes', 1, 1_000_000);
    this.#idleTimeoutMs = checkedInteger(options, 'idleTimeoutMs', 100, 86_400_000);
    this.mtu = checkedInteger(options, 'mtu', 576, 65_507);
    this.#cookies = new CookieJar(this.now);
    // One coarse timer for every deadline (docs/style.md 5), fine enough for the shortest one.
    const tick = Math.min(1000, Math.max(25, Math.floor(Math.min(this.#handshakeTimeoutMs, this.#idleTimeoutMs) / 4)));
    this.#sweepTimer = setInterval(() => this.#sweep(), tick);
    this.#sweepTimer.unref();
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.#onDatagram(msg, rinfo));
    socket.on('error', (err: Error) => {
      this.stats.internalErrors++;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /**
   * Checks the DTLS library (ERR_DTLS_DEPENDENCY), validates the options and credentials, binds the socket,
   * and resolves once it listens.
   */
  static async listen(listen: DtlsListenOptions, options: DtlsServerOptions): Promise<DtlsServer> {
    prepareEngine();
    const credentials = loadCredentials(options.cert, options.key);
    assertEngineAccepts(credentials);
    if (!Number.isInteger(listen.port) || listen.port < 0 || listen.port > 65535) {
      throw new DtlsError(DtlsErrorCode.badOption, `must be 0..65535, got ${String(listen.port)}`, 'port');
    }
    const socket = createSocket({
      type: isIPv6(listen.address) ? 'udp6' : 'udp4', reusePort: listen.reusePort ?? false, lookup: ipLiteralLookup,
    });
    let server: DtlsServer;
    try {
      server = new DtlsServer(socket, options, credentials, (listen.reusePort ?? false) && (listen.connectedSockets ?? false));
    } catch (err) {
      socket.close();
      throw err;
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        clearInterval(server.#sweepTimer);
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(listen.port, listen.address, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    return server;
  }

  address(): AddressInfo {
    return this.#socket.address();
  }

  /** Established associations served by a connected socket of their own. */
  get connectedSocketCount(): number {
    return this.#own.size;
  }

  /** Associations alive now, handshaking ones included. */
  get associationCount(): number {
    return this.#table.size;
  }

  /** Handshakes in progress (past the cookie exchange). */
  get handshakeCount(): number {
    return this.#handshaking;
  }

  /** New handshakes use these; running associations keep theirs. Throws DtlsError and keeps the old ones on bad input. */
  updateCredentials(cert: string, key: string): void {
    const credentials = loadCredentials(cert, key);
    assertEngineAccepts(credentials);
    this.#credentials = credentials;
  }

  /** Sends close_notify to every established association, then closes the socket. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    for (const association of [...this.#table.values()]) association.terminate(CloseReason.serverClosed);
    // Let the close_notify datagrams queued above leave before the socket goes.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#socketClosed = true;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  // AssociationHost -------------------------------------------------------------------------------

  sendTo(datagram: Buffer, port: number, address: string): void {
    if (this.#socketClosed) return;
    this.#socket.send(datagram, port, address);
  }

  sendQueueCount(): number {
    return this.#socketClosed ? 0 : this.#socket.getSendQueueCount();
  }

  established(association: DtlsAssociation): void {
    this.#handshaking--;
    if (this.#connectedSockets) this.#connect(association);
    try {
      this.emit('association', association);
    } catch (err) {
      this.stats.internalErrors++;
      association.reportError(err);
    }
  }

  closed(association: DtlsAssociation, _reason: CloseReason, wasEstablished: boolean): void {
    this.#table.delete(association);
    const own = this.#own.get(association);
    if (own !== undefined) {
      this.#own.delete(association);
      association.connectedSocket = undefined;
      // After the close_notify just queued on it.
      own.close();
    }
    if (wasEstablished) this.stats.associationsClosed++;
    else this.#handshaking--;
  }

  handshakeFailed(association: DtlsAssociation, error: DtlsError): void {
    this.#reportHandshakeError(error, association.remoteAddress, association.remotePort);
  }

  clientHelloOnAssociation(association: DtlsAssociation, datagram: Buffer): void {
    const hello = readClientHello(datagram);
    if (hello === undefined) {
      this.stats.malformedDatagrams++;
      return;
    }
    if (!this.#cookieIsValid(hello, association.remoteAddress, association.remotePort)) return;
    if (association.state === AssociationState.handshaking) {
      association.retransmittedClientHello(datagram);
      return;
    }
    // RFC 6347 §4.2.8: "If a server receives a ClientHello with epoch 0 on an existing association
    // ... it SHOULD proceed with a new handshake" once the cookie shows the client is really there,
    // and then destroy the old association.
    association.terminate(CloseReason.replaced, false);
    this.#startHandshake(hello, association.remoteAddress, association.remotePort);
  }

  // -----------------------------------------------------------------------------------------------

  /** Gives an established association its connected socket; until it is connected (or if that fails) the
   *  shared socket serves it. */
  #connect(association: DtlsAssociation): void {
    const bound = this.#socket.address();
    new ClientSocket({
      address: bound.address, port: bound.port,
      remoteAddress: association.remoteAddress, remotePort: association.remotePort,
      own: (msg) => {
        try {
          association.receive(msg);
        } catch (err) {
          this.stats.internalErrors++;
          association.reportError(err);
        }
      },
      other: (msg, rinfo) => this.#onDatagram(msg, rinfo),
      connected: (s) => {
        if (association.state !== AssociationState.established || this.#closing !== undefined) return false;
        this.#own.set(association, s);
        association.connectedSocket = s.socket;
        return true;
      },
      onError: () => this.stats.internalErrors++,
    });
  }

  #onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    const association = this.#table.get(rinfo.address, rinfo.port);
    try {
      if (association !== undefined) association.receive(msg);
      else this.#fromNewPeer(msg, rinfo.address, rinfo.port);
    } catch (err) {
      // Malformed input must never take the process down; a throwing 'message' listener neither.
      this.stats.internalErrors++;
      association?.reportError(err);
    }
  }

  #fromNewPeer(msg: Buffer, address: string, port: number): void {
    const hello = readClientHello(msg);
    if (hello === undefined) {
      this.stats.malformedDatagrams++;
      return;
    }
    if (this.#cookieIsValid(hello, address, port)) this.#startHandshake(hello, address, port);
  }

  /**
   * RFC 6347 §4.2.1: the server answers a ClientHello without a valid cookie with a
   * HelloVerifyRequest and keeps no state, so spoofed sources cannot fill its memory.
   */
  #cookieIsValid(hello: ClientHelloView, address: string, port: number): boolean {
    if (hello.cookieLength > 0 && this.#cookies.verify(hello, address, port)) return true;
    if (hello.cookieLength > 0) this.stats.badCookies++;
    this.stats.helloVerifyRequests++;
    this.sendTo(encodeHelloVerifyRequest(hello.recordSequence, this.#cookies.issue(hello, address, port)), port, address);
    return false;
  }

  #startHandshake(hello: ClientHelloView, address: string, port: number): void {
    if (this.#closing !== undefined) return;
    if (this.#handshaking >= this.#maxHandshakes) {
      // Ignored, not refused: the client retransmits its ClientHello and may find a free slot.
      this.stats.handshakesRejected++;
      return;
    }
    this.#handshaking++;
    this.stats.handshakesStarted++;
    let association: DtlsAssociation;
    try {
      association = new DtlsAssociation(this, address, port, this.#credentials, hello);
    } catch (err) {
      this.#handshaking--;
      this.stats.handshakesFailed++;
      this.#reportHandshakeError(err, address, port);
      return;
    }
    if (association.state === AssociationState.handshaking) this.#table.add(association);
  }

  #reportHandshakeError(err: unknown, address: string, port: number): void {
    if (this.listenerCount('handshakeError') > 0) this.emit('handshakeError', err, address, port);
  }

  #sweep(): void {
    const now = Date.now();
    this.now = now;
    this.#cookies.rotate(now);
    for (const association of this.#table.values()) {
      if (association.state === AssociationState.handshaking) {
        if (now - association.startedAt > this.#handshakeTimeoutMs) {
          this.stats.handshakesTimedOut++;
          association.terminate(CloseReason.handshakeTimeout, false);
        }
      } else if (now - association.lastReceivedAt > this.#idleTimeoutMs) {
        this.stats.associationsIdleClosed++;
        association.terminate(CloseReason.idle);
      }
    }
  }
}
