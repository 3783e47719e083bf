// A TURN core without sockets: a TurnServer on a fake clock, one in-memory listener with real peer admission
// (src/cluster) and real stats, and clients that speak STUN to it through RecordingLinks, doing the 401
// challenge / nonce dance of RFC 8489 §9.2 themselves.
import assert from 'node:assert/strict';
import { Attr, MessageClass, Method, TRANSPORT_UDP } from '../../../src/stun/constants.ts';
import { XorPeerAddress } from '../../../src/stun/attributes/address.ts';
import { ChannelNumber, RequestedTransport } from '../../../src/stun/attributes/numeric.ts';
import { ErrorCode } from '../../../src/stun/attributes/errors.ts';
import { Nonce, Realm, Username } from '../../../src/stun/attributes/text.ts';
import type { TransportAddress } from '../../../src/stun/address.ts';
import { encodeChannelData } from '../../../src/stun/channel-data.ts';
import { longTermKey } from '../../../src/stun/integrity.ts';
import { decodeStun, type StunMessage } from '../../../src/stun/message.ts';
import { StunWriter } from '../../../src/stun/writer.ts';
import type { Authenticator } from '../../../src/auth/authenticator.ts';
import { StaticAuthenticator } from '../../../src/auth/static-auth.ts';
import { Cluster } from '../../../src/cluster/cluster.ts';
import { PeerAdmission } from '../../../src/cluster/peer-admission.ts';
import { LoggerFactory } from '../../../src/log/logger.ts';
import { splitRequestKey } from '../../../src/stats/listener-stats.ts';
import { StatsRegistry } from '../../../src/stats/registry.ts';
import { TurnServer, type TurnLimits } from '../../../src/turn/turn-server.ts';
import type { ClientTransport } from '../../../src/turn/client-link.ts';
import {
  MemoryListener, MemoryRelayAllocator, MemoryTcpRelayAllocator, RecordingLink, type MemoryRelayOptions,
} from './fakes.ts';

export const REALM = 'core.test';
export const LISTENER = 'udp-core';
export const ALICE = { username: 'alice', password: 'alice-secret' } as const;
export const CLIENT_IP = '198.51.100.7';

export const NO_LIMITS: TurnLimits = {
  userQuota: 0, maxAllocations: 0, maxPermissionsPerAllocation: 0, maxChannelsPerAllocation: 0,
  unauthenticatedRate: 0,
};

export interface ClusterSpec {
  readonly name: string;
  readonly endpoints: readonly string[];
  readonly type?: 'STATIC' | 'STRICT_DNS';
  readonly protocol?: 'UDP' | 'TCP';
}

export interface CoreOptions {
  readonly limits?: Partial<TurnLimits>;
  /** Routed clusters, in route order; default one `media` cluster of 10.0.0.0/8 and 2001:db8:cafe::/48. */
  readonly clusters?: readonly ClusterSpec[];
  readonly families?: readonly (4 | 6)[];
  readonly capacity?: number;
  /** Relay sockets open peer links for channels (RelaySocket.openPeerLink), as UDP relay sockets do. */
  readonly peerLinks?: boolean;
  /** TCP relays for RFC 6062 allocations, as on a TURN-TCP/TLS listener. */
  readonly tcp?: MemoryRelayOptions;
  /** Built with the core's clock; default: static credentials of ALICE. */
  readonly authenticator?: (clock: () => number) => Authenticator;
}

export const MEDIA: ClusterSpec = { name: 'media', endpoints: ['10.0.0.0/8', '2001:db8:cafe::/48'] };

/** Lets the allocate handler's awaits (relay allocation) run to completion. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function peerAddress(address: string, port: number): TransportAddress {
  return { family: address.includes(':') ? 6 : 4, address, port };
}

/** 200 for a success response, else the ERROR-CODE. */
export function codeOf(m: StunMessage): number {
  if (m.cls === MessageClass.successResponse) return 200;
  const e = m.get(ErrorCode);
  assert.ok(e !== undefined, 'an error response carries ERROR-CODE');
  return e.code;
}

export class Core {
  now = Date.UTC(2025, 0, 1);
  readonly clock = (): number => this.now;
  readonly registry = new StatsRegistry();
  readonly relays: MemoryRelayAllocator;
  readonly listener: MemoryListener;
  readonly server: TurnServer;
  #nextClientPort = 40_000;

