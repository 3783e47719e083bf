// A TURN client (RFC 8656 §§7-12) over UDP, TCP or TLS: used by the tests, the benchmarks and turncat.
// Requests are retransmitted over UDP (RFC 8489 §6.2.1) and authenticated with the long-term mechanism,
// answering 401 and 438 challenges transparently.
import { EventEmitter } from 'node:events';
import {
  Attr, FAMILY_IPV4, FAMILY_IPV6, Method, MessageClass, TRANSPORT_TCP, TRANSPORT_UDP,
} from '../stun/constants.ts';
import { XorMappedAddress, XorPeerAddress, XorRelayedAddress } from '../stun/attributes/address.ts';
import {
  AdditionalAddressFamily, ChannelNumber, ConnectionId, Icmp, Lifetime, RequestedAddressFamily, RequestedTransport,
  type IcmpInfo,
} from '../stun/attributes/numeric.ts';
import { Nonce, Realm, Username } from '../stun/attributes/text.ts';
import { ErrorCode } from '../stun/attributes/errors.ts';
import type { TransportAddress } from '../stun/address.ts';
import { decodeStun, type StunMessage } from '../stun/message.ts';
import { longTermKey, verifyMessageIntegrity } from '../stun/integrity.ts';
import { StunWriter } from '../stun/writer.ts';
import { decodeChannelData, encodeChannelData } from '../stun/channel-data.ts';
import { openTransport, type ClientTransport, type TransportOptions } from './transport.ts';

export class TurnClientError extends Error {
  /** The STUN error code of the response, or 0 for a timeout/transport failure. */
  readonly code: number;
  readonly response: StunMessage | undefined;
  constructor(message: string, code: number, response?: StunMessage) {
    super(message);
    this.code = code;
    this.response = response;
  }
}

export interface TurnClientOptions extends TransportOptions {
  readonly username: string;
  readonly password: string;
  /** Initial RTO for UDP retransmissions (RFC 8489 §6.2.1: 500 ms recommended). */
  readonly rtoMs?: number;
  /** Total transmissions over UDP (Rc, default 7). */
  readonly retransmissions?: number;
  /** Over streams, how long to wait for an answer (Ti, 39.5 s in the RFC). */
  readonly timeoutMs?: number;
}

export interface AllocateOptions {
  readonly lifetime?: number;
  readonly family?: 4 | 6;
  readonly additionalFamily?: boolean;
  /** 'tcp': an RFC 6062 TCP allocation (over a TCP or TLS client connection). */
  readonly transport?: 'udp' | 'tcp';
  /** Extra attributes to add (tests). */
  readonly extra?: (w: StunWriter) => void;
}

export interface AllocateResult {
  readonly relayed: TransportAddress[];
  readonly mapped: TransportAddress | undefined;
  readonly lifetime: number;
  readonly response: StunMessage;
}

