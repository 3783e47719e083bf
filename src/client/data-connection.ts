// RFC 6062 §4.4: a client data connection. A new TCP or TLS connection to the server carries one
// ConnectionBind request; after its success response the connection carries the peer's bytes as they are.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { HEADER_LENGTH, MessageClass, Method } from '../stun/constants.ts';
import { ConnectionId } from '../stun/attributes/numeric.ts';
import { ErrorCode } from '../stun/attributes/errors.ts';
import { decodeStun } from '../stun/message.ts';
import { StunWriter } from '../stun/writer.ts';
import { TurnClientError, type TurnClient } from './turn-client.ts';

/** Opens a data connection to the server of `client` and binds it to `connectionId`. The socket returned is
 *  paused; bytes that followed the response are unshifted back into it. */
export async function bindDataConnection(client: TurnClient, connectionId: number, timeoutMs = 10_000): Promise<Socket> {
  const o = client.options;
  const socket: Socket = o.kind === 'tls'
    ? tlsConnect({ host: o.host, port: o.port, ...o.tls })
    : tcpConnect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  try {
    await once(socket, o.kind === 'tls' ? 'secureConnect' : 'connect');
    const w = new StunWriter(Method.connectionBind, MessageClass.request);
    w.add(ConnectionId, connectionId);
    client.sign(w);
    w.addFingerprint();
    socket.write(w.finish());
    const head = await readMessage(socket, timeoutMs);
    const r = decodeStun(head.message);
    if (!r.ok) throw new TurnClientError('ConnectionBind: malformed response', 0);
    if (r.message.cls !== MessageClass.successResponse) {
      const err = r.message.get(ErrorCode);
      throw new TurnClientError(`ConnectionBind: ${err?.code ?? 0} ${err?.reason ?? 'error'}`, err?.code ?? 0, r.message);
    }
    if (head.rest.length > 0) socket.unshift(head.rest);
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Reads one STUN message off a paused stream; what follows it is returned separately. */
function readMessage(socket: Socket, timeoutMs: number): Promise<{ message: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (err !== undefined) reject(err);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < HEADER_LENGTH) return;
      const total = HEADER_LENGTH + buf.readUInt16BE(2);
      if (buf.length < total) return;
      done();
      resolve({ message: buf.subarray(0, total), rest: buf.subarray(total) });
    };
    const onClose = () => done(new TurnClientError('ConnectionBind: connection closed', 0));
    const timer = setTimeout(() => done(new TurnClientError('ConnectionBind: timed out', 0)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
