// Runs one server handshake with werift-dtls and hands back the traffic keys. werift-dtls owns the
// flights and the key exchange; this adapter closes the gaps listed in README.md:
// - it is entered only after our stateless cookie check, and primed so werift's own per-connection
//   cookie state agrees with the cookie the client already holds;
// - every epoch-0 record it sends is renumbered (werift gives all fragments of a message one record
//   sequence number, and OpenSSL drops the repeats as replays: a long certificate never arrives);
// - oversized flights are split into datagrams of at most `mtu` bytes at record boundaries;
// - a message werift fragmented (a certificate over 1240 bytes) enters the transcript whole;
// - the client's Finished is verified (werift only logs it);
// - the Certificate message carries the whole chain (werift sends the leaf alone), and the key exchange
//   runs on node:crypto;
// - its retransmission loops end at their next wake-up once the engine is disposed, sending nothing.
// werift-dtls is reached through werift-internals.ts, which checks the installed version and the internals
// used here; prepareEngine() runs that check and installs the patches before the first server listens.

import type { DtlsServer as WeriftServer } from 'werift-dtls/lib/dtls/src/index.js';
import type { FragmentedHandshake } from 'werift-dtls/lib/dtls/src/record/message/fragment.js';
import { sendCertificateChain, useCertificateChain } from './certificate-chain.ts';
import { cookieOf, withoutCookie } from './client-hello.ts';
import type { ClientHelloView } from './client-hello.ts';
import { HASH_SHA256 } from './credentials.ts';
import type { Credentials } from './credentials.ts';
import { DtlsError, DtlsErrorCode } from './errors.ts';
import { clientFinishedVerifyData } from './prf.ts';
import { useNativeKeyExchange } from './native-key-exchange.ts';
import { HandshakeType, recordEnd, recordEpoch, recordSequence, writeRecordSequence } from './record.ts';
import type { TrafficKeys } from './record-protection.ts';
import { weriftInternals } from './werift-internals.ts';
import type { WeriftInternals } from './werift-internals.ts';

export interface HandshakeResult {
  readonly keys: TrafficKeys;
  /** First sequence number free for our epoch-1 records (werift's Finished used the ones before). */
  readonly firstWriteSequence: number;
  readonly cipherSuite: string;
}

export interface HandshakeSink {
  sendDatagram(datagram: Buffer): void;
  handshakeDone(result: HandshakeResult): void;
  handshakeFailed(error: DtlsError): void;
  /** The client sent an alert before the handshake finished. */
  peerAborted(): void;
}

const SERVER = 2;
/** werift stops a flight's retransmission loop once dtls.flight reaches the next flight. */
const FLIGHTS_DONE = Number.MAX_SAFE_INTEGER;

const CIPHER_SUITE_NAMES: Readonly<Record<number, string>> = {
  0xc02b: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  0xc02c: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  0xc02f: 'ECDHE-RSA-AES128-GCM-SHA256',
  0xc030: 'ECDHE-RSA-AES256-GCM-SHA384',
};

let engine: WeriftInternals | undefined;

/**
 * Checks the installed werift-dtls (werift-internals.ts) and installs our patches into it: the key exchange on
 * node:crypto and the whole certificate chain in flight 4. Once; throws DtlsError ERR_DTLS_DEPENDENCY.
 */
export function prepareEngine(): WeriftInternals {
  if (engine === undefined) {
    const werift = weriftInternals();
    useNativeKeyExchange(werift.namedCurve, werift.prf);
    sendCertificateChain(werift.Flight4, werift.Certificate);
    engine = werift;
  }
  return engine;
}

/** Throws a DtlsError when werift cannot load the credentials (checked once per load, not per handshake). */
export function assertEngineAccepts(credentials: Credentials): void {
  const { CipherContext } = prepareEngine();
  try {
    const ctx = new CipherContext(SERVER, credentials.certPem, credentials.keyPem, {
      hash: HASH_SHA256,
      signature: credentials.signature,
    });
    if (ctx.localCert === undefined) throw new Error('no certificate parsed');
  } catch (err) {
    throw new DtlsError(DtlsErrorCode.badCertificate, 'the DTLS library cannot load this certificate and key', 'cert', {
      cause: err,
    });
  }
}

