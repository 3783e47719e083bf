// A peer opens a TCP connection to the relayed address of a TCP allocation, RFC 6062 §5.3.
import { MessageClass, Method } from '../../stun/constants.ts';
import { XorPeerAddress } from '../../stun/attributes/address.ts';
import { ConnectionId } from '../../stun/attributes/numeric.ts';
import { StunWriter } from '../../stun/writer.ts';
import { admits } from '../../cluster/peer-admission.ts';
import { DROP } from '../../stats/listener-stats.ts';
import type { Allocation } from '../allocation.ts';
import type { TcpPeerConnection } from '../tcp-relay.ts';
import type { TurnServer } from '../turn-server.ts';

export function acceptPeerConnection(server: TurnServer, allocation: Allocation, connection: TcpPeerConnection): void {
  const tcp = allocation.tcp;
  const stats = allocation.listener.stats;
  if (tcp === undefined || allocation.state !== 'active') {
    connection.close();
    return;
  }
  const { remoteAddress: address, remotePort: port } = connection;
  // "If no permission for this peer has been installed for this allocation, the server MUST close the
  // connection with the peer immediately after it has been accepted."
  const permission = allocation.permissions.get(address);
  if (permission === undefined || !permission.live) {
    stats.drops[DROP.no_permission]++;
    connection.close();
    return;
  }
  // The gateway's policy: the peer's port must be in its endpoint's range, as for UDP datagrams.
  const admission = permission.admission;
  if (!admits(admission, port)) {
    stats.drops[DROP.forbidden_peer]++;
    connection.close();
    return;
  }
  const cap = server.limits.maxPermissionsPerAllocation;
  if (cap > 0 && tcp.connections.size >= cap) {
    stats.drops[DROP.quota]++;
    connection.close();
    return;
  }
  const c = tcp.begin(allocation, address, port, admission);
  const id = tcp.open(c, connection, server.clock());
  // "Otherwise, the server sends a ConnectionAttempt indication to the client over the control connection.
  // The indication MUST include an XOR-PEER-ADDRESS attribute containing the peer's transport address, as
  // well as a CONNECTION-ID attribute uniquely identifying the peer data connection."
  allocation.client.send(new StunWriter(Method.connectionAttempt, MessageClass.indication)
    .add(ConnectionId, id)
    .add(XorPeerAddress, { family: address.includes(':') ? 6 : 4, address, port })
    .finish());
}
