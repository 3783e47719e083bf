// A config discovery server in Node for the CDS client's tests: upstream's pkg/config/server as
// docs/cds-protocol.md describes it (GET /api/v1/configs/<ns>/<name>, the same path as a WebSocket with
// watch=true, the current config sent on subscribe and on every change, a zero-config on delete, pongs
// "keepalive", gorilla's origin check), with knobs to misbehave: no pongs, drops, restarts, raw messages.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WatchRequest {
  readonly id: string;
  readonly url: URL;
  readonly origin: string | undefined;
}

interface Client {
  readonly id: string;
  readonly socket: Socket;
  buffer: Buffer;
}

/** A server frame: never masked (RFC 6455 §5.1). */
export function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, n])
    : n < 0x10000 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 126, n >> 8, n & 0xff])
      : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 127]), (() => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt(n));
        return b;
      })()]);
  return Buffer.concat([head, payload]);
}

export class FakeCdsServer {
  readonly configs = new Map<string, unknown>();
  /** Every GET (one-shot) and watch, in order. */
  readonly gets: URL[] = [];
  readonly watches: WatchRequest[] = [];
  /** Ping payloads received, in order. */
  readonly pings: string[] = [];
  /** Answer pings (upstream does, with payload "keepalive"). */
  answerPings = true;
  /** Send the 101, the config and a close frame in one write, then hang up (a server that goes at once). */
  closeOnSubscribe = false;
  #server: Server | undefined;
  #port = 0;
  readonly #clients = new Set<Client>();
  /** Every upgraded socket still open: the HTTP server's close() waits for them. */
  readonly #sockets = new Set<Socket>();

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Watch connections open now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Listens on `port` (0: a free one; a restart passes the old one). */
  async start(port = this.#port): Promise<void> {
    const server = createServer((req, res) => this.#get(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => this.#upgrade(req, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  /** Stops as upstream's Close(): an empty close frame to each watcher, then the TCP connection closed. */
  async stop(): Promise<void> {
    for (const c of this.#clients) this.#closeClient(c);
    // The close frames go out; whatever the client does not close itself is cut shortly after.
    const cut = setTimeout(() => { for (const socket of this.#sockets) socket.destroy(); }, 200);
    const s = this.#server;
    this.#server = undefined;
    if (s !== undefined) await new Promise<void>((r) => s.close(() => r()));
    clearTimeout(cut);
  }

  /** Drops every watch connection without a close frame (a crashed server). */
  drop(): void {
    for (const c of this.#clients) c.socket.destroy();
    this.#clients.clear();
  }

  upsert(id: string, config: unknown): void {
    this.configs.set(id, config);
    this.sendRaw(id, JSON.stringify(config));
  }

  /** Upstream's DeleteConfig: forgets the config and sends the zero-config for the id. */
  remove(id: string): void {
    this.configs.delete(id);
    this.sendRaw(id, JSON.stringify({ version: 'v1', admin: { name: id }, auth: { type: 'static', realm: 'stunner.l7mp.io',
      credentials: { password: 'dummy-password', username: 'dummy-username' } } }));
  }

  /** A text message as it is, to every watcher of `id`. */
  sendRaw(id: string, text: string): void {
    for (const c of this.#clients) if (c.id === id) c.socket.write(serverFrame(0x1, Buffer.from(text)));
  }

  sendFrame(id: string, frame: Buffer): void {
    for (const c of this.#clients) if (c.id === id) c.socket.write(frame);
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`fake CDS: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #id(url: URL): string | undefined {
    const m = /^\/api\/v1\/configs\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    return m === null ? undefined : `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
  }

  #get(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.gets.push(url);
    const id = this.#id(url);
    const config = id === undefined ? undefined : this.configs.get(id);
    if (config === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 404, message: `Config not found for ID ${id}` }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(config));
  }

  #upgrade(req: IncomingMessage, socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    const url = new URL(req.url ?? '/', 'http://x');
    const id = this.#id(url);
    const origin = req.headers.origin;
    // gorilla/websocket's default CheckOrigin: no Origin, or one naming the Host.
    const originOk = origin === undefined || new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
    if (id === undefined || url.searchParams.get('watch') !== 'true' || !originOk) {
      socket.end(`HTTP/1.1 ${originOk ? 400 : 403} Bad Request\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    this.watches.push({ id, url, origin });
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${ACCEPT_GUID}`).digest('base64');
    const head = Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
    if (this.closeOnSubscribe) {
      const config = this.configs.get(id);
      socket.end(Buffer.concat([head, ...(config === undefined ? [] : [serverFrame(0x1, Buffer.from(JSON.stringify(config)))]),
        serverFrame(0x8, Buffer.alloc(0))]));
      return;
    }
    socket.write(head);
    const client: Client = { id, socket, buffer: Buffer.alloc(0) };
    this.#clients.add(client);
    socket.on('data', (d: Buffer) => this.#read(client, d));
    socket.on('close', () => this.#clients.delete(client));
    socket.on('error', () => this.#clients.delete(client));
    const config = this.configs.get(id);
    if (config !== undefined) socket.write(serverFrame(0x1, Buffer.from(JSON.stringify(config))));
  }

  /** Client frames are masked; upstream's server only looks at pings and closes. */
  #read(c: Client, d: Buffer): void {
    c.buffer = Buffer.concat([c.buffer, d]);
    for (;;) {
      const b = c.buffer;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if ((b[1] & 0x80) === 0) throw new Error('fake CDS: unmasked client frame');
      if (b.length < at + 4 + len) return;
      const mask = b.subarray(at, at + 4);
      const payload = Buffer.from(b.subarray(at + 4, at + 4 + len).map((x, i) => x ^ mask[i & 3]));
      c.buffer = b.subarray(at + 4 + len);
      const opcode = b[0] & 0x0f;
      if (opcode === 0x9) {
        this.pings.push(payload.toString());
        if (this.answerPings) c.socket.write(serverFrame(0xa, Buffer.from('keepalive')));
      } else if (opcode === 0x8) {
        this.#closeClient(c);
        return;
      }
    }
  }

  #closeClient(c: Client): void {
    if (!c.socket.destroyed) {
      c.socket.write(serverFrame(0x8, Buffer.alloc(0)));
      c.socket.end();
    }
    this.#clients.delete(c);
  }
}
