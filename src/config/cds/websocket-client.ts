// A minimal RFC 6455 client over node:http(s): the opening handshake, then frames both ways. Enough for the CDS
// watch (text messages in, pings out, pongs in); no extensions, no subprotocols.
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closePayload, encodeClientFrame, OPCODE, ServerFrameDecoder } from './websocket-frame.ts';

/** RFC 6455 §1.3: the GUID the server appends to Sec-WebSocket-Key before hashing it into Sec-WebSocket-Accept. */
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class WebSocketHandshakeError extends Error {
  readonly code = 'ERR_WEBSOCKET_HANDSHAKE';
  /** The HTTP status when the server answered without upgrading. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export interface WebSocketEvents {
  text(data: string): void;
  /** A pong (payload as sent by the server). */
  pong(): void;
  /** The server sent a binary message: not part of the CDS protocol. */
  binary(connection: WebSocketConnection): void;
  /** The connection is gone; `error` when it failed rather than closed. Called once. */
  closed(code: number | undefined, reason: string, error?: Error): void;
}

export interface ConnectOptions {
  /** Extra request headers, e.g. Origin. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Gives up on the TCP connect and handshake after this long; ms. */
  readonly timeoutMs?: number;
  readonly maxMessageBytes?: number;
}

export class WebSocketConnection {
  readonly #socket: Duplex;
  readonly #events: WebSocketEvents;
  readonly #decoder: ServerFrameDecoder;
  #closed = false;
  #closeSent = false;

  constructor(socket: Duplex, head: Buffer, events: WebSocketEvents, maxMessageBytes?: number) {
    this.#socket = socket;
    this.#events = events;
    this.#decoder = new ServerFrameDecoder(maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (err) => this.#finish(undefined, '', err));
    socket.on('close', () => this.#finish(1006, 'connection closed without a close frame'));
    if (head.length > 0) queueMicrotask(() => this.#receive(head));
  }

  get open(): boolean {
    return !this.#closed;
  }

  sendText(data: string): void {
    this.#write(OPCODE.text, Buffer.from(data, 'utf8'));
  }

  ping(payload: string): void {
    this.#write(OPCODE.ping, Buffer.from(payload, 'utf8'));
  }

  /** RFC 6455 §7.1.2: sends a close frame, then closes the TCP connection. */
  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#write(OPCODE.close, closePayload(code, reason));
    }
    this.#socket.end();
    this.#finish(code, reason ?? '');
  }

  /** Drops the connection without a close frame (a dead peer). */
  terminate(reason: string): void {
    this.#socket.destroy();
    this.#finish(1006, reason);
  }

  #write(opcode: (typeof OPCODE)[keyof typeof OPCODE], payload: Uint8Array): void {
    if (this.#closed || this.#socket.destroyed) return;
    this.#socket.write(encodeClientFrame(opcode, payload));
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    let messages;
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      // §7.1.7: fail the connection; 1002 = protocol error.
      this.#write(OPCODE.close, closePayload(1002));
      this.#socket.destroy();
      this.#finish(1002, (err as Error).message, err as Error);
      return;
    }
    for (const m of messages) {
      if (this.#closed) return;
      switch (m.type) {
        case 'text': this.#events.text(m.data); break;
        case 'binary': this.#events.binary(this); break;
        // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response" (same payload).
        case 'ping': this.#write(OPCODE.pong, m.data); break;
        case 'pong': this.#events.pong(); break;
        case 'close':
          // §5.5.1: answer a close with a close, echoing the status code, then drop the TCP connection.
          if (!this.#closeSent) {
            this.#closeSent = true;
            this.#write(OPCODE.close, closePayload(m.code));
          }
          this.#socket.end();
          this.#finish(m.code, m.reason);
          return;
      }
    }
  }

  #finish(code: number | undefined, reason: string, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.#events.closed(code, reason, error);
  }
}

/** Opens a WebSocket to `url` (ws: or wss:). Rejects with WebSocketHandshakeError when the server will not upgrade. */
export function connectWebSocket(url: URL, events: WebSocketEvents, opts: ConnectOptions = {}): Promise<WebSocketConnection> {
  const key = randomBytes(16).toString('base64');
  const tls = url.protocol === 'wss:';
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request({
      protocol: tls ? 'https:' : 'http:',
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: {
        ...opts.headers,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': key,
        'sec-websocket-version': '13',
      },
      timeout: opts.timeoutMs,
    });
    req.on('timeout', () => req.destroy(new WebSocketHandshakeError(`${url.host}: no handshake within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      reject(new WebSocketHandshakeError(`${url.host} answered HTTP ${res.statusCode} instead of upgrading`, res.statusCode));
    });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      // §4.1: the client MUST fail the connection unless Sec-WebSocket-Accept is base64(SHA-1(key + GUID)).
      const expected = createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) {
        socket.destroy();
        reject(new WebSocketHandshakeError(`${url.host}: bad Sec-WebSocket-Accept`));
        return;
      }
      // The handshake timeout was the socket's; the watch keeps its own liveness deadline.
      (socket as Socket).setTimeout(0);
      (socket as Socket).setNoDelay(true);
      resolve(new WebSocketConnection(socket, head, events, opts.maxMessageBytes));
    });
    req.end();
  });
}
