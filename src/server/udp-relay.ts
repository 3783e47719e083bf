// Relay sockets for UDP allocations: one dgram socket per relayed transport address, bound inside the
// listener's relay port range when it has one (RFC 8656 §7.2 steps 6-7 for EVEN-PORT and reservations).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:dgram';
import type { RelayAllocator, RelayRequest, RelayResult, RelaySocket } from '../turn/relay.ts';
import { RESERVATION_LIFETIME_S } from '../turn/timers.ts';
import { RelayPortPool, type PortPick } from './port-pool.ts';
import type { RelayReservations } from '../shared/relay-reservations.ts';
import { createRelayDatagramSocket, UdpRelaySocket } from './udp-relay-socket.ts';
import type { RelayAddressPlan } from './relay-address.ts';

/**
 * Peer links (udp-relay-socket.ts) need the relay socket bound with SO_REUSEPORT, and the kernel then lets any
 * socket of the same user with that option join the relay port, the ephemeral ports it hands out included:
 * coturn's turnutils_uclient, which sets the option, was given a relay port of stunnerd's in a CI run on one host,
 * and lost a ChannelBind answer to it. So by default ("auto") a relay port gets them only where no ephemeral bind
 * can land: outside the kernel's ip_local_port_range, or among its ip_local_reserved_ports (read once, at start).
 * STUNNERD_PEER_LINKS=1 gives every relay port links (a gateway alone in its network namespace, as in a pod of its
 * own); STUNNERD_PEER_LINKS=0 none.
 */
export type PeerLinksMode = 'auto' | 'on' | 'off';

export function peerLinksMode(value = process.env.STUNNERD_PEER_LINKS): PeerLinksMode {
  return value === '1' ? 'on' : value === '0' ? 'off' : 'auto';
}

const PEER_LINKS = peerLinksMode();

/** Whether the kernel may hand `port` to an ephemeral bind; every port where that cannot be read (not Linux). */
export const ephemeralPort: (port: number) => boolean = (() => {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const reserved = readFileSync('/proc/sys/net/ipv4/ip_local_reserved_ports', 'utf8').trim().split(',')
      .filter((r) => r !== '').map((r) => r.split('-').map(Number)).map(([a, b]) => [a, b ?? a]);
    if (!(low > 0 && high >= low)) return () => true;
    return (port: number) => port === 0 || (port >= low && port <= high && !reserved.some(([a, b]) => port >= a && port <= b));
  } catch {
    return () => true;
  }
})();

/** Whether the relay bound to `port` gets peer links. */
export function peerLinksFor(port: number, mode: PeerLinksMode = PEER_LINKS): boolean {
  return mode === 'on' || (mode === 'auto' && !ephemeralPort(port));
}

/** How many ports are tried before answering 508. */
const MAX_BIND_ATTEMPTS = 64;
/** Bind errors that no other port would avoid: the process or the system is out of descriptors or memory. */
const OUT_OF_RESOURCES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

export interface UdpRelayOptions {
  readonly plan: RelayAddressPlan;
  /** 0..0 (or 0..65535) = any ephemeral port. */
  readonly minPort: number;
  readonly maxPort: number;
  /** Socket errors (ICMP unreachable surfacing as send errors, out of descriptors, etc.): logged by the caller,
   *  at a limited rate per error code. */
  readonly onError: (err: Error) => void;
  /** The listener's pool shared by every worker thread (src/shared/dataplane-state.ts); default: its own. */
  readonly ports?: RelayPortPool;
  /** With worker threads: the listener's shared reservation table; then no reserved port is held as a socket. */
  readonly reservations?: RelayReservations;
}

// RFC 8656 §18.6, EVEN-PORT: "R: If 1, the server is requested to reserve the next-higher port number (on the
// same IP address) for a subsequent allocation." Single-threaded, a reservation is that port bound and held,
// so nobody at all can take it before the RESERVATION-TOKEN comes back. With worker threads the token may come
// back to another worker, which could not bind a port this one holds, so a reservation is an entry of a shared
// table and the port's bit in the shared pool, with no socket: our own relays never take it, but another
// process could bind the port before the claim, and that Allocate then gets 508. The port is checked bindable
// when it is reserved, which leaves only that window.
export class UdpRelayAllocator implements RelayAllocator {
  readonly families: ReadonlySet<4 | 6>;
  readonly #opts: UdpRelayOptions;
  readonly #ports: RelayPortPool;
  /** Every relay socket bound and not closed yet, reserved ones included: close() closes what is left. */
  readonly #open = new Set<UdpRelaySocket>();
  /** Single-threaded reservations: the next port's socket, by token (hex). */
  readonly #held = new Map<string, { socket: UdpRelaySocket; timer: NodeJS.Timeout }>();
  /** Worker threads: the shared table, and the expiry timers of the reservations this worker made. */
  readonly #shared: RelayReservations | undefined;
  readonly #expiring = new Map<string, { token: Buffer; timer: NodeJS.Timeout }>();
  #closed = false;

