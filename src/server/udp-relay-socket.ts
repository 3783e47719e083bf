// One relay socket of a UDP allocation: the relayed transport address, datagrams from peers up to the
// allocation, datagrams from the client out to peers. The allocator (udp-relay.ts) binds and releases it.
//
// Peer links. The relay socket is never connect()ed: a permission admits every port of the peer's IP (RFC 8656
// §9), and a connected socket would hear one port only, while datagrams from peers without a permission would be
// dropped by the kernel instead of counted (test/turn/relay-peers.test.ts). But Linux tells an unconnected UDP
// socket nothing of the ICMP errors its datagrams cause (Node.js sets no IP_RECVERR), so a media server that is
// gone (port unreachable) or a firewall that rejects (prohibited) would go unseen. So each channel gets a socket of
// its own (up to MAX_PEER_LINKS per allocation, allocation.ts): bound to the relay's address and port with
// SO_REUSEPORT, then connected to the channel's peer. The kernel delivers the peer's datagrams to it (a connected
// socket matches the 4-tuple exactly and wins over the group), reports each ICMP error for it as a read error
// (ECONNREFUSED, EHOSTUNREACH, ...: ICMP_ERRORS below says which ICMP type and code each stands for, passed on to
// the client by the allocation), and a send on it needs no address. Datagrams it receives, whatever their
// source (between bind and connect it is an ordinary member of the group), go to the allocation like the relay
// socket's own.
//
// SO_REUSEPORT lets another socket of the same user join the relay's port. The relay is bound with it only after
// an exclusive bind of the same port succeeded and was closed again (#bind in udp-relay.ts), so a port anybody
// holds is never joined. But a socket of the same user with the option may join it later, and the kernel picks
// such a port for an ephemeral bind of one (port 0): so by default only relay ports outside the kernel's ephemeral
// range get links (peerLinksFor in udp-relay.ts); STUNNERD_PEER_LINKS=1 gives every port links, for a gateway that
// shares its network namespace with no other process of its user (a pod of its own).
//
// What is reported is a lower bound: Node.js drops the error of a send without a callback, and a send on the link
// that comes in the same turn of the event loop as the ICMP error takes the error itself (on loopback, where the
// error is back before the send returns, a burst of sends in one turn reports none). At media rates (one
// datagram per channel every 20 ms) every error is read: the fault test counts 2,000 of 2,000.
import { createSocket, type Socket } from 'node:dgram';
import type { TransportAddress } from '../stun/address.ts';
import type { IcmpInfo } from '../stun/attributes/numeric.ts';
import type { PeerLink, PeerUnreachableHandler, RelaySocket } from '../turn/relay.ts';
import type { PeerUnreachableKind } from '../stats/listener-stats.ts';
import type { TrafficCounters } from '../stats/traffic-counters.ts';
import { ipLiteralLookup } from './ip-literal-lookup.ts';
import { sendQueueFull } from './udp-send-queue.ts';

/** An unbound datagram socket for relaying to peers of `family`. */
export function createRelayDatagramSocket(family: 4 | 6, reusePort = false): Socket {
  return createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6, reusePort, lookup: ipLiteralLookup });
}

/** An ICMP error as a connected UDP socket hears it: the kind counted, and the ICMP type and code passed on to the
 *  client (RFC 8656 §11.5), none for types the RFC does not pass on. */
interface IcmpError {
  readonly kind: PeerUnreachableKind;
  readonly icmp: IcmpInfo | undefined;
}

const icmpError = (kind: PeerUnreachableKind, type?: number, code = 0): IcmpError =>
  Object.freeze({ kind, icmp: type === undefined ? undefined : Object.freeze({ type, code, data: 0 }) });

/**
 * The read errors by which Linux reports an ICMP error on a connected UDP socket, by the relay's family. Without
 * IP_RECVERR (Node.js sets none) only the errors the kernel deems fatal are reported, and as an errno, which stands
 * for one or several ICMP codes (icmp_err_convert, icmpv6_err_convert); where it stands for several, the type and
 * code passed on are those of its usual cause. ICMPv4: port (3/3) and protocol (3/2) unreachable exactly; host or
 * communication administratively prohibited (3/10, 3/13, 3/14, 3/15) as 3/13, a firewall's reject; network
 * unknown or prohibited (3/6, 3/9) as 3/9; host unknown 3/7; host isolated 3/8; a parameter problem (type 12) is
 * not passed on. ICMPv6: port unreachable 1/4; administratively prohibited, or by policy or a reject route (1/1,
 * 1/5, 1/6) as 1/1; address unreachable or beyond scope (1/3, 1/2) as 1/3; no route 1/0; a parameter problem
 * (type 4) is not passed on.
 */
