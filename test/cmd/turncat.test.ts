// turncat and stunnerd as processes: a local UDP port tunnelled through the gateway to an echo peer, over
// TURN-UDP, TURN-TCP and TURN-TLS. Over TCP a recording proxy checks the bytes turncat and the gateway put on
// the stream: every ChannelData message padded to a multiple of four with zeros (RFC 8656 §12.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { freeTcpPort, freeUdpPort, nonEphemeralUdpPort, run, stunnerd, type Proc } from '../helpers/process.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { PASS, USER, portOf, startGateway } from '../helpers/gateway.ts';
import { base64, makeTestCert } from '../helpers/tls-cert.ts';
import { cutFrames, startTcpTap } from '../helpers/tcp-tap.ts';

function turncat(args: string[]): Proc {
  return run(process.execPath, ['src/cmd/turncat.ts', ...args]);
}

/** Sends each datagram to turncat's local port and waits for its echo before the next; returns the echoes. */
async function echoEach(sock: Socket, port: number, datagrams: Buffer[], timeoutMs = 5000): Promise<Buffer[]> {
  const echoes: Buffer[] = [];
  for (const [i, d] of datagrams.entries()) {
    const reply = once(sock, 'message', { signal: AbortSignal.timeout(timeoutMs) }).catch(() => {
      throw new Error(`no echo of datagram ${i} (${d.length} bytes) within ${timeoutMs} ms`);
    });
    sock.send(d, port, '127.0.0.1');
    echoes.push((await reply)[0] as Buffer);
  }
  return echoes;
}

async function localSocket(): Promise<Socket> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return sock;
}

/** Odd sizes, and each of the four remainders modulo 4, with distinct contents. */
const SIZES = [1, 3, 5, 7, 1001, 2, 4, 6, 1200];
const datagrams = () => SIZES.map((n, i) => Buffer.alloc(n, (n * 7 + i) & 0xff).fill(0xa0 + i, 0, 1));

