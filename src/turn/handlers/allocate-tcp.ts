// Allocate requests for a TCP relayed address, RFC 6062 §5.1 (after the checks of RFC 8656 §7.2 steps 1-2).
import { Attr, FAMILY_IPV4, FAMILY_IPV6 } from '../../stun/constants.ts';
import { XorMappedAddress, XorRelayedAddress } from '../../stun/attributes/address.ts';
import { Lifetime, RequestedAddressFamily } from '../../stun/attributes/numeric.ts';
import { Username } from '../../stun/attributes/text.ts';
import { DROP } from '../../stats/listener-stats.ts';
import type { Credential } from '../../auth/authenticator.ts';
import { Allocation } from '../allocation.ts';
import { mappedAddress } from '../mapped-address.ts';
import { reply, replyKept, type Request } from '../request.ts';
import { TcpAllocation } from '../tcp-allocation.ts';
import { grantLifetime } from '../timers.ts';
import { transactionKey, type TurnServer } from '../turn-server.ts';
import { acceptPeerConnection } from './peer-connection.ts';

export async function handleTcpAllocate(server: TurnServer, req: Request, cred: Credential): Promise<void> {
  const { msg, link, listener } = req;
  // Only TCP and TLS listeners routing to a TCP cluster implement RFC 6062; elsewhere TCP is an unsupported
  // transport, as for any RFC 8656 server (§7.2 step 3: "442 (Unsupported Transport Protocol)").
  const tcpRelays = listener.tcpRelays;
  if (tcpRelays === undefined || !listener.admission.allowsTcp) return reply(req, 442, { key: cred.key });
  // §5.1 step 2: "If the client connection transport is not TCP or TLS, the server MUST reject the request
  // with a 400 (Bad Request) error."
  if (link.transport !== 'tcp' && link.transport !== 'tls') return reply(req, 400, { key: cred.key });
  // Step 3: "If the request contains the DONT-FRAGMENT, EVEN-PORT, or RESERVATION-TOKEN attribute, the
  // server MUST reject the request with a 400 (Bad Request) error." Dual allocations are UDP-only.
  if (msg.has(Attr.DONT_FRAGMENT) || msg.has(Attr.EVEN_PORT) || msg.has(Attr.RESERVATION_TOKEN)
    || msg.has(Attr.ADDITIONAL_ADDRESS_FAMILY)) {
    return reply(req, 400, { key: cred.key });
  }
  let family: 4 | 6 = 4;
  if (msg.has(Attr.REQUESTED_ADDRESS_FAMILY)) {
    const f = msg.get(RequestedAddressFamily);
    if (f !== FAMILY_IPV4 && f !== FAMILY_IPV6) return reply(req, 440, { key: cred.key });
    family = f === FAMILY_IPV4 ? 4 : 6;
  }
  if (!tcpRelays.families.has(family)) return reply(req, 440, { key: cred.key });
  if (!server.quota.acquire(cred.userId)) {
    listener.stats.drops[DROP.quota]++;
    return reply(req, 486, { key: cred.key });
  }
  const lifetime = grantLifetime(msg.get(Lifetime));
  const allocation = new Allocation(listener, link, msg.get(Username) ?? '', cred.userId, cred.key,
    transactionKey(msg), req.now, lifetime);
  server.addAllocation(allocation);

  // Step 4: "A TCP relayed transport address MUST be allocated instead of a UDP one."
  const r = await tcpRelays.allocate(family);
  if (allocation.state === 'closed') {
    if (r.ok) r.relay.close();
    return;
  }
  if (!r.ok) {
    server.deleteAllocation(allocation, 'no relay');
    server.warnings.warn(server.log, `tcp-relay:${listener.name}:${r.code}`, 'cannot allocate a TCP relay address',
      { listener: listener.name, code: r.code });
    return reply(req, r.code, { key: cred.key });
  }
  // "If all checks pass, the server MUST start accepting incoming TCP connections on the relayed transport
  // address."
  r.relay.onPeerConnection = (connection) => acceptPeerConnection(server, allocation, connection);
  server.activate(allocation, [], new TcpAllocation(r.relay, server.tcpConnections));
  server.log.debug('TCP allocation created', {
    listener: listener.name, client: `${link.remoteAddress}:${link.remotePort}`, user: cred.userId,
    relay: `${r.relay.address.address}:${r.relay.address.port}`, lifetime,
  });
  // Step 5: "The RESERVATION-TOKEN attribute MUST NOT be present in the success response."
  allocation.keepAllocateResponse(replyKept(req, 200, {
    key: cred.key,
    created: allocation,
    build: (w) => {
      w.add(XorRelayedAddress, r.relay.address).add(Lifetime, lifetime).add(XorMappedAddress, mappedAddress(link));
    },
  }));
}
