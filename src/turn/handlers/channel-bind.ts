// ChannelBind requests, RFC 8656 §12.2.
import { Attr, MAX_CHANNEL_RFC5766, MIN_CHANNEL } from '../../stun/constants.ts';
import { XorPeerAddress } from '../../stun/attributes/address.ts';
import { ChannelNumber } from '../../stun/attributes/numeric.ts';
import type { ChannelConflict } from '../allocation.ts';
import { reply, type Request } from '../request.ts';
import type { TurnServer } from '../turn-server.ts';
import { checkPeer } from './peer-address.ts';

const CONFLICT_REASONS: Readonly<Record<ChannelConflict, string>> = {
  'number-bound-elsewhere': 'Channel Bound To Another Peer',
  'peer-bound-elsewhere': 'Peer Bound To Another Channel',
};

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
  // §12.2: "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute; the channel
  // number is in the range 0x4000 through 0x4FFF (inclusive)" — otherwise 400 (Bad Request).
  if (number === undefined || peer === undefined || !msg.has(Attr.XOR_PEER_ADDRESS)) {
    return reply(req, 400, { key: cred.key });
  }
  // RFC 5766 clients bind up to 0x7FFF; like pion (upstream STUNner) and coturn we accept them: the
  // numbers do not collide with STUN (0b00) and ChannelData is recognised by its first two bits (0b01).
  if (number < MIN_CHANNEL || number > MAX_CHANNEL_RFC5766) return reply(req, 400, { key: cred.key });
  // §12.2: neither the number nor the transport address may be bound elsewhere (400), counting the 5 minutes
  // after expiry during which neither may be rebound (§12). Checked before admission, as the RFC lists it.
  const conflict = allocation.channelConflict(number, peer);
  if (conflict !== undefined) return reply(req, 400, { key: cred.key, reason: CONFLICT_REASONS[conflict] });
  // §12.2: 443 for a family mismatch, and our admission policy (403) as for CreatePermission.
  const c = checkPeer(allocation, peer, true);
  if (!c.ok) {
    server.log.debug('channel bind refused', { listener: req.listener.name, peer: peer.address, code: c.code });
    return reply(req, c.code, { key: cred.key });
  }
  // §12.2: beyond a capacity limit 508; otherwise the binding (10 minutes) and the permission (5 minutes) are
  // created or refreshed.
  const result = allocation.bindChannel(number, peer, c.admission, c.relay, req.now, server.limits);
  if (result === 'capacity') return reply(req, 508, { key: cred.key });
  if (result !== 'bound') return reply(req, 400, { key: cred.key, reason: CONFLICT_REASONS[result] });
  reply(req, 200, { key: cred.key });
}
