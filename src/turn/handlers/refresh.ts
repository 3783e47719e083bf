// Refresh requests, RFC 8656 §8.2.
import { Attr, FAMILY_IPV4, FAMILY_IPV6 } from '../../stun/constants.ts';
import { Lifetime, RequestedAddressFamily } from '../../stun/attributes/numeric.ts';
import { reply, type Request } from '../request.ts';
import { grantLifetime } from '../timers.ts';
import type { TurnServer } from '../turn-server.ts';

export function handleRefresh(server: TurnServer, req: Request): void {
  const cred = server.authenticate(req);
  if (cred === undefined) return;
  const allocation = req.allocation;
  // §8.2: "If the server receives a Refresh Request with ... no allocation ... 437 (Allocation Mismatch)."
  if (allocation === undefined || allocation.state !== 'active') return reply(req, 437, { key: cred.key });
  // §8.2: "If the server receives a Refresh Request with a REQUESTED-ADDRESS-FAMILY attribute and the
  // attribute value does not match the address family of the allocation, the server MUST reply with a 443
  // (Peer Address Family Mismatch) error response."
  if (req.msg.has(Attr.REQUESTED_ADDRESS_FAMILY)) {
    const f = req.msg.get(RequestedAddressFamily);
    const family = f === FAMILY_IPV4 ? 4 : f === FAMILY_IPV6 ? 6 : 0;
    // A TCP allocation (RFC 6062) has its one relayed address in `tcp`, no UDP relays.
    const has = family !== 0 && (allocation.relayFor(family) !== undefined || allocation.tcp?.relay.address.family === family);
    if (!has) return reply(req, 443, { key: cred.key });
  }
  if (req.msg.has(Attr.LIFETIME) && req.msg.get(Lifetime) === undefined) return reply(req, 400, { key: cred.key });
  const lifetime = grantLifetime(req.msg.get(Lifetime), true);
  // "If the requested lifetime is zero, then the server MUST immediately delete the allocation" and
  // answers with LIFETIME 0.
  if (lifetime === 0) {
    server.deleteAllocation(allocation, 'refresh lifetime 0');
    return void reply(req, 200, { key: cred.key, build: (w) => w.add(Lifetime, 0) });
  }
  allocation.refresh(lifetime, req.now);
  reply(req, 200, { key: cred.key, build: (w) => w.add(Lifetime, lifetime) });
}