const ICMP_ERRORS: Readonly<Record<4 | 6, Readonly<Record<string, IcmpError>>>> = {
  4: {
    ECONNREFUSED: icmpError('port_unreachable', 3, 3),
    EHOSTUNREACH: icmpError('prohibited', 3, 13),
    ENETUNREACH: icmpError('prohibited', 3, 9),
    ENOPROTOOPT: icmpError('other', 3, 2),
    EHOSTDOWN: icmpError('other', 3, 7),
    ENONET: icmpError('other', 3, 8),
    EPROTO: icmpError('other'),
  },
  6: {
    ECONNREFUSED: icmpError('port_unreachable', 1, 4),
    EACCES: icmpError('prohibited', 1, 1),
    EHOSTUNREACH: icmpError('other', 1, 3),
    ENETUNREACH: icmpError('other', 1, 0),
    EPROTO: icmpError('other'),
  },
};

export class UdpRelaySocket implements RelaySocket {
  readonly address: TransportAddress;
  readonly socket: Socket;
  onPeerDatagram: (data: Buffer, address: string, port: number) => void = () => {};
  readonly #release: (relay: UdpRelaySocket) => void;
  readonly #onError: (err: Error) => void;
  readonly #links = new Set<UdpPeerLink>();
  readonly #peerLinks: boolean;
  #closed = false;

  /** `socket` is bound, with SO_REUSEPORT when `peerLinks` (peerLinksFor in udp-relay.ts) are to join it. */
  constructor(socket: Socket, address: TransportAddress, release: (relay: UdpRelaySocket) => void,
    onError: (err: Error) => void = () => {}, peerLinks = false) {
    this.socket = socket;
    this.#peerLinks = peerLinks;
    this.address = address;
    this.#release = release;
    this.#onError = onError;
    socket.on('message', (msg, rinfo) => this.onPeerDatagram(msg, rinfo.address, rinfo.port));
  }

  send(data: Uint8Array, port: number, address: string, counted: TrafficCounters): boolean {
    // Closed with its allocation: neither sent nor a drop.
    if (this.#closed) return true;
    if (sendQueueFull(this.socket)) return false;
    counted.txPackets++;
    counted.txBytes += data.length;
    this.socket.send(data, port, address);
    return true;
  }

  openPeerLink(address: string, port: number, onUnreachable: PeerUnreachableHandler): PeerLink | undefined {
    if (this.#closed || !this.#peerLinks) return undefined;
    const link = new UdpPeerLink(this, address, port, onUnreachable, this.#onError, this.#links);
    this.#links.add(link);
    return link;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onPeerDatagram = () => {};
    for (const link of [...this.#links]) link.close(true);
    this.#release(this);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** A channel's own socket: see the top of this file. Until it is connected, sends go out on the relay socket. */
class UdpPeerLink implements PeerLink {
  onPeerDatagram: (data: Buffer) => void;
  readonly #relay: UdpRelaySocket;
  readonly #address: string;
  readonly #port: number;
  readonly #links: Set<UdpPeerLink>;
  readonly #socket: Socket;
  #connected = false;
  #closed = false;

  constructor(relay: UdpRelaySocket, address: string, port: number, onUnreachable: PeerUnreachableHandler,
    onError: (err: Error) => void, links: Set<UdpPeerLink>) {
    this.#relay = relay;
    this.#address = address;
    this.#port = port;
    this.#links = links;
    this.onPeerDatagram = (data) => relay.onPeerDatagram(data, address, port);
    const family = relay.address.family;
    const icmpErrors = ICMP_ERRORS[family];
    const s = createRelayDatagramSocket(family, true);
    this.#socket = s;
    // Once connected, only the peer's datagrams arrive; those queued before may be from anyone.
    s.on('message', (msg, rinfo) => {
      if (this.#connected && rinfo.port === port && rinfo.address === address) this.onPeerDatagram(msg);
      else relay.onPeerDatagram(msg, rinfo.address, rinfo.port);
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.#connected) {
        // Could not bind or connect (out of descriptors, the relay closed meanwhile): the channel goes on over the
        // relay socket, without ICMP reports.
        this.close(true);
        return;
      }
      const icmp = err.code === undefined ? undefined : icmpErrors[err.code];
      if (icmp !== undefined) onUnreachable(icmp.kind, icmp.icmp);
      else onError(err);
    });
    const local = relay.socket.address();
    s.bind(local.port, local.address, () => {
      if (this.#closed) return;
      s.connect(port, address, () => {
        if (!this.#closed) this.#connected = true;
      });
    });
  }

  send(data: Uint8Array, counted: TrafficCounters): boolean {
    if (!this.#connected) return this.#relay.send(data, this.#port, this.#address, counted);
    if (sendQueueFull(this.#socket)) return false;
    counted.txPackets++;
    counted.txBytes += data.length;
    this.#socket.send(data);
    return true;
  }

  /**
   * The channel is gone. Datagrams may still sit in the socket's queue: it closes after the event loop's next poll
   * phase has read them (two setImmediate, as client-socket.ts explains), unless `now` (its relay is closing).
   */
  close(now = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    this.#links.delete(this);
    const s = this.#socket;
    const shut = (): void => {
      try {
        s.close();
      } catch {
        // closed already
      }
    };
    if (now) shut();
    else setImmediate(() => setImmediate(shut));
  }
}