test('turncat tunnels datagrams through stunnerd started from a turn:// URI', async () => {
  const turnPort = await freeUdpPort();
  const localPort = await freeUdpPort();
  const peer = await startEchoPeer();
  const gw = stunnerd([`turn://user1:passwd1@127.0.0.1:${turnPort}`], { });
  const cat = turncat([`udp://127.0.0.1:${localPort}`,
    `turn://user1:passwd1@127.0.0.1:${turnPort}`, `udp://127.0.0.1:${peer.port}`]);
  const sock = createSocket('udp4');
  try {
    await gw.waitFor('stunnerd running');
    await cat.waitFor('listening');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    for (let i = 0; i < 5; i++) {
      sock.send(`ping ${i}`, localPort, '127.0.0.1');
      if (i === 0) await once(sock, 'message');
    }
    const deadline = Date.now() + 5000;
    while (replies.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(replies.sort(), ['ping 0', 'ping 1', 'ping 2', 'ping 3', 'ping 4']);
    assert.equal(peer.received, 5);
  } finally {
    sock.close();
    await cat.stop();
    await gw.stop('SIGINT');
    await peer.close();
  }
});

test('turncat over TURN-TCP: odd-sized datagrams both ways, every ChannelData on the stream padded with zeros', async () => {
  const gw = await startGateway({
    listeners: [{ name: 'tcp', protocol: 'TURN-TCP', address: '127.0.0.1', port: await freeTcpPort(), routes: ['loopback'] }],
  });
  const tap = await startTcpTap({ host: '127.0.0.1', port: gw.listeners.get('tcp')!.address.port });
  const peer = await startEchoPeer();
  const localPort = await freeUdpPort();
  const cat = turncat([`udp://127.0.0.1:${localPort}`, `turn://${USER}:${PASS}@127.0.0.1:${tap.port}?transport=tcp`,
    `udp://127.0.0.1:${peer.port}`]);
  const sock = await localSocket();
  const sent = datagrams();
  try {
    await cat.waitFor('listening');
    const echoes = await echoEach(sock, localPort, sent);
    assert.deepEqual(echoes, sent, 'every datagram came back byte for byte');
    assert.equal(peer.received, sent.length);
    // SIGTERM: turncat deletes its allocation (Refresh 0) and closes; then both streams are complete.
    assert.equal(await cat.stop(), 0);
    const ls = gw.registry.listener('tcp');
    for (let i = 0; i < 100 && ls.connections > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(tap.accepted, 1, 'one local client, one TURN-TCP connection');

    const up = cutFrames(tap.toServer());
    const down = cutFrames(tap.toClient());
    for (const [direction, frames, payloads] of [['turncat -> gateway', up, sent], ['gateway -> turncat', down, sent]] as const) {
      const channelData = frames.filter((f) => f.kind === 'channelData');
      assert.deepEqual(channelData.map((f) => f.payload), payloads, `${direction}: one ChannelData per datagram, in order`);
      for (const f of channelData) {
        const n = f.payload.length;
        assert.equal(f.wire.length, 4 + n + ((4 - (n % 4)) % 4), `${direction}: ${n} bytes padded to a multiple of 4`);
        assert.ok(f.wire.subarray(4 + n).every((b) => b === 0), `${direction}: padding after ${n} bytes is zeros`);
      }
      assert.ok(frames.filter((f) => f.kind === 'stun').length >= 4, `${direction}: Allocate x2, ChannelBind, Refresh`);
    }
    // The gateway counted the same frames and bytes, padding included.
    assert.deepEqual([ls.rxPackets, ls.rxBytes], [up.length, tap.toServer().length]);
    assert.deepEqual([ls.txPackets, ls.txBytes], [down.length, tap.toClient().length]);
  } finally {
    sock.close();
    await cat.stop('SIGKILL'); // when a check failed: SIGTERM would wait for a Refresh answer
    await tap.close();
    await peer.close();
    await gw.stop();
  }
});

test('turncat over TURN-TLS (turns://): odd-sized datagrams both ways, byte for byte', async () => {
  const cert = makeTestCert();
  const gw = await startGateway({
    listeners: [{
      name: 'tls', protocol: 'TURN-TLS', address: '127.0.0.1', port: await freeTcpPort(), routes: ['loopback'],
      cert: base64(cert.cert), key: base64(cert.key),
    }],
  });
  const peer = await startEchoPeer();
  const localPort = await freeUdpPort();
  const cat = turncat([`udp://127.0.0.1:${localPort}`,
    `turns://${USER}:${PASS}@127.0.0.1:${gw.listeners.get('tls')!.address.port}`, `udp://127.0.0.1:${peer.port}`]);
  const sock = await localSocket();
  const sent = datagrams();
  try {
    await cat.waitFor('listening');
    // An unpadded frame would shift every later one: the gateway would close the connection, nothing echoes.
    assert.deepEqual(await echoEach(sock, localPort, sent), sent);
    assert.equal(peer.received, sent.length);
    const ls = gw.registry.listener('tls');
    assert.deepEqual([...ls.drops], [0, 0, 0, 0, 0, 0], 'no frame dropped or malformed');
  } finally {
    sock.close();
    await cat.stop('SIGKILL');
    await peer.close();
    await gw.stop();
  }
});

test('turncat to a peer port nobody listens on: the ICMP errors the gateway passes on are logged, once per 10 s', async () => {
  // Peer links, which hear ICMP errors, open on relay ports the kernel never hands to an ephemeral bind.
  const relayPort = await nonEphemeralUdpPort();
  const gw = await startGateway({
    listeners: [{
      name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: await freeUdpPort(), routes: ['loopback'],
      min_relay_port: relayPort, max_relay_port: relayPort,
    }],
  });
  const closed = await freeUdpPort();
  const localPort = await freeUdpPort();
  const cat = turncat([`udp://127.0.0.1:${localPort}`, `turn://${USER}:${PASS}@127.0.0.1:${portOf(gw)}`,
    `udp://127.0.0.1:${closed}`]);
  const sock = await localSocket();
  try {
    await cat.waitFor('listening');
    for (let i = 0; i < 50; i++) {
      sock.send(`ping ${i}`, localPort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 10));
    }
    await cat.waitFor(/peer unreachable/);
    await new Promise((r) => setTimeout(r, 200));
    const lines = cat.output().split('\n').filter((l) => l.includes('peer unreachable'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], new RegExp(`127\\.0\\.0\\.1:${closed}.*type 3 code 3`));
    assert.ok(gw.registry.listener('udp').peerUnreachable[0] >= 10, 'counted by the gateway');
  } finally {
    sock.close();
    await cat.stop('SIGKILL');
    await gw.stop();
  }
});
