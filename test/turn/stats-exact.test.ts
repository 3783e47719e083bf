// Exact connection statistics (docs/metrics.md) through a real gateway on loopback: every datagram the client
// sent or received is captured at its transport, and the listener counters must equal those sums; the
// cluster counters must equal the relayed payloads exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient } from '../../src/client/turn-client.ts';
import type { TransportAddress } from '../../src/stun/address.ts';
import { splitRequestKey } from '../../src/stats/listener-stats.ts';
import { portOf, startGateway } from '../helpers/gateway.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { captureWire } from '../helpers/wire.ts';

/** Resolves when the client has emitted `n` more 'data' events. */
function echoes(client: TurnClient, n: number, timeoutMs = 10_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      client.off('data', onData);
      reject(new Error(`${got.length} of ${n} echoes arrived`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      got.push(Buffer.from(data));
      if (got.length < n) return;
      clearTimeout(timer);
      client.off('data', onData);
      resolve(got);
    };
    client.on('data', onData);
  });
}

const N = 50;
const M = 7;
const L = 100;

test('listener and cluster counters equal the bytes on the wire for a known exchange', async () => {
  const gw = await startGateway();
  const peer = await startEchoPeer();
  // A long RTO: no retransmission should blur the request counts (the byte counts would still hold).
  const client = await TurnClient.connect({
    kind: 'udp', host: '127.0.0.1', port: portOf(gw), username: 'user1', password: 'pass1', rtoMs: 5000,
  });
  const wire = captureWire(client);
  const ls = gw.registry.listener('udp');
  const cs = gw.registry.cluster('udp', 'loopback');
  const to: TransportAddress = { family: 4, address: '127.0.0.1', port: peer.port };
  try {
    await client.allocate();
    await client.createPermission(to);
    // M Send indications come back as Data indications (no channel yet) ...
    const indicated = echoes(client, M);
    for (let i = 0; i < M; i++) client.sendIndication(to, Buffer.alloc(L, 0x80 + i));
    const back = await indicated;
    assert.deepEqual(back.map((b) => b[0]).sort(), Array.from({ length: M }, (_, i) => 0x80 + i));
    // ... then N ChannelData messages, echoed over the channel, in lock step so none can be lost in a burst.
    await client.channelBind(0x4000, to);
    for (let i = 0; i < N; i++) {
      const echoed = echoes(client, 1);
      client.sendChannel(0x4000, Buffer.alloc(L, i));
      assert.deepEqual((await echoed)[0], Buffer.alloc(L, i));
    }
    assert.equal(peer.received, N + M);

    // Listener: every datagram, requests, responses, the 401, indications and ChannelData alike.
    assert.equal(wire.sent.length, 2 + 1 + 1 + M + N, 'two Allocates, CreatePermission, ChannelBind, M + N data');
    assert.equal(wire.received.length, 2 + 1 + 1 + M + N);
    assert.equal(ls.rxPackets, wire.sent.length);
    assert.equal(ls.rxBytes, wire.sentBytes());
    assert.equal(ls.txPackets, wire.received.length);
    assert.equal(ls.txBytes, wire.receivedBytes());
    // The data part alone: 4-byte ChannelData headers, and Send/Data indications of a known size.
    assert.deepEqual(wire.sent.slice(-N), new Array(N).fill(4 + L));
    assert.deepEqual(wire.received.slice(-N), new Array(N).fill(4 + L));
    assert.deepEqual(wire.sent.slice(3, 3 + M), new Array(M).fill(20 + 12 + 4 + L), 'header, XOR-PEER-ADDRESS, DATA');
    assert.deepEqual(wire.received.slice(3, 3 + M), new Array(M).fill(20 + 12 + 4 + L));

    // Cluster: datagrams to and from the peer, payload bytes only.
    assert.deepEqual([cs.txPackets, cs.txBytes, cs.rxPackets, cs.rxBytes], [N + M, (N + M) * L, N + M, (N + M) * L]);
    assert.deepEqual([ls.connections, ls.connectionsTotal, ls.allocationsActive], [1, 1, 1]);
    assert.deepEqual([cs.connections, cs.connectionsTotal], [1, 1]);
    assert.deepEqual([...ls.drops], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(requests(ls.requests), {
      'allocate 401': 1, 'allocate 200': 1, 'create_permission 200': 1, 'channel_bind 200': 1,
    });

    assert.equal(await client.refresh(0), 0);
    assert.equal(ls.rxPackets, wire.sent.length);
    assert.equal(ls.rxBytes, wire.sentBytes());
    assert.equal(ls.txPackets, wire.received.length);
    assert.equal(ls.txBytes, wire.receivedBytes());
    assert.deepEqual([ls.connections, ls.connectionsTotal, ls.allocationsActive], [0, 1, 0]);
    assert.deepEqual([cs.connections, cs.connectionsTotal], [0, 1]);
    assert.equal(ls.allocationDuration.count, 1);
    assert.equal(requests(ls.requests)['refresh 200'], 1);
  } finally {
    client.close();
    await peer.close();
    await gw.stop();
  }
});

function requests(map: Iterable<[number, number]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of map) {
    const { method, code } = splitRequestKey(key);
    out[`${method} ${code}`] = n;
  }
  return out;
}
