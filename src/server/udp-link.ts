// A client reached over the listener's UDP socket. Counts listener tx in the one place packets leave.
import type { Socket } from 'node:dgram';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { ClientLink } from '../turn/client-link.ts';
import { encodeChannelData } from '../stun/channel-data.ts';

export class UdpClientLink implements ClientLink {
  readonly transport = 'udp' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: Socket;
  readonly #stats: ListenerStats;

  constructor(socket: Socket, remoteAddress: string, remotePort: number, stats: ListenerStats) {
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.#stats = stats;
  }

  send(message: Uint8Array): void {
    this.#socket.send(message, this.remotePort, this.remoteAddress);
    this.#stats.txPackets++;
    this.#stats.txBytes += message.length;
  }

  /** RFC 8656 §12.5: over UDP no padding is needed. */
  sendChannelData(channel: number, payload: Uint8Array): void {
    const frame = encodeChannelData(channel, payload, false);
    this.#socket.send(frame, this.remotePort, this.remoteAddress);
    this.#stats.txPackets++;
    this.#stats.txBytes += frame.length;
  }
}
