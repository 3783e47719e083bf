// A TCP proxy on loopback that forwards to a server and records every byte each way: what a client really put
// on the wire, cut into frames by the test (not by the code under test).
import { connect, createServer, type Socket } from 'node:net';

export interface TcpTap {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Client -> server and server -> client bytes, each in order, over all connections. */
  toServer(): Buffer;
  toClient(): Buffer;
  close(): Promise<void>;
}

export async function startTcpTap(target: { host: string; port: number }): Promise<TcpTap> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      up.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      down.push(d);
      client.write(d);
    });
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted;
    },
    toServer: () => Buffer.concat(up),
    toClient: () => Buffer.concat(down),
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

export interface WireFrame {
  readonly kind: 'stun' | 'channelData';
  /** The bytes the frame took on the stream, ChannelData padding included. */
  readonly wire: Buffer;
  /** ChannelData: the application data (the length field's worth); STUN: the attributes. */
  readonly payload: Buffer;
}

/**
 * Cuts a TURN-TCP byte stream into frames by the RFC's rules alone: a STUN message is 20 + length bytes
 * (RFC 8489 §6), a ChannelData message 4 + length bytes followed by padding to a multiple of four (RFC 8656
 * §12.5). Throws on anything else, a stream that ends inside a frame included.
 */
export function cutFrames(stream: Buffer): WireFrame[] {
  const out: WireFrame[] = [];
  let off = 0;
  while (off < stream.length) {
    if (stream.length - off < 4) throw new Error(`the stream ends inside a frame header at byte ${off}`);
    const bits = stream[off] & 0xc0;
    const length = stream.readUInt16BE(off + 2);
    let end: number;
    let kind: WireFrame['kind'];
    let payloadAt: number;
    if (bits === 0x00) {
      kind = 'stun';
      payloadAt = off + 20;
      end = payloadAt + length;
    } else if (bits === 0x40) {
      kind = 'channelData';
      payloadAt = off + 4;
      end = payloadAt + length + ((4 - (length % 4)) % 4);
    } else {
      throw new Error(`byte ${off}: first bits 0b${(bits >> 6).toString(2).padStart(2, '0')}, neither STUN nor ChannelData`);
    }
    if (end > stream.length) throw new Error(`the stream ends inside a ${kind} frame at byte ${off}`);
    out.push({ kind, wire: stream.subarray(off, end), payload: stream.subarray(payloadAt, payloadAt + length) });
    off = end;
  }
  return out;
}