export class HandshakeEngine {
  readonly #server: WeriftServer;
  readonly #sink: HandshakeSink;
  readonly #mtu: number;
  readonly #feed: (datagram: Buffer) => void;
  #muted = true;
  #disposed = false;
  /** Failures inside the constructor are reported after it returns, so the sink can hold the engine. */
  #constructing = true;
  #finished = false;
  #nextEpoch0Sequence: number;
  #lastEpoch1Sequence = -1;

  /** Starts the handshake for a ClientHello whose cookie our CookieJar has verified. */
  constructor(credentials: Credentials, hello: ClientHelloView, sink: HandshakeSink, mtu: number) {
    this.#sink = sink;
    this.#mtu = mtu;
    // Our epoch-0 records must not collide with the HelloVerifyRequest, which echoed the first
    // ClientHello's record sequence number (RFC 6347 §4.2.1); the second ClientHello's is higher.
    this.#nextEpoch0Sequence = hello.recordSequence + 1;
    const transport = {
      type: 'dtls-association',
      address: { address: '', port: 0, family: '' },
      closed: false,
      onData: (_data: Buffer): void => undefined,
      send: async (data: Buffer): Promise<void> => this.#send(data),
      close: async (): Promise<void> => undefined,
    };
    const { DtlsServer: Server } = prepareEngine();
    this.#server = new Server({
      transport,
      cert: credentials.certPem,
      key: credentials.keyPem,
      signatureHash: { hash: HASH_SHA256, signature: credentials.signature },
      // RFC 7627: OpenSSL and browsers offer it; without it the master secret is not bound to the transcript.
      extendedMasterSecret: true,
    });
    useCertificateChain(this.#server.cipher, credentials.chain);
    this.#feed = transport.onData;
    this.#server.onConnect.subscribe(() => this.#onConnect());
    this.#server.onError.subscribe((err: unknown) => this.#fail(err));
    this.#server.onClose.subscribe(() => this.#onPeerAlert());
    this.#prime(hello);
    this.#constructing = false;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** A datagram of this association while the handshake runs, or a retransmitted flight 5 after it. */
  receive(datagram: Buffer): void {
    if (this.#disposed) return;
    try {
      this.#feed(datagram);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** A fresh epoch-0 record sequence number, for an alert sent in the clear. */
  takeEpoch0Sequence(): number {
    return this.#nextEpoch0Sequence++;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#muted = true;
    this.#server.dtls.flight = FLIGHTS_DONE;
    this.#server.onConnect.allUnsubscribe();
    this.#server.onError.allUnsubscribe();
    this.#server.onClose.allUnsubscribe();
  }

  /**
   * werift expects to have answered the cookie-less ClientHello itself (its flight 2 negotiates the
   * suite and curve there) and then to see its own cookie come back. The client already holds our
   * stateless cookie, so: give werift that cookie, show it the ClientHello without it while its
   * output is muted (its HelloVerifyRequest is dropped), then hand it the real one.
   */
  #prime(hello: ClientHelloView): void {
    this.#server.dtls.cookie = Buffer.from(cookieOf(hello));
    this.#feed(withoutCookie(hello));
    // werift's flight 2 runs synchronously; when it threw (no common suite, curve or signature
    // algorithm) it left no key pair, and flight 4 must not run.
    if (this.#server.cipher.localKeyPair === undefined || this.#server.cipher.cipherSuite === undefined) {
      this.#fail(new Error('no cipher suite, curve or signature algorithm in common with the client'));
      return;
    }
    this.#muted = false;
    this.#feed(hello.datagram.subarray(0, hello.recordEnd));
    // werift built and cached flight 4 synchronously in the call above.
    this.#reassembleFlight4();
  }

  /**
   * RFC 6347 §4.2.6: "the Finished MAC MUST be computed as if each handshake message had been sent
   * as a single fragment." werift caches each fragment of a message it split as its own transcript
   * entry, so with a certificate over 1240 bytes both sides would derive different secrets.
   */
  #reassembleFlight4(): void {
    const flight = this.#server.dtls.handshakeCache[4];
    if (flight === undefined) return;
    const parts = new Map<number, FragmentedHandshake[]>();
    for (const m of flight.data) {
      const list = parts.get(m.msg_type);
      if (list === undefined) parts.set(m.msg_type, [m]);
      else list.push(m);
    }
    if (flight.data.length === parts.size) return;
    const whole: FragmentedHandshake[] = [];
    const { FragmentedHandshake: Fragments } = prepareEngine();
    for (const list of parts.values()) whole.push(list.length === 1 ? list[0] : Fragments.assemble(list));
    flight.data = whole;
  }

  #send(data: Buffer): void {
    if (this.#muted || this.#disposed) return;
    let at = 0;
    let datagramStart = 0;
    while (at < data.length) {
      const end = recordEnd(data, at);
      if (end < 0) break;
      // RFC 6347 §4.1: "each record has its own sequence number", also when retransmitted (§4.2.4).
      if (recordEpoch(data, at) === 0) writeRecordSequence(data, at, this.#nextEpoch0Sequence++);
      else this.#lastEpoch1Sequence = Math.max(this.#lastEpoch1Sequence, recordSequence(data, at));
      if (end - datagramStart > this.#mtu && at > datagramStart) {
        this.#sink.sendDatagram(data.subarray(datagramStart, at));
        datagramStart = at;
      }
      at = end;
    }
    if (datagramStart < data.length) this.#sink.sendDatagram(data.subarray(datagramStart));
  }

  #onConnect(): void {
    if (this.#disposed || this.#finished) return;
    try {
      if (!this.#clientFinishedIsValid()) {
        this.#fail(new Error("the client's Finished does not match the handshake"));
        return;
      }
      const suite = this.#server.cipher.cipher;
      const record = suite as unknown as WeriftAeadCipher;
      if (suite.blockAlgorithm === undefined || record.clientNonce === undefined || record.serverNonce === undefined) {
        throw new Error('the DTLS library produced no record keys');
      }
      this.#finished = true;
      this.#sink.handshakeDone({
        keys: {
          algorithm: suite.blockAlgorithm,
          clientWriteKey: Buffer.from(record.clientWriteKey),
          serverWriteKey: Buffer.from(record.serverWriteKey),
          clientSalt: Buffer.from(record.clientNonce.subarray(0, 4)),
          serverSalt: Buffer.from(record.serverNonce.subarray(0, 4)),
        },
        firstWriteSequence: Math.max(1, this.#lastEpoch1Sequence + 1),
        cipherSuite: CIPHER_SUITE_NAMES[this.#server.cipher.cipherSuite] ?? `0x${this.#server.cipher.cipherSuite.toString(16)}`,
      });
    } catch (err) {
      this.#fail(err);
    }
  }

  /**
   * RFC 5246 §7.4.9: "Recipients of Finished messages MUST verify that the contents are correct."
   * The transcript is flight 4 (the cookie-bearing ClientHello and our ServerHello..ServerHelloDone)
   * and flight 5 up to the client's Finished, in message_seq order, as werift cached them.
   */
  #clientFinishedIsValid(): boolean {
    const cache = this.#server.dtls.handshakeCache;
    const messages = [...(cache[4]?.data ?? []), ...(cache[5]?.data ?? [])];
    const finished = messages.find((m) => m.msg_type === HandshakeType.finished);
    if (finished === undefined) return false;
    const transcript = Buffer.concat(messages.filter((m) => m !== finished).map((m) => m.serialize()));
    const expected = clientFinishedVerifyData(this.#server.cipher.masterSecret, transcript);
    return Buffer.from(finished.fragment).equals(expected);
  }

  #onPeerAlert(): void {
    if (this.#disposed || this.#finished) return;
    this.dispose();
    this.#sink.peerAborted();
  }

  #fail(err: unknown): void {
    if (this.#disposed || this.#finished) return;
    this.dispose();
    const message = err instanceof Error ? err.message : String(err);
    const error = new DtlsError(DtlsErrorCode.handshake, message, undefined, { cause: err });
    if (this.#constructing) queueMicrotask(() => this.#sink.handshakeFailed(error));
    else this.#sink.handshakeFailed(error);
  }
}

/** The record-key fields of werift's AEAD cipher (typed in its .d.ts only on the subclass). */
interface WeriftAeadCipher {
  clientWriteKey: Buffer;
  serverWriteKey: Buffer;
  clientNonce?: Buffer;
  serverNonce?: Buffer;
}