  constructor(opts: CoreOptions = {}) {
    this.relays = new MemoryRelayAllocator({ families: opts.families, capacity: opts.capacity, peerLinks: opts.peerLinks });
    this.listener = new MemoryListener(LISTENER, this.registry.listener(LISTENER),
      this.admission(opts.clusters ?? [MEDIA]), this.relays,
      opts.tcp === undefined ? undefined : new MemoryTcpRelayAllocator(opts.tcp));
    this.server = new TurnServer({
      authenticator: opts.authenticator?.(this.clock) ?? new StaticAuthenticator(ALICE.username, ALICE.password, REALM),
      realm: REALM,
      limits: { ...NO_LIMITS, ...opts.limits },
      logger: new LoggerFactory({ levels: 'all:DISABLE' }).get('turn'),
      clock: this.clock,
    });
  }

  /** Peer admission over real clusters, counting into this core's registry. */
  admission(clusters: readonly ClusterSpec[]): PeerAdmission {
    const routes = clusters.map((c) => new Cluster({
      name: c.name, type: c.type ?? 'STATIC', protocol: c.protocol ?? 'UDP', endpoints: c.endpoints,
    }));
    return new PeerAdmission(LISTENER, routes, (cluster) => this.registry.cluster(LISTENER, cluster));
  }

  get stats() {
    return this.listener.stats;
  }

  clusterStats(name = MEDIA.name) {
    return this.registry.cluster(LISTENER, name);
  }

