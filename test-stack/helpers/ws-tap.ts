// A TCP relay on loopback that records the WebSocket traffic through it: the HTTP upgrade request and every
// frame in both directions (RFC 6455 §5.2, client frames unmasked), with the time it passed. Put between a CDS
// client and server, it shows what each side really sends (docs/cds-protocol.md). Each accepted connection
// gets its own connection to the target; when the target refuses, the client's connection is closed at once.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export type Direction = 'client' | 'server';

export interface WsFrame {
  /** Which side sent it. */
  readonly from: Direction;
  /** The index of the relayed TCP connection, from 0. */
  readonly connection: number;
  readonly fin: boolean;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
  /** Date.now() when its last byte arrived. */
  readonly at: number;
}

/** A data message put together from its frames (a text or binary frame and its continuations). */
export interface WsMessage {
  readonly from: Direction;
  readonly connection: number;
  readonly opcode: number;
  readonly data: Buffer;
  /** How many frames carried it. */
  readonly frames: number;
  readonly at: number;
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface WsTap {
  /** `127.0.0.1:port` to give the client instead of the target. */
  readonly address: string;
  /** The HTTP head (request line and headers) of each connection's first request, by connection index. */
  readonly requests: string[];
  /** The HTTP head of each answer. */
  readonly responses: string[];
  readonly frames: WsFrame[];
  /** Data messages, reassembled. */
  messages(): WsMessage[];
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

/** Relays 127.0.0.1:<free port> to `target` (`host:port`), recording what passes. */
export async function startWsTap(target: string): Promise<WsTap> {
  const [host, port] = splitHostPort(target);
  const requests: string[] = [];
  const responses: string[] = [];
  const frames: WsFrame[] = [];
  const open = new Set<Socket>();
  let accepted = 0;

  const server = createServer((client) => {
    const connection = accepted++;
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    const fromClient = new Recorder('client', connection, requests, frames);
    const fromServer = new Recorder('server', connection, responses, frames);
    client.on('data', (d: Buffer) => {
      fromClient.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      fromServer.push(d);
      client.write(d);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: tapPort } = server.address() as { port: number };

  return {
    address: `127.0.0.1:${tapPort}`,
    requests,
    responses,
    frames,
    messages: () => reassemble(frames),
    connections: () => accepted,
    async stop() {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))];
}

/** One direction of one connection: the HTTP head first, then frames. */
class Recorder {
  private readonly from: Direction;
  private readonly connection: number;
  private readonly heads: string[];
  private readonly frames: WsFrame[];
  private buf = Buffer.alloc(0);
  private inHead = true;

  constructor(from: Direction, connection: number, heads: string[], frames: WsFrame[]) {
    this.from = from;
    this.connection = connection;
    this.heads = heads;
    this.frames = frames;
  }

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.inHead) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.heads[this.connection] = this.buf.subarray(0, end).toString('latin1');
      this.buf = this.buf.subarray(end + 4);
      this.inHead = false;
    }
    for (;;) {
      const frame = this.parseFrame();
      if (frame === undefined) return;
      this.frames.push(frame);
    }
  }

  // RFC 6455 §5.2: FIN, opcode; MASK, 7-bit length (126: 16-bit, 127: 64-bit follows); masking key; payload.
  private parseFrame(): WsFrame | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const fin = (b[0]! & 0x80) !== 0;
    const opcode = b[0]! & 0x0f;
    const masked = (b[1]! & 0x80) !== 0;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    const keyAt = offset;
    if (masked) offset += 4;
    if (b.length < offset + length) return undefined;
    const payload = Buffer.from(b.subarray(offset, offset + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= b[keyAt + (i % 4)]!;
    this.buf = b.subarray(offset + length);
    return { from: this.from, connection: this.connection, fin, opcode, masked, payload, at: Date.now() };
  }
}

function reassemble(frames: readonly WsFrame[]): WsMessage[] {
  const out: WsMessage[] = [];
  const pending = new Map<string, { opcode: number; parts: Buffer[] }>();
  for (const f of frames) {
    if (f.opcode >= 8) continue; // control frames may come between fragments (RFC 6455 §5.4)
    const key = `${f.connection}/${f.from}`;
    const p = f.opcode === OPCODE.continuation ? pending.get(key) : { opcode: f.opcode, parts: [] };
    if (p === undefined) continue;
    p.parts.push(f.payload);
    if (f.fin) {
      pending.delete(key);
      out.push({ from: f.from, connection: f.connection, opcode: p.opcode, data: Buffer.concat(p.parts),
        frames: p.parts.length, at: f.at });
    } else {
      pending.set(key, p);
    }
  }
  return out;
}
