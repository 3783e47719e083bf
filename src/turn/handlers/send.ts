// Send indications, RFC 8656 §11.2: client -> peer without a channel.
import { Attr } from '../../stun/constants.ts';
import { XorPeerAddress } from '../../stun/attributes/address.ts';
import type { StunMessage } from '../../stun/message.ts';
import { DROP } from '../../stats/listener-stats.ts';
import type { Allocation } from '../allocation.ts';
import type { ListenerContext } from '../listener-context.ts';
import type { TurnServer } from '../turn-server.ts';

export function handleSendIndication(_server: TurnServer, listener: ListenerContext, msg: StunMessage,
  allocation: Allocation | undefined): void {
  if (allocation === undefined || allocation.state !== 'active') {
    listener.stats.drops[DROP.no_allocation]++;
    return;
  }
  // §11.2: "If the Send indication does not contain an XOR-PEER-ADDRESS attribute or DATA attribute, the
  // indication is discarded."
  const peer = msg.get(XorPeerAddress);
  const data = msg.value(Attr.DATA);
  if (peer === undefined || data === undefined) {
    listener.stats.drops[DROP.malformed]++;
    return;
  }
  // "If ... there is no permission installed for the IP address ... the indication is silently discarded."
  const permission = allocation.permissions.get(peer.address);
  const relay = allocation.relayFor(peer.family);
  if (permission === undefined || !permission.live || relay === undefined) {
    listener.stats.drops[DROP.no_permission]++;
    return;
  }
  allocation.relaySend(permission, data, peer.port, relay);
}
