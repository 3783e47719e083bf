// With workers, the main thread reads the workers' counters whenever it is scraped. A datagram is counted before
// it leaves, so whoever has it and then scrapes finds it counted: the client its answers (listener tx and the
// request), a peer its datagrams (cluster tx). Each is scraped the moment it arrives, many times over: a gateway
// that counted after the send would, now and then, be caught between the two.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { TurnClient } from '../../src/client/turn-client.ts';
import { sample } from './support/exposition.ts';
import { PASS, USER, startStunnerd } from './support/stunnerd.ts';

const LISTENER = 'stunner/udp-gateway/udp-listener';
const CLUSTER = 'media-plane/sink';
const ROUNDS = 150;

test('with 2 workers, an answer or a relayed datagram is counted by the time its receiver has it', { timeout: 60_000 }, async () => {
  const gw = await startStunnerd({
    listeners: [{ name: LISTENER, routes: [CLUSTER] }],
    clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
    args: ['-u', '2'],
  });
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const client = await TurnClient.connect({
    kind: 'udp', host: '127.0.0.1', port: gw.ports.get(LISTENER)!, username: USER, password: PASS, rtoMs: 5000,
  });
  const to = { family: 4 as const, address: '127.0.0.1', port: peer.address().port };
  const l = `name="${LISTENER}"`;
  let exitCode: number | null;
  try {
    await client.allocate();
    await client.channelBind(0x4000, to);
    // The peer: each datagram relayed to it, then a scrape.
    for (let i = 1; i <= ROUNDS; i++) {
      const arrived = once(peer, 'message');
      client.sendChannel(0x4000, Buffer.alloc(100, i));
      await arrived;
      const text = await gw.scrape();
      assert.equal(sample(text, `stunner_cluster_packets_total{direction="tx",${l},cluster="${CLUSTER}"}`), i,
        `datagram ${i}: the peer has it, the scrape after says`);
    }
    // The client: each Refresh answered, then a scrape.
    const before = sample(await gw.scrape(), `stunner_listener_packets_total{direction="tx",${l}}`);
    for (let i = 1; i <= ROUNDS; i++) {
      await client.refresh(600);
      const text = await gw.scrape();
      assert.equal(sample(text, `stunner_requests_total{${l},method="refresh",code="200"}`), i, `refresh ${i}`);
      assert.equal(sample(text, `stunner_listener_packets_total{direction="tx",${l}}`), before + i, `refresh ${i}: tx`);
    }
  } finally {
    client.close();
    peer.close();
    exitCode = await gw.stop();
  }
  assert.equal(exitCode, 0, gw.proc.output());
});
