// The first step for every datagram from a client (UDP, or DTLS after decryption): count it, relay
// ChannelData straight away (recognised by its first two bits, before any STUN parsing), drop what is
// neither ChannelData nor STUN.
import { DROP, type ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';

/** Returns true when `msg` is a STUN message the TURN server must handle; everything else is done here. */
export function takeClientDatagram(stats: ListenerStats, msg: Buffer, allocation: Allocation | undefined): boolean {
  stats.rxPackets++;
  stats.rxBytes += msg.length;
  const kind = msg.length > 0 ? msg[0] & 0xc0 : 0xc0;
  if (kind === 0x40) {
    // RFC 8656 §12.6: ChannelData from a 5-tuple without an allocation is discarded.
    if (allocation === undefined || allocation.state !== 'active') stats.drops[DROP.no_allocation]++;
    else allocation.relayChannelData(msg);
    return false;
  }
  if (kind !== 0) {
    stats.drops[DROP.malformed]++;
    return false;
  }
  return true;
}
