// In-memory stand-ins for the I/O the TURN core reaches through interfaces: a client link that records what
// the server sends, relay sockets that record what is relayed and let a test inject peer datagrams, a relay
// allocator with a capacity and reservations, and a listener that routes 5-tuples to allocations.
import { randomBytes } from 'node:crypto';
import type { TransportAddress } from '../../../src/stun/address.ts';
import { longTermKey } from '../../../src/stun/integrity.ts';
import type { AuthRejection, Authenticator, Credential } from '../../../src/auth/authenticator.ts';
import type { PeerAdmission } from '../../../src/cluster/peer-admission.ts';
import type { ListenerStats } from '../../../src/stats/listener-stats.ts';
import type { TrafficCounters } from '../../../src/stats/traffic-counters.ts';
import type { Allocation } from '../../../src/turn/allocation.ts';
import type { ClientLink, ClientTransport } from '../../../src/turn/client-link.ts';
import type { ListenerContext } from '../../../src/turn/listener-context.ts';
import type { PeerLink, PeerUnreachableHandler, RelayAllocator, RelayRequest, RelayResult, RelaySocket } from '../../../src/turn/relay.ts';
import type {
  PeerFlow, TcpPeerConnection, TcpRelay, TcpRelayAllocator, TcpRelayResult,
} from '../../../src/turn/tcp-relay.ts';

export interface ChannelDataSent {
  readonly channel: number;
  readonly payload: Buffer;
}

/** A client 5-tuple: records every STUN message and ChannelData the server sends to it. */
export class RecordingLink implements ClientLink {
  readonly transport: ClientTransport;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly sent: Buffer[] = [];
  readonly channelData: ChannelDataSent[] = [];

  constructor(remoteAddress: string, remotePort: number, transport: ClientTransport = 'udp') {
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.transport = transport;
  }

  send(message: Uint8Array): void {
    // Copied: the server may hand out views of buffers it reuses.
    this.sent.push(Buffer.from(message));
  }

  sendChannelData(channel: number, payload: Uint8Array): void {
    this.channelData.push({ channel, payload: Buffer.from(payload) });
  }
}

export interface RelayedDatagram {
  readonly data: Buffer;
  readonly port: number;
  readonly address: string;
}

/** A relayed transport address. Sending on a closed one throws, as a closed dgram socket does. */
/** A relay socket's path to one peer (RelaySocket.openPeerLink): records what goes out on it; `unreachable` plays
 *  the kernel reporting an ICMP error on it. */
export class MemoryPeerLink implements PeerLink {
  onPeerDatagram: (data: Buffer) => void = () => {};
  readonly address: string;
  readonly port: number;
  readonly sent: Buffer[] = [];
  readonly unreachable: PeerUnreachableHandler;
  closed = false;

  constructor(address: string, port: number, unreachable: PeerUnreachableHandler) {
    this.address = address;
    this.port = port;
    this.unreachable = unreachable;
  }

  send(data: Uint8Array, counted: TrafficCounters): boolean {
    if (this.closed) throw new Error(`send on closed peer link ${this.address}:${this.port}`);
    counted.txPackets++;
    counted.txBytes += data.length;
    this.sent.push(Buffer.from(data));
    return true;
  }

  close(): void {
    this.closed = true;
  }

  /** A datagram from the link's peer arrives on the link (dropped by the "kernel" once closed). */
  deliver(data: Uint8Array | string): void {
    if (!this.closed) this.onPeerDatagram(Buffer.from(data));
  }
}

export class MemoryRelaySocket implements RelaySocket {
  readonly address: TransportAddress;
  /** With `peerLinks` (MemoryRelayOptions): every link opened, in order. */
  readonly links: MemoryPeerLink[] = [];
  openPeerLink?: RelaySocket['openPeerLink'];
  onPeerDatagram: (data: Buffer, address: string, port: number) => void = () => {};
  readonly sent: RelayedDatagram[] = [];
  closed = false;
  /** While true, sends are refused as a socket whose send queue is full refuses them. */
  full = false;
  readonly #onClose: (s: MemoryRelaySocket) => void;

