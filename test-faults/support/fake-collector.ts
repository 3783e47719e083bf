// An OTLP/HTTP endpoint that misbehaves on demand: 'answer' (200 at once), 'slow' (200 after `delayMs`), or
// 'blackhole' (accepts the TCP connection and never reads or answers). It counts the requests it received in
// full and the connections it holds open, and keeps the last request body.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';

export type CollectorMode = 'answer' | 'slow' | 'blackhole';

export class FakeCollector {
  mode: CollectorMode = 'answer';
  delayMs = 3000;
  /** Requests read in full, and those answered. */
  received = 0;
  answered = 0;
  lastBody = Buffer.alloc(0);
  readonly #tcp: Server;
  readonly #http = createHttpServer((req, res) => this.#request(req, res));
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor() {
    this.#tcp = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      if (this.mode === 'blackhole') socket.pause();
      else this.#http.emit('connection', socket);
    });
  }

  static async start(): Promise<FakeCollector> {
    const c = new FakeCollector();
    await new Promise<void>((r) => c.#tcp.listen(0, '127.0.0.1', r));
    return c;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#tcp.address() as { port: number }).port}`;
  }

  /** TCP connections open now (a black hole keeps every one it accepted). */
  get connections(): number {
    return this.#sockets.size;
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    // A connection kept alive from before goes dark too.
    if (this.mode === 'blackhole') {
      req.socket.pause();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received++;
      this.lastBody = Buffer.concat(chunks);
      const answer = () => {
        this.answered++;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      };
      if (this.mode !== 'slow') return answer();
      const t = setTimeout(() => {
        this.#timers.delete(t);
        answer();
      }, this.delayMs);
      this.#timers.add(t);
    });
  }

  /** Drops every connection it holds (a black hole's too). */
  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#tcp.close(r));
  }
}
