// A client of a TURN-DTLS listener: one DTLS association, which is the client's 5-tuple. Messages go out one
// per record, as over UDP (no ChannelData padding, RFC 8656 §12.5); listener tx is counted here.
import { encodeChannelData } from '../stun/channel-data.ts';
import { DROP, SEND_DROP, type ListenerStats } from '../stats/listener-stats.ts';
import type { Allocation } from '../turn/allocation.ts';
import type { ClientLink } from '../turn/client-link.ts';
import type { DtlsAssociation } from './dtls/association.ts';
import { MAX_PLAINTEXT_LENGTH } from './dtls/record.ts';
import { SEND_QUEUE_LIMIT } from './udp-send-queue.ts';

export class DtlsClientLink implements ClientLink {
  readonly transport = 'dtls' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly association: DtlsAssociation;
  /** The allocation of this association: set and cleared through the listener's attach/detach. */
  allocation: Allocation | undefined = undefined;
  readonly #stats: ListenerStats;

  constructor(association: DtlsAssociation, stats: ListenerStats) {
    this.association = association;
    this.remoteAddress = association.remoteAddress;
    this.remotePort = association.remotePort;
    this.#stats = stats;
  }

  send(message: Uint8Array): void {
    if (message.length > MAX_PLAINTEXT_LENGTH) {
      // One datagram is one record; a relayed datagram this large cannot be protected as one.
      this.#stats.drops[DROP.malformed]++;
      return;
    }
    if (this.association.sendQueueCount() >= SEND_QUEUE_LIMIT) {
      this.#stats.sendDrops[SEND_DROP.client]++;
      return;
    }
    this.#stats.txPackets++;
    this.#stats.txBytes += message.length;
    this.association.send(message);
  }

  sendChannelData(channel: number, payload: Uint8Array): void {
    this.send(encodeChannelData(channel, payload, false));
  }
}
