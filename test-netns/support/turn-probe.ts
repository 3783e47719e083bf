// A TURN-UDP client run inside a namespace (`ip netns exec NS node turn-probe.ts JSON`): allocates (optionally
// with REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY), then for each peer asks a permission and a channel
// and sends `count` ChannelData messages of `size` bytes, counting the echoes that come back byte-identical.
// Prints one JSON line: the relayed and mapped addresses and, per peer, the error code or the echo counts.
import { TurnClient, TurnClientError } from '../../src/client/turn-client.ts';
import type { TransportAddress } from '../../src/stun/address.ts';

export interface ProbeRequest {
  readonly server: string;
  readonly port: number;
  readonly family?: 4 | 6;
  readonly additionalFamily?: boolean;
  readonly peers: readonly TransportAddress[];
  readonly size: number;
  readonly count: number;
}

export interface ProbeResult {
  readonly relayed: TransportAddress[];
  readonly mapped: TransportAddress | undefined;
  readonly peers: { code?: number; echoed: number; intact: number }[];
}

async function probe(r: ProbeRequest): Promise<ProbeResult> {
  const client = await TurnClient.connect({ kind: 'udp', host: r.server, port: r.port, username: 'user1', password: 'pass1' });
  try {
    const a = await client.allocate({ family: r.family, additionalFamily: r.additionalFamily });
    const peers: ProbeResult['peers'] = [];
    for (const [i, peer] of r.peers.entries()) {
      const channel = 0x4000 + i;
      try {
        await client.createPermission(peer);
        await client.channelBind(channel, peer);
      } catch (err) {
        if (!(err instanceof TurnClientError)) throw err;
        peers.push({ code: err.code, echoed: 0, intact: 0 });
        continue;
      }
      const payload = Buffer.alloc(r.size);
      for (let j = 0; j < payload.length; j++) payload[j] = (j * 7 + i) & 0xff;
      const got = { echoed: 0, intact: 0 };
      const on = (data: Buffer, _from: TransportAddress, ch: number | undefined) => {
        if (ch !== channel) return;
        got.echoed++;
        if (data.equals(payload)) got.intact++;
      };
      client.on('data', on);
      for (let j = 0; j < r.count; j++) {
        client.sendChannel(channel, payload);
        await new Promise((res) => setTimeout(res, 10));
      }
      await new Promise((res) => setTimeout(res, 500));
      client.off('data', on);
      peers.push(got);
    }
    await client.refresh(0);
    return { relayed: a.relayed, mapped: a.mapped, peers };
  } finally {
    client.close();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await probe(JSON.parse(process.argv[2]) as ProbeRequest)));
  process.exit(0);
}
