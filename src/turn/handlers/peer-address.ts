// Shared checks of XOR-PEER-ADDRESS in CreatePermission and ChannelBind (RFC 8656 §10.2, §12.2), and for TCP
// allocations in CreatePermission and Connect (RFC 6062 §5.2).
import type { TransportAddress } from '../../stun/address.ts';
import { admits, type Admission } from '../../cluster/peer-admission.ts';
import type { Allocation } from '../allocation.ts';
import type { RelaySocket } from '../relay.ts';
import type { TcpRelay } from '../tcp-relay.ts';

export type PeerCheck =
  | { readonly ok: true; readonly admission: Admission; readonly relay: RelaySocket }
  | { readonly ok: false; readonly code: 403 | 443 };

/**
 * §10.2: "If the XOR-PEER-ADDRESS attribute contains an address of an address family that is not the same
 * as that of a relayed transport address for the allocation, the server MUST generate ... 443". Then the
 * gateway's own policy: peers outside the listener's clusters get 403 (Forbidden).
 */
export function checkPeer(allocation: Allocation, peer: TransportAddress, checkPort: boolean): PeerCheck {
  const relay = allocation.relayFor(peer.family);
  if (relay === undefined) return { ok: false, code: 443 };
  const r = allocation.listener.admission.admit(peer.address);
  if (typeof r === 'string') return { ok: false, code: 403 };
  // A channel names one peer port, which must be inside the endpoint's port range; a permission covers
  // the whole IP and the range is enforced per datagram.
  if (checkPort && !admits(r, peer.port)) return { ok: false, code: 403 };
  return { ok: true, admission: r, relay };
}

export type TcpPeerCheck =
  | { readonly ok: true; readonly admission: Admission }
  | { readonly ok: false; readonly code: 403 | 443 };

/**
 * The same checks for a TCP allocation (RFC 6062), whose one relayed address is a TCP one: the peer must be
 * of its family (443) and in a TCP cluster the listener routes to, its port in the endpoint's range (403).
 */
export function checkTcpPeer(allocation: Allocation, relay: TcpRelay, peer: TransportAddress,
  checkPort: boolean): TcpPeerCheck {
  if (peer.family !== relay.address.family) return { ok: false, code: 443 };
  const r = allocation.listener.admission.admit(peer.address, 'TCP');
  if (typeof r === 'string') return { ok: false, code: 403 };
  if (checkPort && !admits(r, peer.port)) return { ok: false, code: 403 };
  return { ok: true, admission: r };
}
