// Relay sockets for UDP allocations: one dgram socket per relayed transport address, bound inside the
// listener's relay port range when it has one (RFC 8656 §7.2 steps 6-7 for EVEN-PORT and reservations).
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import type { TransportAddress } from '../stun/address.ts';
import type { RelayAllocator, RelayRequest, RelayResult, RelaySocket } from '../turn/relay.ts';
import { RESERVATION_LIFETIME_S } from '../turn/timers.ts';
import type { RelayAddressPlan } from './relay-address.ts';

/** How many ports are tried before answering 508. */
const MAX_BIND_ATTEMPTS = 64;

export class UdpRelaySocket implements RelaySocket {
  readonly address: TransportAddress;
  readonly socket: Socket;
  onPeerDatagram: (data: Buffer, address: string, port: number) => void = () => {};
  readonly #release: (port: number) => void;

  constructor(socket: Socket, address: TransportAddress, release: (port: number) => void) {
    this.socket = socket;
    this.address = address;
    this.#release = release;
    socket.on('message', (msg, rinfo) => this.onPeerDatagram(msg, rinfo.address, rinfo.port));
  }

  send(data: Uint8Array, port: number, address: string): void {
    this.socket.send(data, port, address);
  }

  #closed = false;

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onPeerDatagram = () => {};
    this.#release(this.address.port);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

export interface UdpRelayOptions {
  readonly plan: RelayAddressPlan;
  /** 0..0 (or 0..65535) = any ephemeral port. */
  readonly minPort: number;
  readonly maxPort: number;
  /** Socket errors (ICMP unreachable surfacing as send errors, etc.): logged by the caller. */
  readonly onError: (err: Error) => void;
}

export class UdpRelayAllocator implements RelayAllocator {
  readonly families: ReadonlySet<4 | 6>;
  readonly #opts: UdpRelayOptions;
  #minPort: number;
  #maxPort: number;
  /** Ports of our relays (and reservations) per family, so a full range is known without binding. */
  readonly #inUse = new Map<4 | 6, Set<number>>([[4, new Set()], [6, new Set()]]);
  readonly #reservations = new Map<string, { socket: UdpRelaySocket; timer: NodeJS.Timeout }>();

  constructor(opts: UdpRelayOptions) {
    this.#opts = opts;
    this.#minPort = opts.minPort;
    this.#maxPort = opts.maxPort;
    this.families = new Set(opts.plan.bind.keys());
  }

  get #ranged(): boolean {
    return this.#minPort > 0 && !(this.#minPort <= 1024 && this.#maxPort >= 65535);
  }

  async allocate(req: RelayRequest): Promise<RelayResult> {
    if (!this.families.has(req.family)) return { ok: false, code: 440 };
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS; attempt++) {
      const port = this.#pickPort(req.family, req.evenPort, req.reserveNext);
      if (port === undefined) return { ok: false, code: 508 };
      const socket = await this.#bind(req.family, port);
      if (socket === undefined) continue;
      if (req.evenPort && socket.address.port % 2 !== 0) {
        socket.close();
        continue;
      }
      if (!req.reserveNext) return { ok: true, socket };
      const next = await this.#bind(req.family, socket.address.port + 1);
      if (next === undefined) {
        socket.close();
        continue;
      }
      const token = randomBytes(8);
      const key = token.toString('hex');
      const timer = setTimeout(() => {
        this.#reservations.delete(key);
        next.close();
      }, RESERVATION_LIFETIME_S * 1000);
      timer.unref();
      this.#reservations.set(key, { socket: next, timer });
      return { ok: true, socket, reservationToken: token };
    }
    return { ok: false, code: 508 };
  }

  setPortRange(minPort: number, maxPort: number): void {
    this.#minPort = minPort;
    this.#maxPort = maxPort;
  }

  async claim(token: Uint8Array): Promise<RelaySocket | undefined> {
    const key = Buffer.from(token).toString('hex');
    const r = this.#reservations.get(key);
    if (r === undefined) return undefined;
    this.#reservations.delete(key);
    clearTimeout(r.timer);
    return r.socket;
  }

  /** Closes reserved sockets (listener shutdown). */
  close(): void {
    for (const r of this.#reservations.values()) {
      clearTimeout(r.timer);
      r.socket.close();
    }
    this.#reservations.clear();
  }

  #pickPort(family: 4 | 6, even: boolean, pair: boolean): number | undefined {
    if (!this.#ranged) return 0;
    const minPort = this.#minPort;
    const maxPort = this.#maxPort;
    const used = this.#inUse.get(family)!;
    const size = maxPort - minPort + 1;
    if (used.size >= size) return undefined;
    // Random start, then linear probe: O(1) while the range is sparse, bounded when it is dense.
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = minPort + ((start + i) % size);
      if (used.has(port)) continue;
      if (even && port % 2 !== 0) continue;
      if (pair && (port + 1 > maxPort || used.has(port + 1))) continue;
      return port;
    }
    return undefined;
  }

  #bind(family: 4 | 6, port: number): Promise<UdpRelaySocket | undefined> {
    const bindAddress = this.#opts.plan.bind.get(family)!;
    const advertised = this.#opts.plan.advertise.get(family)!;
    return new Promise((resolve) => {
      const s = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
      const fail = () => {
        s.close();
        resolve(undefined);
      };
      s.once('error', fail);
      s.bind(port, bindAddress, () => {
        s.off('error', fail);
        s.on('error', this.#opts.onError);
        const bound = s.address().port;
        const used = this.#inUse.get(family)!;
        used.add(bound);
        resolve(new UdpRelaySocket(s, { family, address: advertised, port: bound }, (p) => used.delete(p)));
      });
    });
  }
}