interface Pending {
  resolve(m: StunMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export interface TurnClientEvents {
  data: [data: Buffer, peer: TransportAddress, channel: number | undefined];
  /** RFC 6062 §4.4: a peer connected to our TCP relayed address; bind it with bindDataConnection(). */
  connectionAttempt: [connectionId: number, peer: TransportAddress];
  /** RFC 8656 §11.6: the server heard an ICMP error (type, code) for what was relayed to `peer`. */
  icmp: [icmp: IcmpInfo, peer: TransportAddress];
}

export class TurnClient extends EventEmitter<TurnClientEvents> {
  readonly transport: ClientTransport;
  readonly #opts: TurnClientOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #channels = new Map<number, TransportAddress>();
  #realm: string | undefined;
  #nonce: string | undefined;
  #key: Buffer | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  closed = false;

  private constructor(transport: ClientTransport, opts: TurnClientOptions) {
    super();
    this.transport = transport;
    this.#opts = opts;
    transport.onFrame = (f) => this.#onFrame(f);
    transport.onClose = (err) => this.#fail(err ?? new Error('connection closed'));
  }

  get options(): TurnClientOptions {
    return this.#opts;
  }

  /** Adds the long-term credential attributes learnt from the last challenge (for requests sent elsewhere,
   *  such as ConnectionBind on a data connection). */
  sign(w: StunWriter): void {
    if (this.#key === undefined) throw new TurnClientError('no credentials yet: send a request first', 0);
    w.add(Username, this.#opts.username).add(Realm, this.#realm!).add(Nonce, this.#nonce!);
    w.addMessageIntegrity(this.#key);
  }

  static async connect(opts: TurnClientOptions): Promise<TurnClient> {
    return new TurnClient(await openTransport(opts), opts);
  }

  /** Sends a request and resolves with the success response; rejects with TurnClientError otherwise. */
  request(method: number, build: (w: StunWriter) => void = () => {}, authenticate = true): Promise<StunMessage> {
    return this.#authenticated(method, build, authenticate, 0);
  }

  async #authenticated(method: number, build: (w: StunWriter) => void, authenticate: boolean,
    attempt: number): Promise<StunMessage> {
    const res = await this.transact(method, (w) => {
      build(w);
      if (authenticate && this.#key !== undefined) {
        w.add(Username, this.#opts.username).add(Realm, this.#realm!).add(Nonce, this.#nonce!);
        w.addMessageIntegrity(this.#key);
      }
      w.addFingerprint();
    });
    if (res.cls === MessageClass.successResponse) {
      if (authenticate && this.#key !== undefined && !verifyMessageIntegrity(res, this.#key)) {
        throw new TurnClientError('response failed MESSAGE-INTEGRITY', 0, res);
      }
      return res;
    }
    const err = res.get(ErrorCode);
    const code = err?.code ?? 0;
    // RFC 8489 §9.2.5: learn REALM and NONCE from the first 401, or a fresh NONCE from a 438, and retry.
    const challenged = code === 438 || (code === 401 && this.#key === undefined);
    const realm = res.get(Realm);
    const nonce = res.get(Nonce);
    if (authenticate && challenged && attempt < 3 && realm !== undefined && nonce !== undefined) {
      if (this.#key === undefined || realm !== this.#realm) {
        this.#realm = realm;
        this.#key = longTermKey(this.#opts.username, realm, this.#opts.password);
      }
      this.#nonce = nonce;
      return this.#authenticated(method, build, authenticate, attempt + 1);
    }
    throw new TurnClientError(`${code} ${err?.reason ?? 'error'}`, code, res);
  }

  /** One transaction, without authentication handling: the raw response (success or error). */
  transact(method: number, build: (w: StunWriter) => void): Promise<StunMessage> {
    if (this.closed) return Promise.reject(new TurnClientError('client closed', 0));
    const w = new StunWriter(method, MessageClass.request);
    const tid = Buffer.from(w.transactionId).toString('hex');
    build(w);
    const msg = w.finish();
    return new Promise<StunMessage>((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: undefined };
      this.#pending.set(tid, p);
      const rto = this.#opts.rtoMs ?? 500;
      const rc = this.#opts.retransmissions ?? 7;
      let sent = 0;
      const fire = () => {
        if (this.#pending.get(tid) !== p) return;
        if (this.transport.reliable ? sent >= 1 : sent >= rc) {
          this.#pending.delete(tid);
          reject(new TurnClientError('request timed out', 0));
          return;
        }
        this.transport.send(msg);
        sent++;
        // RFC 8489 §6.2.1: RTO doubles after each retransmission; the last wait is Rm (16) x RTO.
        const wait = this.transport.reliable ? (this.#opts.timeoutMs ?? 39_500)
          : sent >= rc ? rto * 16 : rto * 2 ** (sent - 1);
        p.timer = setTimeout(fire, wait);
      };
      fire();
    });
  }

  #onFrame(frame: Buffer): void {
    // ChannelData (first bits 0b01); one shorter than its length field falls through to decodeStun, which refuses it.
    const cd = decodeChannelData(frame);
    if (cd !== undefined) {
      const peer = this.#channels.get(cd.channel);
      // The payload is a view of `frame`: a Buffer.
      if (peer !== undefined) this.emit('data', cd.payload as Buffer, peer, cd.channel);
      return;
    }
    const r = decodeStun(frame);
    if (!r.ok) return;
    const m = r.message;
    if (m.cls === MessageClass.indication) {
      if (m.method === Method.connectionAttempt) {
        const id = m.get(ConnectionId);
        const peer = m.get(XorPeerAddress);
        if (id !== undefined && peer !== undefined) this.emit('connectionAttempt', id, peer);
      } else if (m.method === Method.data) {
        const peer = m.get(XorPeerAddress);
        if (peer === undefined) return;
        // RFC 8656 §11.6: an ICMP error the server heard for a datagram to `peer` (such an indication has no DATA).
        const icmp = m.get(Icmp);
        if (icmp !== undefined) {
          this.emit('icmp', icmp, peer);
          return;
        }
        const data = m.value(Attr.DATA);
        if (data !== undefined) this.emit('data', Buffer.from(data), peer, undefined);
      }
      return;
    }
    const tid = Buffer.from(m.transactionId).toString('hex');
    const p = this.#pending.get(tid);
    if (p === undefined) return;
    this.#pending.delete(tid);
    clearTimeout(p.timer);
    p.resolve(m);
  }

  #fail(err: Error): void {
    if (this.closed) return;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new TurnClientError(err.message, 0));
    }
    this.#pending.clear();
  }

  async binding(): Promise<TransportAddress | undefined> {
    const res = await this.request(Method.binding, () => {}, false);
    return res.get(XorMappedAddress);
  }

  async allocate(opts: AllocateOptions = {}): Promise<AllocateResult> {
    const res = await this.request(Method.allocate, (w) => {
      w.add(RequestedTransport, opts.transport === 'tcp' ? TRANSPORT_TCP : TRANSPORT_UDP);
      if (opts.lifetime !== undefined) w.add(Lifetime, opts.lifetime);
      if (opts.family !== undefined) w.add(RequestedAddressFamily, opts.family === 4 ? FAMILY_IPV4 : FAMILY_IPV6);
      if (opts.additionalFamily) w.add(AdditionalAddressFamily, FAMILY_IPV6);
      opts.extra?.(w);
    });
    return {
      relayed: res.getAll(XorRelayedAddress) ?? [],
      mapped: res.get(XorMappedAddress),
      lifetime: res.get(Lifetime) ?? 0,
      response: res,
    };
  }

  /** Refreshes the allocation; lifetime 0 deletes it. Returns the granted lifetime. */
  async refresh(lifetime?: number): Promise<number> {
    const res = await this.request(Method.refresh, (w) => {
      if (lifetime !== undefined) w.add(Lifetime, lifetime);
    });
    return res.get(Lifetime) ?? 0;
  }

  /** Refreshes the allocation, permissions and channels before they expire, until close(). */
  keepAlive(peers: readonly TransportAddress[], intervalMs = 240_000): void {
    clearInterval(this.#refreshTimer);
    this.#refreshTimer = setInterval(() => {
      void this.refresh().catch(() => {});
      if (peers.length > 0) void this.createPermission(...peers).catch(() => {});
      for (const [n, peer] of this.#channels) void this.channelBind(n, peer).catch(() => {});
    }, intervalMs);
    this.#refreshTimer.unref();
  }

  async createPermission(...peers: TransportAddress[]): Promise<void> {
    await this.request(Method.createPermission, (w) => {
      for (const p of peers) w.add(XorPeerAddress, p);
    });
  }

  async channelBind(channel: number, peer: TransportAddress): Promise<void> {
    await this.request(Method.channelBind, (w) => w.add(ChannelNumber, channel).add(XorPeerAddress, peer));
    this.#channels.set(channel, peer);
  }

  /** RFC 6062 §4.3: asks the server to connect the TCP relayed address to `peer`; resolves with the
   *  CONNECTION-ID to bind (bindDataConnection). */
  async connectPeer(peer: TransportAddress): Promise<number> {
    const res = await this.request(Method.connect, (w) => w.add(XorPeerAddress, peer));
    const id = res.get(ConnectionId);
    if (id === undefined) throw new TurnClientError('Connect response without CONNECTION-ID', 0, res);
    return id;
  }

  /** A Send indication (RFC 8656 §10.1). */
  sendIndication(peer: TransportAddress, data: Uint8Array): void {
    this.transport.send(new StunWriter(Method.send, MessageClass.indication, undefined, data.length + 64)
      .add(XorPeerAddress, peer).addRaw(Attr.DATA, data).finish());
  }

  /** RFC 8656 §12.5: ChannelData, padded to a multiple of four bytes over TCP and TLS. */
  sendChannel(channel: number, data: Uint8Array): void {
    this.transport.send(encodeChannelData(channel, data, this.transport.kind !== 'udp'));
  }

  /** Sends raw bytes (tests of malformed input). */
  sendRaw(bytes: Uint8Array): void {
    this.transport.send(bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.#refreshTimer);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new TurnClientError('client closed', 0));
    }
    this.#pending.clear();
    this.transport.close();
  }
}
