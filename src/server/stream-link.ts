// A client of a TURN-TCP or TURN-TLS listener: one connection, which is the client's 5-tuple. It cuts the byte
// stream into STUN messages and ChannelData frames, sends frames back (ChannelData padded, RFC 8656 §12.5),
// counts listener packets per frame, and bounds what it queues towards a slow reader.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { encodeChannelData } from '../stun/channel-data.ts';
import { FrameKind, StreamFramer } from '../stun/stream-framer.ts';
import { DROP, SEND_DROP, type ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';
import type { ClientLink } from '../turn/client-link.ts';
import type { ListenerContext } from '../turn/listener-context.ts';
import type { TurnServer } from '../turn/turn-server.ts';
import type { StreamLimits } from './stream-limits.ts';

/** What a link needs from its listener. */
export interface StreamLinkHost extends ListenerContext {
  /** A coarse clock (ms), advanced by the listener's sweep timer: no clock read per frame. */
  readonly now: number;
  readonly limits: StreamLimits;
}

export class StreamClientLink implements ClientLink {
  readonly transport: 'tcp' | 'tls';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly socket: Socket;
  readonly stats: ListenerStats;
  /** The allocation of this connection: set and cleared through the listener's attach/detach. */
  allocation: Allocation | undefined = undefined;
  /** The host's clock at the last complete frame, for the idle timeout. */
  lastFrameAt: number;
  readonly #host: StreamLinkHost;
  readonly #server: TurnServer;
  #framer: StreamFramer | undefined;
  /** Set once this is an RFC 6062 client data connection: every chunk read goes there, unframed. */
  #raw: ((chunk: Buffer) => void) | undefined = undefined;
  /** Bytes of the chunk being framed that the frames delivered so far have used. */
  #consumed = 0;
  #rawFrom = 0;

  constructor(socket: Socket, transport: 'tcp' | 'tls', host: StreamLinkHost, server: TurnServer) {
    this.socket = socket;
    this.transport = transport;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.stats = host.stats;
    this.#host = host;
    this.#server = server;
    this.lastFrameAt = host.now;
    this.#framer = new StreamFramer(this.#onFrame);
    if (transport === 'tls') oneRecordPerFrame(socket as TLSSocket);
  }

  get isDataConnection(): boolean {
    return this.#raw !== undefined;
  }

  /** Every chunk read from the socket. */
  readonly receive = (chunk: Buffer): void => {
    const raw = this.#raw;
    if (raw !== undefined) {
      raw(chunk);
      return;
    }
    const framer = this.#framer!;
    // The first frame completed by this chunk may have started in an earlier one.
    this.#consumed = -framer.buffered;
    const error = framer.push(chunk);
    if (this.#raw !== undefined) {
      // ConnectionBind succeeded inside this chunk: what follows it is already raw data.
      this.#framer = undefined;
      if (this.#rawFrom < chunk.length) this.#raw(chunk.subarray(this.#rawFrom));
      return;
    }
    if (error !== undefined) {
      this.stats.drops[DROP.malformed]++;
      this.socket.destroy();
    }
  };

  readonly #onFrame = (frame: Buffer, kind: FrameKind, wireLength: number): void => {
    if (this.#raw !== undefined) return;
    this.#consumed += wireLength;
    const stats = this.stats;
    stats.rxPackets++;
    stats.rxBytes += wireLength;
    this.lastFrameAt = this.#host.now;
    const allocation = this.allocation;
    if (kind === FrameKind.channelData) {
      // RFC 8656 §12.6: ChannelData on a connection without an allocation is discarded.
      if (allocation === undefined || allocation.state !== 'active') stats.drops[DROP.no_allocation]++;
      else allocation.relayChannelData(frame);
      return;
    }
    this.#server.handleStun(this.#host, this, frame, allocation);
  };

  /** RFC 6062 §5.4: from now on this is a client data connection; `sink` gets every byte read, as is. */
  startRaw(sink: (chunk: Buffer) => void): void {
    this.#raw = sink;
    this.#rawFrom = this.#consumed;
  }

  send(message: Uint8Array): void {
    const socket = this.socket;
    if (!socket.writable) return;
    const queued = socket.writableLength;
    if (queued > this.#host.limits.relayQueueBytes) {
      if (queued > this.#host.limits.maxQueueBytes) {
        socket.destroy();
        return;
      }
      // A Data indication (type 0x0017) is relayed media: dropped rather than queued without bound.
      if (message[0] === 0x00 && message[1] === 0x17) {
        this.stats.sendDrops[SEND_DROP.client]++;
        return;
      }
    }
    this.stats.txPackets++;
    this.stats.txBytes += message.length;
    socket.write(message);
  }

  /** RFC 8656 §12.5: over TCP and TLS "the ChannelData message MUST be padded to a multiple of four bytes". */
  sendChannelData(channel: number, payload: Uint8Array): void {
    const socket = this.socket;
    if (!socket.writable) return;
    if (socket.writableLength > this.#host.limits.relayQueueBytes) {
      this.stats.sendDrops[SEND_DROP.client]++;
      return;
    }
    const frame = encodeChannelData(channel, payload, true);
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    socket.write(frame);
  }
}

/**
 * Over TLS every STUN message and ChannelData frame goes out in a TLS record of its own. Node would otherwise
 * hand the frames queued behind a busy socket to one SSL_write (its writev path), in one record; a client that
 * takes each record for one message, as coturn's turnutils_uclient does, then loses all but the first — RFC 6062
 * ConnectionAttempts among them, and with them the data connections they announce. Without `_writev`,
 * Writable writes each queued chunk on its own.
 */
function oneRecordPerFrame(socket: TLSSocket): void {
  (socket as unknown as { _writev: unknown })._writev = null;
}
