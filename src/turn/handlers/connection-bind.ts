// ConnectionBind requests, RFC 6062 §5.4: a new client connection becomes the client data connection of a
// peer data connection, and from then on carries raw bytes.
import { ConnectionId } from '../../stun/attributes/numeric.ts';
import { Username } from '../../stun/attributes/text.ts';
import { reply, type Request } from '../request.ts';
import type { TurnServer } from '../turn-server.ts';

export function handleConnectionBind(server: TurnServer, req: Request): void {
  const { link, msg } = req;
  // "If the client connection transport is not TCP or TLS, the server MUST return a 400 (Bad Request) error."
  if (link.transport !== 'tcp' && link.transport !== 'tls') return reply(req, 400);
  const cred = server.authenticate(req);
  if (cred === undefined) return;
  // A control connection (one with an allocation) cannot turn into a data connection.
  if (req.allocation !== undefined) return reply(req, 400, { key: cred.key });
  // "If the request does not contain the CONNECTION-ID attribute, or if this attribute does not refer to an
  // existing pending connection, the server MUST return a 400 (Bad Request) error."
  const id = msg.get(ConnectionId);
  const c = id === undefined ? undefined : server.tcpConnections.get(id);
  if (c === undefined || c.state !== 'pending' || c.connection === undefined
    || c.allocation.listener !== req.listener) {
    return reply(req, 400, { key: cred.key });
  }
  // The data connection belongs to the allocation's user (RFC 8656 §7.3 / §9.2 applied to it).
  if (msg.get(Username) !== c.allocation.username) return reply(req, 441, { key: cred.key });
  // "Otherwise, the client connection is now called a client data connection. Data received on it MUST be
  // sent as-is to the associated peer data connection. Data received on the associated peer data connection
  // MUST be sent as-is on this client data connection." The success response goes first, framed.
  reply(req, 200, { key: cred.key });
  c.bind(link);
}
