// TCP relays for RFC 6062 allocations: one listening node:net socket per relayed transport address, inside the
// listener's relay port range, and the outgoing connections Connect asks for.
//
// RFC 6062 §5.2 wants the outgoing connection to use the relayed transport address as its source. Linux only
// lets a connecting socket share the port of a listening one when both set SO_REUSEPORT, and node:net cannot
// set it on a connecting socket, so outgoing connections leave from the relay's IP and an ephemeral port.
// Peers that match connections to the advertised relayed port would not recognise them (coturn's clients,
// and peers that are themselves TURN relays, do not look at the port).
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TransportAddress } from '../stun/address.ts';
import type { TcpPeerConnection, TcpRelay, TcpRelayAllocator, TcpRelayResult } from '../turn/tcp-relay.ts';
import { RelayPortPool } from './port-pool.ts';
import type { RelayAddressPlan } from './relay-address.ts';
import { NetTcpPeerConnection } from './tcp-peer.ts';

/** §5.2: "The timeout value MUST be at least 30 seconds." */
export const CONNECT_TIMEOUT_MS = 30_000;
/** How many ports are tried before answering 508. */
const MAX_BIND_ATTEMPTS = 64;
/** Connections a relayed address accepts at once; the core closes the ones without a permission at once. */
const MAX_PEER_CONNECTIONS = 256;

export interface TcpRelayOptions {
  readonly plan: RelayAddressPlan;
  readonly minPort: number;
  readonly maxPort: number;
  readonly onError: (err: Error) => void;
  /** The listener's pool shared by every worker thread (src/shared/dataplane-state.ts); default: its own. */
  readonly ports?: RelayPortPool;
}

export class NetTcpRelay implements TcpRelay {
  readonly address: TransportAddress;
  onPeerConnection: (connection: TcpPeerConnection) => void = (c) => c.close();
  readonly #server: Server;
  readonly #bindAddress: string;
  readonly #release: (relay: NetTcpRelay) => void;
  readonly #connecting = new Set<Socket>();
  #closed = false;

  constructor(server: Server, address: TransportAddress, bindAddress: string, release: (relay: NetTcpRelay) => void) {
    this.#server = server;
    this.address = address;
    this.#bindAddress = bindAddress;
    this.#release = release;
    server.on('connection', (socket: Socket) => this.onPeerConnection(new NetTcpPeerConnection(socket)));
  }

  connect(address: string, port: number): Promise<TcpPeerConnection | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const wildcard = this.#bindAddress === '0.0.0.0' || this.#bindAddress === '::';
    return new Promise((resolve) => {
      const socket = connect({
        host: address, port, family: this.address.family, localAddress: wildcard ? undefined : this.#bindAddress,
      });
      this.#connecting.add(socket);
      const fail = () => {
        this.#connecting.delete(socket);
        socket.destroy();
        resolve(undefined);
      };
      socket.setTimeout(CONNECT_TIMEOUT_MS, fail);
      socket.once('error', fail);
      socket.once('connect', () => {
        this.#connecting.delete(socket);
        socket.off('error', fail);
        socket.setTimeout(0);
        // Nothing is relayed until ConnectionBind; what the peer sends meanwhile waits in the socket.
        socket.pause();
        resolve(new NetTcpPeerConnection(socket));
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onPeerConnection = (c) => c.close();
    for (const s of this.#connecting) s.destroy();
    this.#connecting.clear();
    this.#server.close();
    this.#release(this);
  }
}

export class NetTcpRelayAllocator implements TcpRelayAllocator {
  readonly families: ReadonlySet<4 | 6>;
  readonly #opts: TcpRelayOptions;
  readonly #ports: RelayPortPool;
  /** Every relay listening now: close() closes what allocations left behind. */
  readonly #open = new Set<NetTcpRelay>();
  #closed = false;

  constructor(opts: TcpRelayOptions) {
    this.#opts = opts;
    this.#ports = opts.ports ?? new RelayPortPool(opts.minPort, opts.maxPort);
    // A shared pool takes this listener's range too: every worker stores the same one.
    opts.ports?.setRange(opts.minPort, opts.maxPort);
    this.families = new Set(opts.plan.bind.keys());
  }

  async allocate(family: 4 | 6): Promise<TcpRelayResult> {
    if (!this.families.has(family)) return { ok: false, code: 440 };
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS && !this.#closed; attempt++) {
      // Claimed (its bit set) before the bind, released if the bind fails; 0 = the kernel picks.
      const port = this.#ports.claim(family);
      if (port === undefined) return { ok: false, code: 508 };
      const relay = await this.#bind(family, port);
      if (relay !== undefined) return { ok: true, relay };
      if (port !== 0) this.#ports.release(family, port);
    }
    return { ok: false, code: 508 };
  }

  setPortRange(minPort: number, maxPort: number): void {
    this.#ports.setRange(minPort, maxPort);
  }

  /** Listener shutdown: closes every relay still listening (and its pending connects); allocate answers 508
   *  from now on. */
  close(): void {
    this.#closed = true;
    for (const relay of [...this.#open]) relay.close();
  }

  #bind(family: 4 | 6, port: number): Promise<NetTcpRelay | undefined> {
    const bindAddress = this.#opts.plan.bind.get(family)!;
    const advertised = this.#opts.plan.advertise.get(family)!;
    // pauseOnConnect: an accepted peer connection reads nothing until it is bound (RFC 6062 §5.3).
    const server = createServer({ pauseOnConnect: true, noDelay: true });
    server.maxConnections = MAX_PEER_CONNECTIONS;
    return new Promise((resolve) => {
      const fail = () => {
        server.close();
        resolve(undefined);
      };
      server.once('error', fail);
      server.listen({ port, host: bindAddress, ipv6Only: family === 6, exclusive: true }, () => {
        server.off('error', fail);
        // Closed while binding: nobody will close this server.
        if (this.#closed) {
          fail();
          return;
        }
        server.on('error', this.#opts.onError);
        const bound = (server.address() as { port: number }).port;
        this.#ports.take(family, bound);
        const relay = new NetTcpRelay(server, { family, address: advertised, port: bound }, bindAddress, this.#release);
        this.#open.add(relay);
        resolve(relay);
      });
    });
  }

  readonly #release = (relay: NetTcpRelay): void => {
    this.#open.delete(relay);
    this.#ports.release(relay.address.family, relay.address.port);
  };
}
