// Relay sockets for UDP allocations: one dgram socket per relayed transport address, bound inside the
// listener's relay port range when it has one (RFC 8656 §7.2 steps 6-7 for EVEN-PORT and reservations).
import { randomBytes } from 'node:crypto';
import type { RelayAllocator, RelayRequest, RelayResult, RelaySocket } from '../turn/relay.ts';
import { RESERVATION_LIFETIME_S } from '../turn/timers.ts';
import { RelayPortPool } from './port-pool.ts';
import { createRelayDatagramSocket, UdpRelaySocket } from './udp-relay-socket.ts';
import type { RelayAddressPlan } from './relay-address.ts';

/** How many ports are tried before answering 508. */
const MAX_BIND_ATTEMPTS = 64;

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
  readonly #ports: RelayPortPool;
  /** Every relay socket bound and not closed yet, reserved ones included: close() closes what is left. */
  readonly #open = new Set<UdpRelaySocket>();
  readonly #reservations = new Map<string, { socket: UdpRelaySocket; timer: NodeJS.Timeout }>();
  #closed = false;

  constructor(opts: UdpRelayOptions) {
    this.#opts = opts;
    this.#ports = new RelayPortPool(opts.minPort, opts.maxPort);
    this.families = new Set(opts.plan.bind.keys());
  }

  async allocate(req: RelayRequest): Promise<RelayResult> {
    if (!this.families.has(req.family)) return { ok: false, code: 440 };
    const kind = req.reserveNext ? 'pair' : req.evenPort ? 'even' : 'any';
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS && !this.#closed; attempt++) {
      const port = this.#ports.pick(req.family, kind);
      if (port === undefined) return { ok: false, code: 508 };
      const socket = await this.#bind(req.family, port);
      if (socket === undefined) continue;
      // Without a range the kernel picked the port: it may be odd.
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
    this.#ports.setRange(minPort, maxPort);
  }

  async claim(token: Uint8Array): Promise<RelaySocket | undefined> {
    const key = Buffer.from(token).toString('hex');
    const r = this.#reservations.get(key);
    if (r === undefined) return undefined;
    this.#reservations.delete(key);
    clearTimeout(r.timer);
    return r.socket;
  }

  /** Listener shutdown: closes the reserved ports (and their timers) and every relay still open; allocate
   *  answers 508 from now on. */
  close(): void {
    this.#closed = true;
    for (const r of this.#reservations.values()) clearTimeout(r.timer);
    this.#reservations.clear();
    for (const socket of [...this.#open]) socket.close();
  }

  #bind(family: 4 | 6, port: number): Promise<UdpRelaySocket | undefined> {
    const bindAddress = this.#opts.plan.bind.get(family)!;
    const advertised = this.#opts.plan.advertise.get(family)!;
    return new Promise((resolve) => {
      const s = createRelayDatagramSocket(family);
      const fail = () => {
        s.close();
        resolve(undefined);
      };
      s.once('error', fail);
      s.bind(port, bindAddress, () => {
        s.off('error', fail);
        // Closed while binding: nobody will close this socket.
        if (this.#closed) {
          s.close();
          resolve(undefined);
          return;
        }
        s.on('error', this.#opts.onError);
        const bound = s.address().port;
        this.#ports.take(family, bound);
        const relay = new UdpRelaySocket(s, { family, address: advertised, port: bound }, this.#release);
        this.#open.add(relay);
        resolve(relay);
      });
    });
  }

  readonly #release = (relay: UdpRelaySocket): void => {
    this.#open.delete(relay);
    this.#ports.release(relay.address.family, relay.address.port);
  };
}