  constructor(opts: UdpRelayOptions) {
    this.#opts = opts;
    this.#ports = opts.ports ?? new RelayPortPool(opts.minPort, opts.maxPort);
    // A shared pool takes this listener's range too: every worker stores the same one.
    opts.ports?.setRange(opts.minPort, opts.maxPort);
    this.#shared = opts.reservations;
    this.families = new Set(opts.plan.bind.keys());
  }

  async allocate(req: RelayRequest): Promise<RelayResult> {
    if (!this.families.has(req.family)) return { ok: false, code: 440 };
    const kind = req.reserveNext ? 'pair' : req.evenPort ? 'even' : 'any';
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS && !this.#closed; attempt++) {
      const port = this.#claim(req.family, kind);
      if (port === undefined) return { ok: false, code: 508 };
      const socket = await this.#bind(req.family, port);
      if (!(socket instanceof UdpRelaySocket)) {
        if (port !== 0) {
          this.#ports.release(req.family, port);
          if (kind === 'pair') this.#ports.release(req.family, port + 1);
        }
        // Out of descriptors (logged by #bind): every port would fail alike, so 508 at once.
        if (socket !== undefined && OUT_OF_RESOURCES.has(socket.code ?? '')) return { ok: false, code: 508 };
        continue;
      }
      // Without a range the kernel picked the port: it may be odd.
      if (req.evenPort && socket.address.port % 2 !== 0) {
        socket.close();
        continue;
      }
      if (!req.reserveNext) return { ok: true, socket };
      const token = randomBytes(8);
      if (await this.#reserve(req.family, socket.address.port + 1, port !== 0, token)) {
        return { ok: true, socket, reservationToken: token };
      }
      socket.close();
    }
    return { ok: false, code: 508 };
  }

  setPortRange(minPort: number, maxPort: number): void {
    this.#ports.setRange(minPort, maxPort);
  }

  async claim(token: Uint8Array): Promise<RelaySocket | undefined> {
    const key = Buffer.from(token).toString('hex');
    if (this.#shared === undefined) {
      const r = this.#held.get(key);
      if (r === undefined) return undefined;
      this.#held.delete(key);
      clearTimeout(r.timer);
      return r.socket;
    }
    const own = this.#expiring.get(key);
    if (own !== undefined) {
      clearTimeout(own.timer);
      this.#expiring.delete(key);
    }
    const r = this.#shared.take(token);
    // The port is its maker's until here: this worker's from now on, unless the maker died and it was freed.
    if (r === undefined || !this.#ports.adopt(r.family, r.port, r.holder)) return undefined;
    if (r.expiresAt <= Date.now() || !this.families.has(r.family)) {
      this.#ports.release(r.family, r.port);
      return undefined;
    }
    const socket = await this.#bind(r.family, r.port);
    if (socket instanceof UdpRelaySocket) return socket;
    this.#ports.release(r.family, r.port);
    return undefined;
  }

  /** Listener shutdown: closes the reserved ports (and their timers) and every relay still open; allocate
   *  answers 508 from now on. */
  close(): void {
    this.#closed = true;
    for (const r of this.#held.values()) clearTimeout(r.timer);
    this.#held.clear();
    for (const [key, { timer }] of this.#expiring) {
      clearTimeout(timer);
      this.#expire(key);
    }
    for (const socket of [...this.#open]) socket.close();
  }

  /** A claimed port (0: none, the kernel picks). A full range first frees the shared reservations that expired
   *  without their maker's timer freeing them (a worker that died, or one whose timer is late). */
  #claim(family: 4 | 6, kind: PortPick): number | undefined {
    const port = this.#ports.claim(family, kind);
    if (port !== undefined || this.#shared === undefined) return port;
    this.#shared.sweep(Date.now(), (r) => this.#ports.release(r.family, r.port, r.holder));
    return this.#ports.claim(family, kind);
  }

  /** Reserves `port` (claimed already when the range gave a pair) for `token`; false if it cannot be had. */
  async #reserve(family: 4 | 6, port: number, claimed: boolean, token: Buffer): Promise<boolean> {
    const key = token.toString('hex');
    if (this.#shared === undefined) {
      const next = await this.#bind(family, port);
      if (!(next instanceof UdpRelaySocket)) {
        if (claimed) this.#ports.release(family, port);
        return false;
      }
      const timer = setTimeout(() => {
        this.#held.delete(key);
        next.close();
      }, RESERVATION_LIFETIME_S * 1000);
      timer.unref();
      this.#held.set(key, { socket: next, timer });
      return true;
    }
    // Without a range the bit is taken now; already set, one of our relays (in some worker) has the port.
    if (!claimed && !this.#ports.take(family, port)) return false;
    const expiresAt = Date.now() + RESERVATION_LIFETIME_S * 1000;
    if (!(await this.#bindable(family, port)) || this.#closed || !this.#shared.add(token, { family, port, expiresAt })) {
      this.#ports.release(family, port);
      return false;
    }
    const timer = setTimeout(() => this.#expire(key), RESERVATION_LIFETIME_S * 1000);
    timer.unref();
    this.#expiring.set(key, { token, timer });
    return true;
  }

  /** Ends a shared reservation this worker made, unless another worker claimed (or swept) it first. */
  #expire(key: string): void {
    const own = this.#expiring.get(key);
    if (own === undefined) return;
    this.#expiring.delete(key);
    const r = this.#shared?.take(own.token);
    if (r !== undefined) this.#ports.release(r.family, r.port, r.holder);
  }

  /** True if nobody holds `port` now (bound and closed again at once). */
  #bindable(family: 4 | 6, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = createRelayDatagramSocket(family);
      s.once('error', () => {
        s.close();
        resolve(false);
      });
      s.bind(port, this.#opts.plan.bind.get(family)!, () => {
        s.close();
        resolve(true);
      });
    });
  }

  /**
   * The bound relay; the bind error; or undefined when the socket is not for us (closed meanwhile, reserved).
   * Bound exclusively; where it gets peer links (peerLinksFor), that socket is closed and the port bound again with
   * SO_REUSEPORT for the channels' links to join (udp-relay-socket.ts): a port another socket holds is never joined.
   */
  async #bind(family: 4 | 6, port: number): Promise<UdpRelaySocket | NodeJS.ErrnoException | undefined> {
    const bindAddress = this.#opts.plan.bind.get(family)!;
    let s = await this.#bindSocket(createRelayDatagramSocket(family), port, bindAddress);
    if (s instanceof Error) return s;
    const chosen = s.address().port;
    const links = peerLinksFor(chosen);
    if (links) {
      s.close();
      s = await this.#bindSocket(createRelayDatagramSocket(family, true), chosen, bindAddress);
      if (s instanceof Error) return s;
    }
    // Closed while binding: nobody will close this socket.
    if (this.#closed) {
      s.close();
      return undefined;
    }
    // A port the kernel chose may be one another worker reserved (no socket holds it): not for us.
    if (!this.#ports.take(family, chosen) && port === 0) {
      s.close();
      return undefined;
    }
    s.on('error', this.#opts.onError);
    const advertised = this.#opts.plan.advertise.get(family)!;
    const relay = new UdpRelaySocket(s, { family, address: advertised, port: chosen }, this.#release, this.#opts.onError,
      links);
    this.#open.add(relay);
    return relay;
  }

  /** `s` bound to `port`, or the bind error (the socket closed). Every relay bind comes here (allocate, claim,
   *  reserve), and each failure is answered 508: the cause is logged once, here. */
  #bindSocket(s: Socket, port: number, address: string): Promise<Socket | NodeJS.ErrnoException> {
    return new Promise((resolve) => {
      const fail = (err: NodeJS.ErrnoException) => {
        s.close();
        if (OUT_OF_RESOURCES.has(err.code ?? '')) {
          this.#opts.onError(new Error(`cannot open a relay socket (${err.code}): Allocate answered 508`, { cause: err }));
        }
        resolve(err);
      };
      s.once('error', fail);
      s.bind(port, address, () => {
        s.off('error', fail);
        resolve(s);
      });
    });
  }

  readonly #release = (relay: UdpRelaySocket): void => {
    this.#open.delete(relay);
    this.#ports.release(relay.address.family, relay.address.port);
  };
}
