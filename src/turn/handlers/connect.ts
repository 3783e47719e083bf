// Connect requests, RFC 6062 §5.2: the client asks for a TCP connection from its relayed address to a peer.
import { Attr } from '../../stun/constants.ts';
import { XorPeerAddress } from '../../stun/attributes/address.ts';
import { ConnectionId } from '../../stun/attributes/numeric.ts';
import { reply, type Request } from '../request.ts';
import { peerKey } from '../tcp-allocation.ts';
import type { TurnServer } from '../turn-server.ts';
import { checkTcpPeer } from './peer-address.ts';

export async function handleConnect(server: TurnServer, req: Request): Promise<void> {
  // Only a TCP or TLS control connection can hold a TCP allocation (§5.1 step 2).
  if (req.link.transport !== 'tcp' && req.link.transport !== 'tls') return reply(req, 400);
  const cred = server.authenticate(req);
  if (cred === undefined) return;
  const allocation = req.allocation;
  // "If the request is received on a TCP connection for which no allocation exists, the server MUST return a
  // 437 (Allocation Mismatch) error."
  if (allocation === undefined || allocation.state !== 'active') return reply(req, 437, { key: cred.key });
  const tcp = allocation.tcp;
  if (tcp === undefined) return reply(req, 400, { key: cred.key, reason: 'Not A TCP Allocation' });
  // "If the request does not contain an XOR-PEER-ADDRESS attribute, or if such attribute is invalid, the
  // server MUST return a 400 (Bad Request) error."
  const peer = req.msg.get(XorPeerAddress);
  if (peer === undefined || !req.msg.has(Attr.XOR_PEER_ADDRESS)) return reply(req, 400, { key: cred.key });
  // "If the server is currently processing a Connect request for this allocation with the same
  // XOR-PEER-ADDRESS, it MUST return a 446 (Connection Already Exists) error." Likewise when the resulting
  // connections are "either pending or active".
  if (tcp.connections.has(peerKey(peer.address, peer.port))) return reply(req, 446, { key: cred.key });
  // "If the new connection is forbidden by local policy, the server MUST reject the request with a 403
  // (Forbidden) error." (443 for the other address family, as in RFC 8656 §9.2.)
  const check = checkTcpPeer(allocation, tcp.relay, peer, true);
  if (!check.ok) {
    server.log.debug('connect refused', { listener: req.listener.name, peer: peer.address, code: check.code });
    return reply(req, check.code, { key: cred.key });
  }
  const cap = server.limits.maxPermissionsPerAllocation;
  if (cap > 0 && tcp.connections.size >= cap) return reply(req, 508, { key: cred.key });
  // "Otherwise, the server MUST initiate an outgoing TCP connection. ... If the connection attempt fails or
  // times out, the server MUST return a 447 (Connection Timeout or Failure) error."
  const c = tcp.begin(allocation, peer.address, peer.port, check.admission);
  const connection = await tcp.relay.connect(peer.address, peer.port);
  if (c.state === 'closed') {
    // The allocation ended while connecting.
    connection?.close();
    return;
  }
  if (connection === undefined) {
    c.close();
    return reply(req, 447, { key: cred.key });
  }
  // "The server MUST include the CONNECTION-ID attribute in the Connect success response."
  const id = tcp.open(c, connection, server.clock());
  reply(req, 200, { key: cred.key, build: (w) => w.add(ConnectionId, id) });
}
