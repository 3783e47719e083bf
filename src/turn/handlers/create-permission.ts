// CreatePermission requests, RFC 8656 §10.2.
import { Attr } from '../../stun/constants.ts';
import { XorPeerAddress } from '../../stun/attributes/address.ts';
import type { PermissionGrant } from '../allocation.ts';
import { reply, type Request } from '../request.ts';
import type { TurnServer } from '../turn-server.ts';
import { checkPeer, checkTcpPeer } from './peer-address.ts';

export function handleCreatePermission(server: TurnServer, req: Request): void {
  const cred = server.authenticate(req);
  if (cred === undefined) return;
  const allocation = req.allocation;
  if (allocation === undefined || allocation.state !== 'active') return reply(req, 437, { key: cred.key });
  // §10.2: "the CreatePermission request MUST contain at least one XOR-PEER-ADDRESS attribute".
  const peers = req.msg.getAll(XorPeerAddress);
  if (peers === undefined || peers.length === 0 || !req.msg.has(Attr.XOR_PEER_ADDRESS)) {
    return reply(req, 400, { key: cred.key });
  }
  // "The server MAY impose restrictions on the IP address allowed in the XOR-PEER-ADDRESS attribute; if a
  // value is not allowed, the server rejects the request with a 403 (Forbidden) error." All or nothing:
  // the permissions are installed only when every peer passes.
  const grants: PermissionGrant[] = [];
  const tcp = allocation.tcp;
  for (const peer of peers) {
    // RFC 6062 §5.3: on a TCP allocation the permission admits incoming peer connections, from TCP clusters.
    const c = tcp === undefined ? checkPeer(allocation, peer, false) : checkTcpPeer(allocation, tcp.relay, peer, false);
    if (!c.ok) {
      server.log.debug('permission refused', { listener: req.listener.name, peer: peer.address, code: c.code });
      return reply(req, c.code, { key: cred.key });
    }
    grants.push({ peer: peer.address, admission: c.admission });
  }
  // "If the message is valid and the server is capable of carrying out the request, then the server installs
  // or refreshes a permission for the IP address contained in each XOR-PEER-ADDRESS attribute"; beyond
  // max_permissions_per_allocation it is not capable: 508 (Insufficient Capacity).
  if (allocation.grantPermissions(grants, req.now, server.limits) === 'capacity') {
    return reply(req, 508, { key: cred.key });
  }
  reply(req, 200, { key: cred.key });
}