  constructor(address: TransportAddress, onClose: (s: MemoryRelaySocket) => void, peerLinks = false) {
    this.address = address;
    this.#onClose = onClose;
    if (peerLinks) {
      this.openPeerLink = (peer, port, unreachable) => {
        const link = new MemoryPeerLink(peer, port, unreachable);
        this.links.push(link);
        return link;
      };
    }
  }

  send(data: Uint8Array, port: number, address: string, counted: TrafficCounters): boolean {
    if (this.closed) throw new Error(`send on closed relay ${this.address.address}:${this.address.port}`);
    if (this.full) return false;
    counted.txPackets++;
    counted.txBytes += data.length;
    this.sent.push({ data: Buffer.from(data), port, address });
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links) link.close();
    this.#onClose(this);
  }

  /** A datagram from a peer arrives at this relayed address (dropped by the "kernel" once closed). */
  deliver(data: Uint8Array | string, address: string, port: number): void {
    if (!this.closed) this.onPeerDatagram(Buffer.from(data), address, port);
  }
}

export interface MemoryRelayOptions {
  readonly families?: readonly (4 | 6)[];
  /** Sockets (relays and reserved ports) that may be open at once; beyond it allocate answers 508. */
  readonly capacity?: number;
  /** Relay sockets open peer links for channels, as UDP relay sockets do. */
  readonly peerLinks?: boolean;
}

/**
 * Relay ports from a counter that starts odd, so that an EVEN-PORT request is visibly honoured; EVEN-PORT
 * with R holds the next port and returns a token that `claim` redeems once.
 */
export class MemoryRelayAllocator implements RelayAllocator {
  static readonly ADDRESS = { 4: '192.0.2.10', 6: '2001:db8::10' } as const;
  readonly families: ReadonlySet<4 | 6>;
  capacity: number;
  /** Every socket ever handed out, in order. */
  readonly sockets: MemoryRelaySocket[] = [];
  open = 0;
  readonly #reservations = new Map<string, MemoryRelaySocket>();
  #nextPort = 49_153;
  readonly #peerLinks: boolean;

  constructor(opts: MemoryRelayOptions = {}) {
    this.families = new Set(opts.families ?? [4]);
    this.capacity = opts.capacity ?? Infinity;
    this.#peerLinks = opts.peerLinks ?? false;
  }

  async allocate(req: RelayRequest): Promise<RelayResult> {
    if (!this.families.has(req.family)) return { ok: false, code: 440 };
    if (this.open + (req.reserveNext ? 2 : 1) > this.capacity) return { ok: false, code: 508 };
    let port = this.#nextPort;
    if (req.evenPort && port % 2 !== 0) port++;
    this.#nextPort = port + (req.reserveNext ? 2 : 1);
    const socket = this.#socket(req.family, port);
    if (!req.reserveNext) return { ok: true, socket };
    const token = randomBytes(8);
    this.#reservations.set(token.toString('hex'), this.#socket(req.family, port + 1));
    return { ok: true, socket, reservationToken: token };
  }

  async claim(token: Uint8Array): Promise<RelaySocket | undefined> {
    const key = Buffer.from(token).toString('hex');
    const socket = this.#reservations.get(key);
    this.#reservations.delete(key);
    return socket;
  }

  setPortRange(): void {}

  close(): void {
    for (const s of this.sockets) s.close();
    this.#reservations.clear();
  }

  /** The open relay socket at `port`, if any. */
  at(port: number): MemoryRelaySocket | undefined {
    return this.sockets.find((s) => s.address.port === port && !s.closed);
  }

  #socket(family: 4 | 6, port: number): MemoryRelaySocket {
    const s = new MemoryRelaySocket({ family, address: MemoryRelayAllocator.ADDRESS[family], port }, () => this.open--, this.#peerLinks);
    this.sockets.push(s);
    this.open++;
    return s;
  }
}

/** The listener side of the core: routes a client 5-tuple to its allocation, counts downstream connections. */
export class MemoryListener implements ListenerContext {
  readonly name: string;
  readonly stats: ListenerStats;
  admission: PeerAdmission;
  readonly relays: MemoryRelayAllocator;
  readonly tcpRelays: MemoryTcpRelayAllocator | undefined;
  readonly #byTuple = new Map<string, Allocation>();

