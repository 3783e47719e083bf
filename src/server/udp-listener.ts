// A TURN-UDP listener: one dgram socket; each datagram is routed to the allocation of its 5-tuple.
// ChannelData is recognised by its first byte before any STUN parsing (the hot path).
//
// Client sockets: with SO_REUSEPORT (several dataplane workers), a client that holds an allocation also gets a
// socket of its own, bound to the listener's address and port and connected to the client. The kernel then
// delivers that client's datagrams to it alone, whatever the reuseport group does: a flood from another
// source fills the shared socket's queue, not this client's; a worker that restarts does not move this
// client to another worker; and sends to the client name no address. It costs one file descriptor per
// allocation. Datagrams that arrive before it is connected still come through the shared socket; those of
// other clients that the kernel queues on it while it is bound but not yet connected go back to the shared
// path (client-socket.ts).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { ListenerConfig } from '../config/types.ts';
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';
import type { TurnServer } from '../turn/turn-server.ts';
import type { RelayAllocator } from '../turn/relay.ts';
import { takeClientDatagram } from './client-datagram.ts';
import { ClientSocket } from './client-socket.ts';
import type { FlowDirectory } from './flow-directory.ts';
import { ipLiteralLookup } from './ip-literal-lookup.ts';
import type { ListenerRuntime } from './listener-runtime.ts';
import { listenerBindAddress } from './relay-address.ts';
import { UdpClientLink } from './udp-link.ts';

/** Kernel socket buffers for the shared listener socket: bursts from many clients land here. */
const SOCKET_BUFFER_BYTES = 4 << 20;

export interface UdpListenerOptions {
  readonly config: ListenerConfig;
  readonly stats: ListenerStats;
  readonly server: TurnServer;
  readonly relays: RelayAllocator;
  admission: PeerAdmission;
  readonly onError: (err: Error) => void;
  /** Bind with SO_REUSEPORT, next to the same listener in other dataplane workers. */
  readonly reusePort?: boolean;
  /** Flows held by other dataplane workers (absent in a single-threaded gateway). */
  readonly flows?: FlowDirectory;
  /** A connected socket per client with an allocation (needs reusePort; default: with reusePort). */
  readonly clientSockets?: boolean;
}

export class UdpListener implements ListenerRuntime {
  readonly name: string;
  readonly stats: ListenerStats;
  readonly relays: RelayAllocator;
  admission: PeerAdmission;
  config: ListenerConfig;
  readonly #server: TurnServer;
  readonly #socket: Socket;
  readonly #flows: FlowDirectory | undefined;
  /**
   * Allocations by client port, then address: a number-keyed lookup and a string compare per datagram,
   * without building a "host:port" key string.
   */
  readonly #byPort = new Map<number, Allocation | Allocation[]>();
  /** Allocations counted as downstream connections. */
  readonly #connected = new Set<Allocation>();
  /** Each client's own socket (client sockets, above), once bound and connected. */
  readonly #clientSockets = new Map<Allocation, ClientSocket>();
  readonly #useClientSockets: boolean;
  readonly #onError: (err: Error) => void;

