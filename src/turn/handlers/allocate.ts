// Allocate requests, RFC 8656 §7.2; REQUESTED-TRANSPORT TCP continues in allocate-tcp.ts (RFC 6062 §5.1).
import { Attr, FAMILY_IPV4, FAMILY_IPV6, TRANSPORT_TCP, TRANSPORT_UDP } from '../../stun/constants.ts';
import { XorMappedAddress, XorRelayedAddress } from '../../stun/attributes/address.ts';
import {
  AdditionalAddressFamily, EvenPort, Lifetime, RequestedAddressFamily, RequestedTransport,
} from '../../stun/attributes/numeric.ts';
import { ReservationToken } from '../../stun/attributes/opaque.ts';
import { AddressErrorCode, UnknownAttributes, errorCode } from '../../stun/attributes/errors.ts';
import { Username } from '../../stun/attributes/text.ts';
import type { StunWriter } from '../../stun/writer.ts';
import { DROP } from '../../stats/listener-stats.ts';
import { Allocation } from '../allocation.ts';
import { mappedAddress } from '../mapped-address.ts';
import { reply, replyKept, type Request } from '../request.ts';
import type { RelaySocket } from '../relay.ts';
import { grantLifetime } from '../timers.ts';
import { transactionKey, type TurnServer } from '../turn-server.ts';
import { handleTcpAllocate } from './allocate-tcp.ts';