  constructor(name: string, stats: ListenerStats, admission: PeerAdmission, relays: MemoryRelayAllocator,
    tcpRelays?: MemoryTcpRelayAllocator) {
    this.name = name;
    this.stats = stats;
    this.admission = admission;
    this.relays = relays;
    this.tcpRelays = tcpRelays;
  }

  attach(a: Allocation): void {
    this.#byTuple.set(tupleKey(a.client), a);
    this.stats.connectionOpened();
  }

  detach(a: Allocation): void {
    const key = tupleKey(a.client);
    if (this.#byTuple.get(key) !== a) return;
    this.#byTuple.delete(key);
    this.stats.connectionClosed();
  }

  lookup(link: ClientLink): Allocation | undefined {
    return this.#byTuple.get(tupleKey(link));
  }
}

function tupleKey(link: ClientLink): string {
  return `${link.remoteAddress}|${link.remotePort}`;
}

/** A TCP connection between a relayed address and a peer (RFC 6062): records binding and closing. */
export class MemoryPeerConnection implements TcpPeerConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  onClose: () => void = () => {};
  boundTo: ClientLink | undefined;
  flow: PeerFlow | undefined;
  closed = false;

  constructor(remoteAddress: string, remotePort: number) {
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  /** As the Node adapter: only a stream client connection can carry raw bytes. */
  bind(client: ClientLink, flow: PeerFlow): boolean {
    if (client.transport !== 'tcp' && client.transport !== 'tls') return false;
    this.boundTo = client;
    this.flow = flow;
    return true;
  }

  close(): void {
    this.closed = true;
  }

  /** The peer closes its end. */
  peerClose(): void {
    this.closed = true;
    this.onClose();
  }
}

/**
 * A relayed TCP address. Connects succeed at once unless the peer port is in `refused`; with `hold` they
 * wait for `release()` (a Connect in progress).
 */
export class MemoryTcpRelay implements TcpRelay {
  readonly address: TransportAddress;
  onPeerConnection: (connection: TcpPeerConnection) => void = () => {};
  readonly refused = new Set<number>();
  readonly opened: MemoryPeerConnection[] = [];
  hold = false;
  closed = false;
  readonly #held: (() => void)[] = [];

  constructor(address: TransportAddress) {
    this.address = address;
  }

  async connect(address: string, port: number): Promise<TcpPeerConnection | undefined> {
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.closed || this.refused.has(port)) return undefined;
    const c = new MemoryPeerConnection(address, port);
    this.opened.push(c);
    return c;
  }

  release(): void {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }

  /** A peer opens a connection to this relayed address. */
  accept(address: string, port: number): MemoryPeerConnection {
    const c = new MemoryPeerConnection(address, port);
    this.onPeerConnection(c);
    return c;
  }

  close(): void {
    this.closed = true;
  }
}

export class MemoryTcpRelayAllocator implements TcpRelayAllocator {
  readonly families: ReadonlySet<4 | 6>;
  capacity: number;
  readonly relays: MemoryTcpRelay[] = [];
  #nextPort = 51_000;

  constructor(opts: MemoryRelayOptions = {}) {
    this.families = new Set(opts.families ?? [4]);
    this.capacity = opts.capacity ?? Infinity;
  }

  async allocate(family: 4 | 6): Promise<TcpRelayResult> {
    if (!this.families.has(family)) return { ok: false, code: 440 };
    if (this.relays.filter((r) => !r.closed).length >= this.capacity) return { ok: false, code: 508 };
    const relay = new MemoryTcpRelay({ family, address: MemoryRelayAllocator.ADDRESS[family], port: this.#nextPort++ });
    this.relays.push(relay);
    return { ok: true, relay };
  }

  setPortRange(): void {}

  close(): void {
    for (const r of this.relays) r.close();
  }
}

/** Long-term credentials from a table of users: enough users to tell "another valid username" (441) apart. */
export class UserTable implements Authenticator {
  readonly #realm: string;
  readonly #passwords: ReadonlyMap<string, string>;

  constructor(realm: string, passwords: Readonly<Record<string, string>>) {
    this.#realm = realm;
    this.#passwords = new Map(Object.entries(passwords));
  }

  authenticate(username: string, realm: string): Credential | AuthRejection {
    const password = this.#passwords.get(username);
    if (password === undefined || realm !== this.#realm) return 'unknown-user';
    return { key: longTermKey(username, realm, password), userId: username };
  }
}