  /** stunner_requests_total of this listener as `method code` -> count. */
  requests(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, n] of this.stats.requests) {
      const { method, code } = splitRequestKey(key);
      out[`${method} ${code}`] = n;
    }
    return out;
  }

  /** Advances the fake clock and runs the sweeper, as the gateway's coarse timer does. */
  elapse(seconds: number): void {
    this.now += seconds * 1000;
    this.server.sweep();
  }

  /** One datagram from `link`, dispatched as the UDP listener does: ChannelData by its first two bits. */
  async deliver(link: RecordingLink, buf: Buffer): Promise<void> {
    const allocation = this.listener.lookup(link);
    if (buf.length > 0 && (buf[0] & 0xc0) === 0x40) {
      if (allocation !== undefined && allocation.state === 'active') allocation.relayChannelData(buf);
    } else {
      this.server.handleStun(this.listener, link, buf, allocation);
    }
    await flush();
  }

  client(username: string = ALICE.username, password: string = ALICE.password, ip = CLIENT_IP,
    transport: ClientTransport = 'udp'): CoreClient {
    return new CoreClient(this, new RecordingLink(ip, this.#nextClientPort++, transport), username, password);
  }
}

export interface SignOptions {
  readonly transactionId?: Uint8Array;
  readonly fingerprint?: boolean;
  /** null leaves the attribute out. */
  readonly username?: string | null;
  readonly realm?: string | null;
  readonly nonce?: string | null;
  /** Sign with a key from this password instead of the client's. */
  readonly password?: string;
}

export class CoreClient {
  readonly core: Core;
  readonly link: RecordingLink;
  readonly username: string;
  readonly password: string;
  realm: string | undefined;
  nonce: string | undefined;
  /** Answer a 438 with the fresh NONCE it carries and send again, as clients do (RFC 8489 §9.2.5). */
  renewStaleNonce = true;
  #seen = 0;

  constructor(core: Core, link: RecordingLink, username: string, password: string) {
    this.core = core;
    this.link = link;
    this.username = username;
    this.password = password;
  }

  get key(): Buffer {
    assert.ok(this.realm !== undefined, 'challenge() first');
    return longTermKey(this.username, this.realm, this.password);
  }

  /** Sends a datagram; returns the STUN messages the server sent to this client meanwhile. */
  async send(buf: Buffer): Promise<StunMessage[]> {
    await this.core.deliver(this.link, buf);
    return this.received();
  }

  /** STUN messages sent to this client since the last call (Data indications, late answers). */
  received(): StunMessage[] {
    const out = this.link.sent.slice(this.#seen).map((b) => {
      const r = decodeStun(b);
      assert.ok(r.ok, `the server sent a message that does not decode: ${r.ok ? '' : r.reason}`);
      return r.message;
    });
    this.#seen = this.link.sent.length;
    return out;
  }

  /** Sends a request and returns its one answer (asserting there is exactly one, with its transaction id). */
  async exchange(buf: Buffer): Promise<StunMessage> {
    const got = await this.send(buf);
    assert.equal(got.length, 1, `want one answer, got ${got.length}`);
    assert.deepEqual(Buffer.from(got[0].transactionId), buf.subarray(8, 20));
    return got[0];
  }

  /** RFC 8489 §9.2.3: a request without credentials is answered 401 with REALM and NONCE; learn them. */
  async challenge(): Promise<StunMessage> {
    const res = await this.exchange(plainRequest(Method.allocate, (w) => w.add(RequestedTransport, TRANSPORT_UDP)));
    assert.equal(codeOf(res), 401);
    this.realm = res.get(Realm);
    this.nonce = res.get(Nonce);
    assert.ok(this.realm !== undefined && this.nonce !== undefined);
    return res;
  }

  /** A request with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY over what `build` added (RFC 8489 §9.2.4). */
  signed(method: number, build: (w: StunWriter) => void = () => {}, o: SignOptions = {}): Buffer {
    assert.ok(this.realm !== undefined && this.nonce !== undefined, 'challenge() first');
    const w = new StunWriter(method, MessageClass.request, o.transactionId);
    build(w);
    const username = o.username === undefined ? this.username : o.username;
    const realm = o.realm === undefined ? this.realm : o.realm;
    const nonce = o.nonce === undefined ? this.nonce : o.nonce;
    if (username !== null) w.add(Username, username);
    if (realm !== null) w.add(Realm, realm);
    if (nonce !== null) w.add(Nonce, nonce);
    w.addMessageIntegrity(longTermKey(username ?? this.username, realm ?? this.realm, o.password ?? this.password));
    if (o.fingerprint === true) w.addFingerprint();
    return Buffer.from(w.finish());
  }

  /** Challenges first if no nonce is known yet, then sends the signed request: its answer. */
  async request(method: number, build: (w: StunWriter) => void = () => {}, o: SignOptions = {}): Promise<StunMessage> {
    if (this.nonce === undefined) await this.challenge();
    const res = await this.exchange(this.signed(method, build, o));
    if (!this.renewStaleNonce || o.nonce !== undefined || codeOf(res) !== 438) return res;
    this.nonce = res.get(Nonce);
    return this.exchange(this.signed(method, build, o));
  }

  /** Allocate for UDP (plus what `build` adds): the answer. */
  allocateRequest(build: (w: StunWriter) => void = () => {}, o: SignOptions = {}): Promise<StunMessage> {
    return this.request(Method.allocate, (w) => {
      w.add(RequestedTransport, TRANSPORT_UDP);
      build(w);
    }, o);
  }

  /** Allocate that must succeed. */
  async allocate(build: (w: StunWriter) => void = () => {}): Promise<StunMessage> {
    const res = await this.allocateRequest(build);
    assert.equal(codeOf(res), 200, 'allocate succeeds');
    return res;
  }

  createPermission(...peers: string[]): Promise<StunMessage> {
    return this.request(Method.createPermission, (w) => {
      for (const p of peers) w.add(XorPeerAddress, peerAddress(p, 0));
    });
  }

  channelBind(channel: number, address: string, port: number): Promise<StunMessage> {
    return this.request(Method.channelBind,
      (w) => w.add(ChannelNumber, channel).add(XorPeerAddress, peerAddress(address, port)));
  }

  sendChannel(channel: number, payload: Uint8Array): Promise<StunMessage[]> {
    return this.send(encodeChannelData(channel, payload));
  }

  sendIndication(address: string, port: number, data: Uint8Array): Promise<StunMessage[]> {
    return this.send(Buffer.from(new StunWriter(Method.send, MessageClass.indication)
      .add(XorPeerAddress, peerAddress(address, port)).addRaw(Attr.DATA, data).finish()));
  }
}

/** A request without credentials. */
export function plainRequest(method: number, build: (w: StunWriter) => void = () => {}, fingerprint = false): Buffer {
  const w = new StunWriter(method, MessageClass.request);
  build(w);
  if (fingerprint) w.addFingerprint();
  return Buffer.from(w.finish());
}