export async function handleAllocate(server: TurnServer, req: Request): Promise<void> {
  const { msg, link, listener } = req;
  // §7.2 step 1: "The server MUST require that the request be authenticated."
  const cred = server.authenticate(req);
  if (cred === undefined) return;
  // Step 2: "The server checks if the 5-tuple is currently in use by an existing allocation. If yes, the
  // server rejects the request with a 437 (Allocation Mismatch) error" — unless it is a retransmission
  // of the request that created it, which gets the same answer again (§7.2, "retransmitted").
  const existing = req.allocation;
  if (existing !== undefined) {
    if (existing.allocateTransaction === transactionKey(msg)) {
      if (existing.allocateResponse !== undefined) link.send(existing.allocateResponse);
      return;
    }
    return reply(req, 437, { key: cred.key });
  }
  if (server.draining) return reply(req, 486, { key: cred.key, reason: 'Server Draining' });
  // Step 3: "The server checks if the request contains a REQUESTED-TRANSPORT attribute. If the
  // REQUESTED-TRANSPORT attribute is not included or is malformed, the server rejects the request with a
  // 400 (Bad Request) error. Otherwise, if the attribute indicates an unsupported transport protocol, the
  // server rejects the request with a 442 (Unsupported Transport Protocol) error."
  const transport = msg.get(RequestedTransport);
  if (transport === undefined) return reply(req, 400, { key: cred.key });
  if (transport === TRANSPORT_TCP) return handleTcpAllocate(server, req, cred);
  if (transport !== TRANSPORT_UDP) return reply(req, 442, { key: cred.key });
  // Step 4: "The request may contain a DONT-FRAGMENT attribute. If it does, but the server does not
  // support sending UDP datagrams with the DF bit set to 1 ..., then the server treats the DONT-FRAGMENT
  // attribute in the Allocate request as an unknown comprehension-required attribute." (Node cannot set DF.)
  if (msg.has(Attr.DONT_FRAGMENT)) {
    return reply(req, 420, { key: cred.key, build: (w) => w.add(UnknownAttributes, [Attr.DONT_FRAGMENT]) });
  }
  const hasToken = msg.has(Attr.RESERVATION_TOKEN);
  const hasEvenPort = msg.has(Attr.EVEN_PORT);
  const hasRequestedFamily = msg.has(Attr.REQUESTED_ADDRESS_FAMILY);
  const hasAdditionalFamily = msg.has(Attr.ADDITIONAL_ADDRESS_FAMILY);
  // Step 5: "If the request contains both a RESERVATION-TOKEN and an EVEN-PORT attribute, then the server
  // rejects the request with a 400 (Bad Request) error." Likewise with REQUESTED-ADDRESS-FAMILY (§7.2).
  if (hasToken && (hasEvenPort || hasRequestedFamily || hasAdditionalFamily)) return reply(req, 400, { key: cred.key });
  // §7.2: "If the request contains both REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY ... 400", and
  // ADDITIONAL-ADDRESS-FAMILY may only ask for IPv6.
  if (hasRequestedFamily && hasAdditionalFamily) return reply(req, 400, { key: cred.key });
  let family: 4 | 6 = 4;
  if (hasRequestedFamily) {
    const f = msg.get(RequestedAddressFamily);
    // "If the value of the REQUESTED-ADDRESS-FAMILY attribute is not IPv4 or IPv6 ... 440."
    if (f !== FAMILY_IPV4 && f !== FAMILY_IPV6) return reply(req, 440, { key: cred.key });
    family = f === FAMILY_IPV4 ? 4 : 6;
  }
  let dualStack = false;
  if (hasAdditionalFamily) {
    if (msg.get(AdditionalAddressFamily) !== FAMILY_IPV6) return reply(req, 400, { key: cred.key });
    dualStack = true;
  }
  if (!listener.relays.families.has(family)) return reply(req, 440, { key: cred.key });
  const evenPort = hasEvenPort ? msg.get(EvenPort) : undefined;
  if (hasEvenPort && evenPort === undefined) return reply(req, 400, { key: cred.key });
  const token = hasToken ? msg.get(ReservationToken) : undefined;
  if (hasToken && token === undefined) return reply(req, 400, { key: cred.key });
  // Step 8: "At any point, the server MAY choose to reject the request with a 486 (Allocation Quota
  // Reached) error if it feels the client is trying to exceed some locally defined allocation quota."
  if (!server.quota.acquire(cred.userId)) {
    listener.stats.drops[DROP.quota]++;
    server.log.debug('allocation quota reached', { listener: listener.name, user: cred.userId });
    return reply(req, 486, { key: cred.key });
  }
  const lifetime = grantLifetime(msg.get(Lifetime));
  const allocation = new Allocation(listener, link, msg.get(Username) ?? '', cred.userId, cred.key,
    transactionKey(msg), req.now, lifetime);
  server.addAllocation(allocation);

  // Steps 6-7 (tokens, even ports) and the relayed transport address(es).
  let primary: RelaySocket | undefined;
  let reservation: Buffer | undefined;
  let failure: 440 | 508 | undefined;
  if (token !== undefined) {
    primary = await listener.relays.claim(token);
    if (primary === undefined) failure = 508;
  } else {
    const r = await listener.relays.allocate({
      family, evenPort: evenPort !== undefined, reserveNext: evenPort?.reserve ?? false,
    });
    if (r.ok) {
      primary = r.socket;
      reservation = r.reservationToken;
    } else {
      failure = r.code;
    }
  }
  let secondaryError: 440 | 508 | undefined;
  let secondary: RelaySocket | undefined;
  if (primary !== undefined && dualStack) {
    if (!listener.relays.families.has(6)) {
      secondaryError = 440;
    } else {
      const r = await listener.relays.allocate({ family: 6, evenPort: false, reserveNext: false });
      if (r.ok) secondary = r.socket;
      else secondaryError = r.code;
    }
  }
  if (allocation.state === 'closed') {
    // Deleted while the sockets were being bound (shutdown, or the listener went away).
    primary?.close();
    secondary?.close();
    return;
  }
  if (primary === undefined) {
    server.deleteAllocation(allocation, 'no relay');
    server.warnings.warn(server.log, `relay:${listener.name}:${failure}`, 'cannot allocate a relay address',
      { listener: listener.name, code: failure });
    return reply(req, failure ?? 508, { key: cred.key });
  }
  server.activate(allocation, secondary === undefined ? [primary] : [primary, secondary]);
  server.log.debug('allocation created', {
    listener: listener.name, client: `${link.remoteAddress}:${link.remotePort}`, user: cred.userId,
    relay: `${primary.address.address}:${primary.address.port}`, lifetime,
  });

  // §7.2 of RFC 8656: the success response carries the relayed address(es), LIFETIME, the
  // client's server-reflexive address, and RESERVATION-TOKEN when a port was held for it. It is kept for
  // retransmissions of this Allocate.
  allocation.keepAllocateResponse(replyKept(req, 200, {
    key: cred.key,
    created: allocation,
    build: (w: StunWriter) => {
      for (const r of allocation.relays) w.add(XorRelayedAddress, r.address);
      if (secondaryError !== undefined) {
        w.add(AddressErrorCode, { family: FAMILY_IPV6, ...errorCode(secondaryError) });
      }
      w.add(Lifetime, lifetime);
      if (reservation !== undefined) w.add(ReservationToken, reservation);
      w.add(XorMappedAddress, mappedAddress(link));
    },
  }));
}
