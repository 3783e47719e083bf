// How a TURN client reaches its server: a connected UDP socket, or a TCP/TLS stream cut into frames.
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { StreamFramer } from '../stun/stream-framer.ts';

export type ClientTransportKind = 'udp' | 'tcp' | 'tls';

export interface ClientTransport {
  readonly kind: ClientTransportKind;
  readonly reliable: boolean;
  /** Every STUN message or ChannelData frame from the server (over a stream, without its padding). */
  onFrame: (frame: Buffer) => void;
  onClose: (err?: Error) => void;
  /** Sends one message as it is: a ChannelData message for a stream comes padded (encodeChannelData). */
  send(frame: Uint8Array): void;
  readonly localAddress: { address: string; port: number };
  /** Stops / restarts reading (tests of a client that does not keep up). */
  pause(): void;
  resume(): void;
  close(): void;
}

export interface TransportOptions {
  readonly kind: ClientTransportKind;
  readonly host: string;
  readonly port: number;
  /** UDP: local address to bind (default: any). */
  readonly localAddress?: string;
  /** TLS options (ca, servername, rejectUnauthorized...). */
  readonly tls?: ConnectionOptions;
}

export async function openTransport(opts: TransportOptions): Promise<ClientTransport> {
  if (opts.kind === 'udp') return UdpTransport.open(opts);
  return StreamTransport.open(opts);
}

class UdpTransport implements ClientTransport {
  readonly kind = 'udp' as const;
  readonly reliable = false;
  onFrame: (frame: Buffer) => void = () => {};
  onClose: (err?: Error) => void = () => {};
  readonly #socket: DgramSocket;

  private constructor(socket: DgramSocket) {
    this.#socket = socket;
    socket.on('message', (m) => this.onFrame(m));
    socket.on('error', (err) => this.onClose(err));
  }

  static open(opts: TransportOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: isIP(opts.host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 1 << 20 });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.localAddress, () => {
        socket.connect(opts.port, opts.host, () => {
          socket.off('error', reject);
          resolve(new UdpTransport(socket));
        });
      });
    });
  }

  get localAddress() {
    return this.#socket.address();
  }

  send(frame: Uint8Array): void {
    this.#socket.send(frame);
  }

  pause(): void {}

  resume(): void {}

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // closed already
    }
  }
}

class StreamTransport implements ClientTransport {
  readonly kind: 'tcp' | 'tls';
  readonly reliable = true;
  onFrame: (frame: Buffer) => void = () => {};
  onClose: (err?: Error) => void = () => {};
  readonly #socket: Socket;

  private constructor(kind: 'tcp' | 'tls', socket: Socket) {
    this.kind = kind;
    this.#socket = socket;
    const framer = new StreamFramer((frame) => this.onFrame(frame));
    socket.on('data', (chunk: Buffer) => {
      if (framer.push(chunk) !== undefined) socket.destroy(new Error(`server sent unframed data: ${framer.error}`));
    });
    socket.on('error', (err) => this.onClose(err));
    socket.on('close', () => this.onClose());
  }

  static open(opts: TransportOptions): Promise<StreamTransport> {
    return new Promise((resolve, reject) => {
      const kind = opts.kind === 'tls' ? 'tls' : 'tcp';
      const socket = kind === 'tls'
        ? tlsConnect({ host: opts.host, port: opts.port, ...opts.tls }, () => done())
        : tcpConnect({ host: opts.host, port: opts.port }, () => done());
      const done = () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new StreamTransport(kind, socket));
      };
      socket.once('error', reject);
    });
  }

  get localAddress() {
    return { address: this.#socket.localAddress ?? '', port: this.#socket.localPort ?? 0 };
  }

  send(frame: Uint8Array): void {
    this.#socket.write(frame);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  close(): void {
    this.#socket.destroy();
  }
}
