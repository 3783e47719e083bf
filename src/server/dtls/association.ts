// One DTLS association: a remote address and port, its handshake while it runs, then its protected
// records. Events: 'message' (plaintext: Buffer), 'close' (reason: string), 'error' (DtlsError or the
// exception a listener threw; emitted only when someone listens, so it never crashes the process).

import { EventEmitter } from 'node:events';
import type { ClientHelloView } from './client-hello.ts';
import type { Credentials } from './credentials.ts';
import { DtlsError, DtlsErrorCode } from './errors.ts';
import { HandshakeEngine } from './handshake-engine.ts';
import type { HandshakeResult, HandshakeSink } from './handshake-engine.ts';
import {
  AlertDescription,
  AlertLevel,
  ContentType,
  HandshakeType,
  MAX_PLAINTEXT_LENGTH,
  RECORD_HEADER_LENGTH,
  encodePlaintextAlert,
  recordEnd,
  recordEpoch,
  recordSequence,
} from './record.ts';
import { RecordProtection } from './record-protection.ts';
import { ReplayWindow } from './replay-window.ts';
import type { DtlsServerStats } from './server-stats.ts';

export const AssociationState = { handshaking: 0, established: 1, closed: 2 } as const;
export type AssociationState = (typeof AssociationState)[keyof typeof AssociationState];