  constructor(opts: UdpListenerOptions) {
    this.name = opts.config.name;
    this.config = opts.config;
    this.stats = opts.stats;
    this.relays = opts.relays;
    this.admission = opts.admission;
    this.#server = opts.server;
    this.#flows = opts.flows;
    this.#useClientSockets = (opts.reusePort ?? false) && (opts.clientSockets ?? true);
    this.#onError = opts.onError;
    const v6 = isIP(opts.config.address) === 6;
    this.#socket = createSocket({
      type: v6 ? 'udp6' : 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES,
      reusePort: opts.reusePort ?? false, lookup: ipLiteralLookup,
    });
    this.#socket.on('message', this.#onMessage);
    this.#socket.on('error', opts.onError);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.#socket.once('error', fail);
      this.#socket.bind(this.config.port, listenerBindAddress(this.config.address), () => {
        this.#socket.off('error', fail);
        resolve();
      });
    });
  }

  get address(): { address: string; port: number } {
    return this.#socket.address();
  }

  readonly #onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const allocation = this.#lookup(rinfo.address, rinfo.port);
    // Only what is STUN or ChannelData by its first byte can belong to a flow of another worker.
    if (allocation === undefined && msg.length > 0 && msg[0] < 0x80 && this.#flows?.forward(this.name, msg, rinfo.address, rinfo.port)) {
      return;
    }
    this.#receive(msg, rinfo, allocation);
  };

  /** A datagram another worker received for a flow this one owns: handled as if it had arrived here. */
  receiveForwarded(msg: Buffer, rinfo: { address: string; port: number }): void {
    this.#receive(msg, rinfo, this.#lookup(rinfo.address, rinfo.port));
  }

  #receive(msg: Buffer, rinfo: { address: string; port: number }, allocation: Allocation | undefined): void {
    if (!takeClientDatagram(this.stats, msg, allocation)) return;
    const link = allocation?.client ?? new UdpClientLink(this.#socket, rinfo.address, rinfo.port, this.stats);
    this.#server.handleStun(this, link, msg, allocation);
  }

  #lookup(address: string, port: number): Allocation | undefined {
    const e = this.#byPort.get(port);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return e.client.remoteAddress === address ? e : undefined;
    for (const a of e) if (a.client.remoteAddress === address) return a;
    return undefined;
  }

  attach(a: Allocation): void {
    const port = a.client.remotePort;
    const e = this.#byPort.get(port);
    if (e === undefined) this.#byPort.set(port, a);
    else if (Array.isArray(e)) e.push(a);
    else this.#byPort.set(port, [e, a]);
    this.#flows?.claim(this.name, a.client.remoteAddress, port);
  }

  /**
   * docs/metrics.md: for TURN-UDP a downstream connection is "a client 5-tuple that holds an allocation", so
   * it is counted once the allocation succeeds, not when a (possibly failing) Allocate is being served.
   */
  activated(a: Allocation): void {
    this.#connected.add(a);
    this.stats.connectionOpened();
    if (this.#useClientSockets) this.#openClientSocket(a);
  }

  #openClientSocket(a: Allocation): void {
    const { remoteAddress, remotePort } = a.client;
    // Without it the client is served through the shared socket, as before.
    new ClientSocket({
      address: listenerBindAddress(this.config.address), port: this.config.port, remoteAddress, remotePort,
      // Its allocation's own socket: no lookup per datagram.
      own: (msg, rinfo) => this.#receive(msg, rinfo, a),
      other: this.#onMessage,
      connected: (s) => {
        // The allocation may have ended meanwhile.
        if (!this.#connected.has(a) || !(a.client instanceof UdpClientLink)) return false;
        this.#clientSockets.set(a, s);
        a.client.useConnected(s.socket);
        return true;
      },
      onError: this.#onError,
    });
  }

  #closeClientSocket(a: Allocation): void {
    const s = this.#clientSockets.get(a);
    if (s === undefined) return;
    this.#clientSockets.delete(a);
    if (a.client instanceof UdpClientLink) a.client.useConnected(undefined);
    s.close();
  }

  /** Clients served through sockets of their own now. */
  get clientSocketCount(): number {
    return this.#clientSockets.size;
  }

  detach(a: Allocation): void {
    const port = a.client.remotePort;
    const e = this.#byPort.get(port);
    if (e === undefined) return;
    if (e === a) {
      this.#byPort.delete(port);
    } else if (Array.isArray(e)) {
      const i = e.indexOf(a);
      if (i < 0) return;
      e.splice(i, 1);
      if (e.length === 1) this.#byPort.set(port, e[0]);
    } else {
      return;
    }
    this.#flows?.release(this.name, a.client.remoteAddress, port);
    this.#closeClientSocket(a);
    if (this.#connected.delete(a)) this.stats.connectionClosed();
  }

  /** Closes the socket and the relay allocator (reserved ports and relays still open). */
  close(): Promise<void> {
    this.relays.close();
    for (const a of [...this.#clientSockets.keys()]) this.#closeClientSocket(a);
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
