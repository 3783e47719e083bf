// ChannelBind requests, RFC 8656 §11.2.
import { Attr, MAX_CHANNEL_RFC5766, MIN_CHANNEL } from '../../stun/constants.ts';
import { XorPeerAddress } from '../../stun/attributes/address.ts';
import { ChannelNumber } from '../../stun/attributes/numeric.ts';
import { ChannelBinding } from '../channel-binding.ts';
import { Permission } from '../permission.ts';
import { reply, type Request } from '../request.ts';
import { CHANNEL_LIFETIME_S, PERMISSION_LIFETIME_S } from '../timers.ts';
import type { TurnServer } from '../turn-server.ts';
import { checkPeer } from './peer-address.ts';

export function handleChannelBind(server: TurnServer, req: Request): void {
  const cred = server.authenticate(req);
  if (cred === undefined) return;
  const allocation = req.allocation;
  if (allocation === undefined || allocation.state !== 'active') return reply(req, 437, { key: cred.key });
  // RFC 6062: a TCP allocation relays over peer data connections; it has no channels.
  if (allocation.tcp !== undefined) return reply(req, 400, { key: cred.key, reason: 'TCP Allocation Has No Channels' });
  const { msg } = req;
  const number = msg.get(ChannelNumber);
  const peer = msg.get(XorPeerAddress);
  // §11.2: "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute; the channel
  // number is in the range 0x4000 through 0x4FFF (inclusive)" — otherwise 400 (Bad Request).
  if (number === undefined || peer === undefined || !msg.has(Attr.XOR_PEER_ADDRESS)) {
    return reply(req, 400, { key: cred.key });
  }
  // RFC 5766 clients bind up to 0x7FFF; like pion (upstream STUNner) and coturn we accept them: the
  // numbers do not collide with STUN (0b00) and ChannelData is recognised by its first two bits (0b01).
  if (number < MIN_CHANNEL || number > MAX_CHANNEL_RFC5766) return reply(req, 400, { key: cred.key });
  // "The channel number is not currently bound to a different transport address (same transport address
  // is OK)" — counting the 5 minutes after expiry during which it may not be rebound elsewhere (§12).
  const bound = allocation.channels.get(number);
  if (bound !== undefined && (bound.peerAddress !== peer.address || bound.peerPort !== peer.port)) {
    return reply(req, 400, { key: cred.key, reason: 'Channel Bound To Another Peer' });
  }
  // "The transport address is not currently bound to a different channel number."
  const permission = allocation.permissions.get(peer.address);
  const other = permission?.channelFor(peer.port);
  if (other !== undefined && other.number !== number) {
    return reply(req, 400, { key: cred.key, reason: 'Peer Bound To Another Channel' });
  }
  // §11.2: 443 for a family mismatch, and our admission policy (403) as for CreatePermission.
  const c = checkPeer(allocation, peer, true);
  if (!c.ok) {
    server.log.debug('channel bind refused', { listener: req.listener.name, peer: peer.address, code: c.code });
    return reply(req, c.code, { key: cred.key });
  }
  const cap = server.limits.maxChannelsPerAllocation;
  if (bound === undefined && cap > 0 && allocation.channels.size >= cap) return reply(req, 508, { key: cred.key });
  if (permission === undefined && server.limits.maxPermissionsPerAllocation > 0
    && allocation.permissions.size >= server.limits.maxPermissionsPerAllocation) {
    return reply(req, 508, { key: cred.key });
  }
  // "If the request is valid, but the server is unable to fulfill the request due to some capacity limit
  // ... 508." Otherwise it creates or refreshes the binding (10 minutes) and the permission (5 minutes).
  const now = req.now;
  let perm = permission;
  if (perm === undefined) {
    perm = new Permission(peer.address, c.admission, now + PERMISSION_LIFETIME_S * 1000);
    allocation.permissions.set(peer.address, perm);
  } else {
    perm.refresh(c.admission, now + PERMISSION_LIFETIME_S * 1000);
  }
  if (bound !== undefined) {
    bound.expiresAt = now + CHANNEL_LIFETIME_S * 1000;
    bound.expired = false;
  } else {
    const binding = new ChannelBinding(number, peer.address, peer.port, perm, c.relay,
      now + CHANNEL_LIFETIME_S * 1000);
    allocation.channels.set(number, binding);
    perm.addChannel(binding);
  }
  reply(req, 200, { key: cred.key });
}