export const CloseReason = {
  local: 'local',
  peer: 'peer',
  idle: 'idle',
  handshakeTimeout: 'handshake-timeout',
  handshakeFailed: 'handshake-failed',
  replaced: 'replaced',
  serverClosed: 'server-closed',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** What an association needs from the server that owns the socket. */
export interface AssociationHost {
  readonly stats: DtlsServerStats;
  readonly mtu: number;
  /** A coarse clock (ms), advanced by the server's sweep timer: no clock read per datagram. */
  readonly now: number;
  sendTo(datagram: Buffer, port: number, address: string): void;
  /** Sends waiting in user space on the server's socket (its kernel send buffer full). */
  sendQueueCount(): number;
  established(association: DtlsAssociation): void;
  closed(association: DtlsAssociation, reason: CloseReason, wasEstablished: boolean): void;
  handshakeFailed(association: DtlsAssociation, error: DtlsError): void;
  /** RFC 6347 §4.2.8: an epoch-0 ClientHello on a live association may be a client that restarted. */
  clientHelloOnAssociation(association: DtlsAssociation, datagram: Buffer): void;
}

export class DtlsAssociation extends EventEmitter implements HandshakeSink {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** OpenSSL name of the negotiated suite, e.g. ECDHE-RSA-AES128-GCM-SHA256; '' until established. */
  cipherSuite = '';
  state: AssociationState = AssociationState.handshaking;
  /** When the handshake started (ms since epoch). */
  readonly startedAt: number;
  /** Last authenticated record from the peer, on the host's coarse clock. */
  lastReceivedAt: number;
  /**
   * Set by the server once established, in a multi-worker dataplane: a UDP socket of its own, connected to the
   * peer, which the kernel prefers over the shared listening sockets (so the flow stays in this worker whatever
   * happens to the others). Records go out on it; undefined = the server's socket.
   */
  connectedSocket: { send(msg: Uint8Array): void; getSendQueueCount(): number } | undefined = undefined;
  readonly #host: AssociationHost;
  #engine: HandshakeEngine | undefined;
  #protection: RecordProtection | undefined;
  readonly #replay = new ReplayWindow();

  constructor(host: AssociationHost, remoteAddress: string, remotePort: number, credentials: Credentials, hello: ClientHelloView) {
    super();
    this.#host = host;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.startedAt = host.now;
    this.lastReceivedAt = host.now;
    this.#engine = new HandshakeEngine(credentials, hello, this, host.mtu);
  }

  /** Sends waiting in user space on the socket this association's records leave on (udp-send-queue.ts). */
  sendQueueCount(): number {
    const own = this.connectedSocket;
    return own !== undefined ? own.getSendQueueCount() : this.#host.sendQueueCount();
  }

  /** Encrypts and sends one datagram. Dropped silently unless established, as UDP would. */
  send(data: Uint8Array): void {
    const protection = this.#protection;
    if (protection === undefined || this.state !== AssociationState.established) return;
    if (data.length > MAX_PLAINTEXT_LENGTH) {
      throw new DtlsError(DtlsErrorCode.messageTooLarge, `at most ${MAX_PLAINTEXT_LENGTH} bytes per record, got ${data.length}`, 'data');
    }
    const record = protection.seal(ContentType.applicationData, data);
    const own = this.connectedSocket;
    if (own !== undefined) own.send(record);
    else this.#host.sendTo(record, this.remotePort, this.remoteAddress);
  }

  /** RFC 5246 §7.2.1: close with a close_notify alert when established. */
  close(): void {
    this.terminate(CloseReason.local);
  }

  /** Handles one datagram from the peer. May throw only if a 'message' listener throws. */
  receive(datagram: Buffer): void {
    if (this.state === AssociationState.handshaking) {
      this.#receiveHandshaking(datagram);
      return;
    }
    const protection = this.#protection;
    if (protection === undefined) return;
    const stats = this.#host.stats;
    let at = 0;
    while (at < datagram.length && this.state === AssociationState.established) {
      const end = recordEnd(datagram, at);
      if (end < 0) {
        stats.malformedDatagrams++;
        return;
      }
      const type = datagram[at];
      const epoch = recordEpoch(datagram, at);
      if (epoch === protection.epoch && (type === ContentType.applicationData || type === ContentType.alert)) {
        this.#receiveProtected(protection, datagram, at, type);
      } else if (type === ContentType.handshake || type === ContentType.changeCipherSpec) {
        if (epoch === 0 && type === ContentType.handshake && datagram[at + RECORD_HEADER_LENGTH] === HandshakeType.clientHello) {
          this.#host.clientHelloOnAssociation(this, datagram);
          return;
        }
        // The client did not get our Finished and retransmits its flight 5; werift answers it.
        this.#engine?.receive(datagram);
        return;
      } else {
        // Epoch-0 alerts after the handshake are unauthenticated and ignored (RFC 6347 §4.1.2.7).
        stats.malformedDatagrams++;
      }
      at = end;
    }
  }

  #receiveProtected(protection: RecordProtection, datagram: Buffer, at: number, type: number): void {
    const stats = this.#host.stats;
    const seq = recordSequence(datagram, at);
    if (!this.#replay.isFresh(seq)) {
      stats.replayedRecords++;
      return;
    }
    const plaintext = protection.open(datagram, at);
    if (plaintext === undefined) {
      stats.decryptFailures++;
      return;
    }
    this.#replay.accept(seq);
    this.lastReceivedAt = this.#host.now;
    if (type === ContentType.alert) {
      this.#receiveAlert(plaintext);
      return;
    }
    if (this.#engine !== undefined) {
      // Application data proves the client has our Finished: werift is no longer needed.
      this.#engine.dispose();
      this.#engine = undefined;
    }
    this.emit('message', plaintext);
  }

  /**
   * RFC 5246 §7.2.1: "Unless some other fatal alert has been transmitted, each party is required to
   * send a close_notify alert before closing the write side of the connection." A fatal alert
   * closes at once (§7.2.2); other warnings are ignored.
   */
  #receiveAlert(alert: Buffer): void {
    if (alert.length < 2) return;
    if (alert[1] === AlertDescription.closeNotify) this.terminate(CloseReason.peer);
    else if (alert[0] === AlertLevel.fatal) this.terminate(CloseReason.peer, false);
  }

  #receiveHandshaking(datagram: Buffer): void {
    if (
      datagram.length > RECORD_HEADER_LENGTH &&
      datagram[0] === ContentType.handshake &&
      datagram[RECORD_HEADER_LENGTH] === HandshakeType.clientHello &&
      recordEpoch(datagram, 0) === 0
    ) {
      this.#host.clientHelloOnAssociation(this, datagram);
      return;
    }
    this.#engine?.receive(datagram);
  }

  /** The ClientHello retransmitted with our cookie while its handshake runs: werift repeats flight 4. */
  retransmittedClientHello(datagram: Buffer): void {
    this.#engine?.receive(datagram);
  }

  // HandshakeSink ---------------------------------------------------------------------------------

  sendDatagram(datagram: Buffer): void {
    if (this.state === AssociationState.closed) return;
    this.#host.sendTo(datagram, this.remotePort, this.remoteAddress);
  }

  handshakeDone(result: HandshakeResult): void {
    if (this.state !== AssociationState.handshaking) return;
    this.#protection = new RecordProtection(result.keys, 1, result.firstWriteSequence);
    this.cipherSuite = result.cipherSuite;
    this.state = AssociationState.established;
    this.lastReceivedAt = this.#host.now;
    this.#host.stats.handshakesCompleted++;
    this.#host.established(this);
  }

  handshakeFailed(error: DtlsError): void {
    if (this.state !== AssociationState.handshaking) return;
    this.#host.stats.handshakesFailed++;
    // RFC 5246 §7.2.2: tell the client why, in the clear, since no keys are shared yet.
    const seq = this.#engine?.takeEpoch0Sequence() ?? 0;
    this.sendDatagram(encodePlaintextAlert(AlertLevel.fatal, AlertDescription.handshakeFailure, seq));
    this.#host.handshakeFailed(this, error);
    this.terminate(CloseReason.handshakeFailed);
  }

  peerAborted(): void {
    if (this.state !== AssociationState.handshaking) return;
    this.#host.stats.handshakesAborted++;
    this.terminate(CloseReason.peer, false);
  }

  // -----------------------------------------------------------------------------------------------

  /** Emits 'error' only when someone listens: an unheard 'error' would throw. */
  reportError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Ends the association; sends close_notify when established and `notify` is set. */
  terminate(reason: CloseReason, notify = true): void {
    if (this.state === AssociationState.closed) return;
    const wasEstablished = this.state === AssociationState.established;
    if (wasEstablished && notify && this.#protection !== undefined) {
      try {
        const alert = this.#protection.seal(ContentType.alert, Buffer.from([AlertLevel.warning, AlertDescription.closeNotify]));
        const own = this.connectedSocket;
        if (own !== undefined) own.send(alert);
        else this.#host.sendTo(alert, this.remotePort, this.remoteAddress);
      } catch {
        // The socket may already be closing; the peer's idle timer covers a lost close_notify.
      }
    }
    this.state = AssociationState.closed;
    this.#engine?.dispose();
    this.#engine = undefined;
    this.#protection = undefined;
    this.#host.closed(this, reason, wasEstablished);
    if (wasEstablished) this.emit('close', reason);
  }
}
