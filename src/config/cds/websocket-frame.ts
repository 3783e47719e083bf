// RFC 6455 framing for a WebSocket client, pure: frames in, frames out. Node's global WebSocket cannot send
// pings, and upstream's CDS keepalive is client pings answered by server pongs (docs/cds-protocol.md), so the
// CDS client speaks the protocol itself; it needs no extensions, subprotocols or compression.
import { randomFillSync } from 'node:crypto';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
export type Opcode = (typeof OPCODE)[keyof typeof OPCODE];

/** A CDS config with TLS certificates is a few tens of KiB; anything near this is not a config. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export class WebSocketProtocolError extends Error {
  readonly code = 'ERR_WEBSOCKET_PROTOCOL';
}

/**
 * One client frame. RFC 6455 §5.3: "A client MUST mask all frames that it sends to the server", with a fresh
 * unpredictable 32-bit key per frame.
 */
export function encodeClientFrame(opcode: Opcode, payload: Uint8Array = new Uint8Array(0),
  maskKey: Uint8Array = randomFillSync(new Uint8Array(4))): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + n);
  frame[0] = 0x80 | opcode; // FIN: every frame we send is a whole message
  if (lengthBytes === 0) {
    frame[1] = 0x80 | n;
  } else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  const at = 2 + lengthBytes;
  frame.set(maskKey, at);
  for (let i = 0; i < n; i++) frame[at + 4 + i] = payload[i] ^ maskKey[i & 3];
  return frame;
}

/** A close frame's payload: RFC 6455 §5.5.1, a 2-byte status code then UTF-8 reason; empty when no code. */
export function closePayload(code?: number, reason = ''): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const text = Buffer.from(reason, 'utf8');
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

/** What the server sent, message by message (fragments reassembled). */
export type ServerMessage =
  | { readonly type: 'text'; readonly data: string }
  | { readonly type: 'binary'; readonly data: Buffer }
  | { readonly type: 'ping' | 'pong'; readonly data: Buffer }
  | { readonly type: 'close'; readonly code: number | undefined; readonly reason: string };

/**
 * Splits the server's byte stream into messages. Throws WebSocketProtocolError on anything RFC 6455 forbids
 * a server to send; the connection is then to be failed.
 */
export class ServerFrameDecoder {
  readonly #maxMessageBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentBytes = 0;
  #fragmentOpcode: Opcode | undefined;

  constructor(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  push(chunk: Buffer): ServerMessage[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: ServerMessage[] = [];
    for (;;) {
      const frame = this.#nextFrame();
      if (frame === undefined) return out;
      const message = this.#assemble(frame);
      if (message !== undefined) out.push(message);
    }
  }

  #nextFrame(): { fin: boolean; opcode: number; payload: Buffer } | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const fin = (b[0] & 0x80) !== 0;
    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"; we negotiate none.
    if ((b[0] & 0x70) !== 0) throw new WebSocketProtocolError('reserved bits set without an extension');
    const opcode = b[0] & 0x0f;
    // §5.1: "A server MUST NOT mask any frames that it sends to the client."
    if ((b[1] & 0x80) !== 0) throw new WebSocketProtocolError('masked frame from the server');
    let length = b[1] & 0x7f;
    let at = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(this.#maxMessageBytes)) throw new WebSocketProtocolError(`frame of ${big} bytes is too large`);
      length = Number(big);
      at = 10;
    }
    if (length > this.#maxMessageBytes) throw new WebSocketProtocolError(`frame of ${length} bytes is too large`);
    if (b.length < at + length) return undefined;
    const payload = b.subarray(at, at + length);
    this.#buffer = b.subarray(at + length);
    return { fin, opcode, payload };
  }

  #assemble({ fin, opcode, payload }: { fin: boolean; opcode: number; payload: Buffer }): ServerMessage | undefined {
    if (opcode >= 0x8) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!fin || payload.length > 125) throw new WebSocketProtocolError('fragmented or oversized control frame');
      if (opcode === OPCODE.ping) return { type: 'ping', data: Buffer.from(payload) };
      if (opcode === OPCODE.pong) return { type: 'pong', data: Buffer.from(payload) };
      if (opcode === OPCODE.close) return decodeClose(payload);
      throw new WebSocketProtocolError(`reserved control opcode ${opcode}`);
    }
    if (opcode === OPCODE.continuation) {
      if (this.#fragmentOpcode === undefined) throw new WebSocketProtocolError('continuation without a message');
    } else if (opcode === OPCODE.text || opcode === OPCODE.binary) {
      if (this.#fragmentOpcode !== undefined) throw new WebSocketProtocolError('new message inside a fragmented one');
      this.#fragmentOpcode = opcode;
    } else {
      throw new WebSocketProtocolError(`reserved data opcode ${opcode}`);
    }
    this.#fragmentBytes += payload.length;
    if (this.#fragmentBytes > this.#maxMessageBytes) {
      throw new WebSocketProtocolError(`message of more than ${this.#maxMessageBytes} bytes`);
    }
    this.#fragments.push(Buffer.from(payload));
    if (!fin) return undefined;
    const data = Buffer.concat(this.#fragments);
    const type = this.#fragmentOpcode === OPCODE.text ? 'text' : 'binary';
    this.#fragments = [];
    this.#fragmentBytes = 0;
    this.#fragmentOpcode = undefined;
    if (type === 'binary') return { type, data };
    // §8.1: text frames carry UTF-8; invalid data fails the connection.
    try {
      return { type, data: new TextDecoder('utf-8', { fatal: true }).decode(data) };
    } catch {
      throw new WebSocketProtocolError('text message is not valid UTF-8');
    }
  }
}

function decodeClose(payload: Buffer): ServerMessage {
  if (payload.length === 0) return { type: 'close', code: undefined, reason: '' };
  if (payload.length === 1) throw new WebSocketProtocolError('close frame with a 1-byte payload');
  return { type: 'close', code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}
