// A client reached over the listener's UDP socket, or over a socket of its own connected to it (see
// udp-listener.ts, "client sockets"). Counts listener tx in the one place packets leave.
import type { Socket } from 'node:dgram';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { ClientLink } from '../turn/client-link.ts';
import { encodeChannelData } from '../stun/channel-data.ts';
import { SEND_DROP } from '../stats/listener-stats.ts';
import { sendQueueFull } from './udp-send-queue.ts';

export class UdpClientLink implements ClientLink {
  readonly transport = 'udp' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: Socket;
  readonly #stats: ListenerStats;
  /** The client's own socket, connected to it: sends name no address. */
  #connected: Socket | undefined;

  constructor(socket: Socket, remoteAddress: string, remotePort: number, stats: ListenerStats) {
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.#stats = stats;
  }

  /** From now on (until `undefined`) datagrams to the client leave through its connected socket. */
  useConnected(socket: Socket | undefined): void {
    this.#connected = socket;
  }

  send(message: Uint8Array): void {
    const connected = this.#connected;
    if (sendQueueFull(connected ?? this.#socket)) {
      this.#stats.sendDrops[SEND_DROP.client]++;
      return;
    }
    // Counted before it leaves: a client that has the datagram and then scrapes finds it counted.
    this.#stats.txPackets++;
    this.#stats.txBytes += message.length;
    if (connected !== undefined) connected.send(message);
    else this.#socket.send(message, this.remotePort, this.remoteAddress);
  }

  /** RFC 8656 §12.5: over UDP no padding is needed. */
  sendChannelData(channel: number, payload: Uint8Array): void {
    this.send(encodeChannelData(channel, payload, false));
  }
}
