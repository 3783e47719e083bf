// TURN-TCP / TURN-TLS listener behaviour through real sockets: exact framed-message counts at any read
// boundary, connection accounting, the allocation's end with its connection, and the bounds that keep slow,
// idle and half-open clients from holding memory and sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { MessageClass, Method } from '../../src/stun/constants.ts';
import { encodeChannelData } from '../../src/stun/channel-data.ts';
import { StreamFramer } from '../../src/stun/stream-framer.ts';
import { StunWriter } from '../../src/stun/writer.ts';
import { DROP, SEND_DROP } from '../../src/stats/listener-stats.ts';
import { TurnClient } from '../../src/client/turn-client.ts';
import { PASS, USER } from '../helpers/gateway.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';
import { startTransportListener } from '../helpers/transport-listener.ts';

function binding(software?: string): Buffer {
  const w = new StunWriter(Method.binding, MessageClass.request);
  if (software !== undefined) w.addRaw(0x8022, Buffer.from(software));
  return w.finish();
}

/** 3 STUN messages and 5 ChannelData frames (payloads of 1..5 bytes, padded on the wire), interleaved. */
function mixedStream(): { bytes: Buffer; frames: number; stun: number; channelData: number } {
  const cd = (n: number) => encodeChannelData(0x4000, Buffer.alloc(n, n), true);
  const parts = [binding(), cd(1), cd(2), binding('abc'), cd(3), cd(4), binding('abcdefgh'), cd(5)];
  return { bytes: Buffer.concat(parts), frames: 8, stun: 3, channelData: 5 };
}

/** Reads framed responses off `socket` until `count` arrived; returns their total size. */
async function readFrames(socket: Socket, count: number): Promise<number> {
  let frames = 0;
  let bytes = 0;
  const framer = new StreamFramer((_f, _k, wire) => {
    frames++;
    bytes += wire;
  });
  while (frames < count) {
    const [chunk] = await once(socket, 'data') as [Buffer];
    framer.push(chunk);
  }
  return bytes;
}

/** openssl s_client's output for one connection attempt (it fails when the handshake does). */
function sClient(port: number, version: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, version, '-cipher', 'DEFAULT@SECLEVEL=0'],
      { timeout: 10_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
    child.stdin?.end();
  });
}

async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const split of ['one write', '1-byte writes'] as const) {
  test(`listener rx/tx count every framed message exactly, not per read (${split})`, async () => {
    const t = await startTransportListener('TURN-TCP');
    const socket = connect(t.port, '127.0.0.1');
    try {
      await once(socket, 'connect');
      socket.setNoDelay(true);
      assert.equal(t.stats.connections, 1, 'a TCP connection is a downstream connection');
      const m = mixedStream();
      const responses = readFrames(socket, m.stun);
      if (split === 'one write') {
        socket.write(m.bytes);
      } else {
        for (const b of m.bytes) {
          socket.write(Buffer.from([b]));
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      const txBytes = await responses;
      assert.equal(t.stats.rxPackets, m.frames);
      assert.equal(t.stats.rxBytes, m.bytes.length, 'bytes are wire sizes, ChannelData padding included');
      assert.equal(t.stats.txPackets, m.stun);
      assert.equal(t.stats.txBytes, txBytes);
      assert.equal(t.stats.drops[DROP.no_allocation], m.channelData, 'ChannelData without an allocation');
      socket.destroy();
      await eventually(() => t.stats.connections === 0, 'the connection to be counted closed');
      assert.equal(t.stats.connectionsTotal, 1);
    } finally {
      socket.destroy();
      await t.stop();
    }
  });
}

test('closing the connection deletes its allocation; an allocation-less connection is closed when idle', async () => {
  const t = await startTransportListener('TURN-TCP', { idleTimeoutMs: 200 });
  const client = await TurnClient.connect({ kind: 'tcp', host: '127.0.0.1', port: t.port, username: USER, password: PASS });
  const idle = connect(t.port, '127.0.0.1');
  try {
    await client.allocate();
    assert.equal(t.stats.allocationsActive, 1);
    await once(idle, 'close');
    await eventually(() => t.stats.connections === 1, 'the idle connection to be closed');
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(t.stats.connections, 1, 'the connection with an allocation stays');
    assert.equal(t.stats.allocationsActive, 1);
    client.close();
    await eventually(() => t.stats.allocationsActive === 0 && t.stats.connections === 0, 'the allocation to end');
    assert.equal(t.server.allocations.size, 0);
    assert.equal(t.stats.allocationDuration.count, 1);
  } finally {
    client.close();
    idle.destroy();
    await t.stop();
  }
});

test('connections beyond the cap are refused at accept', async () => {
  const t = await startTransportListener('TURN-TCP', { maxConnections: 2 });
  const sockets = [0, 1, 2].map(() => connect(t.port, '127.0.0.1').on('error', () => {}));
  try {
    let closed = 0;
    for (const s of sockets) s.on('close', () => closed++);
    await eventually(() => closed === 1 && t.stats.connectionsTotal === 2, 'one of three to be refused');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(closed, 1);
    assert.equal(t.stats.connections, 2);
  } finally {
    for (const s of sockets) s.destroy();
    await t.stop();
  }
});

test('a stream that is not STUN or ChannelData is dropped as malformed and closed', async () => {
  const t = await startTransportListener('TURN-TCP');
  const socket = connect(t.port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    // First bits 0b11: neither STUN (0b00) nor ChannelData (0b01). ("GET" would look like ChannelData 0x4745.)
    socket.write(Buffer.concat([binding(), Buffer.from([0xc0, 0x00, 0x00, 0x04, 1, 2, 3, 4])]));
    socket.resume();
    await once(socket, 'close');
    assert.equal(t.stats.drops[DROP.malformed], 1);
    assert.equal(t.stats.rxPackets, 1);
  } finally {
    socket.destroy();
    await t.stop();
  }
});

test('a client that stops reading: relayed frames above the queue bound are dropped and counted, not buffered', async () => {
  const t = await startTransportListener('TURN-TCP', { relayQueueBytes: 64 * 1024 });
  const client = await TurnClient.connect({ kind: 'tcp', host: '127.0.0.1', port: t.port, username: USER, password: PASS });
  const peer = createSocket('udp4');
  try {
    const relay = (await client.allocate()).relayed[0];
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    const p = { family: 4 as const, address: '127.0.0.1', port: peer.address().port };
    await client.channelBind(0x4000, p);
    let received = 0;
    client.on('data', () => received++);
    const responses = t.stats.txPackets;
    client.transport.pause();
    // Kernel socket buffers take several MB first; then the listener's queue reaches the bound.
    const payload = Buffer.alloc(1000, 1);
    const cluster = t.registry.cluster('s', 'loopback');
    for (let i = 0; i < 200_000 && t.stats.sendDrops[SEND_DROP.client] === 0; i++) {
      peer.send(payload, relay.port, '127.0.0.1');
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(t.stats.sendDrops[SEND_DROP.client] > 0, `no drop after ${cluster.rxPackets} relayed datagrams`);
    const queued = (t.listener as unknown as { connectionCount: number }).connectionCount;
    assert.equal(queued, 1);
    client.transport.resume();
    await eventually(() => received + t.stats.sendDrops[SEND_DROP.client] === cluster.rxPackets,
      'every datagram from the peer to be delivered or counted dropped', 10_000);
    assert.ok(received > 0);
    assert.equal(t.stats.txPackets - responses, received, 'listener tx counts what was sent, drops excluded');
  } finally {
    peer.close();
    client.close();
    await t.stop();
  }
});

test('TLS: a handshake that never happens is dropped at the timeout, uncounted', async () => {
  const c = makeTestCert();
  const t = await startTransportListener('TURN-TLS', { handshakeTimeoutMs: 300 }, c);
  const socket = connect(t.port, '127.0.0.1');
  socket.resume();
  try {
    const started = Date.now();
    await once(socket, 'close');
    assert.ok(Date.now() - started < 3000);
    assert.equal(t.stats.connectionsTotal, 0, 'only TLS connections past the handshake are downstream connections');
  } finally {
    socket.destroy();
    await t.stop();
  }
});

test('TLS: TLS 1.1 is refused; the certificate reloads for new handshakes, a bad key is refused', async () => {
  const a = makeTestCert();
  const b = makeTestCert('rsa');
  const t = await startTransportListener('TURN-TLS', {}, a);
  const open = async (opts: Record<string, unknown> = {}) => {
    const s = tlsConnect({ host: '127.0.0.1', port: t.port, rejectUnauthorized: false, ...opts });
    await once(s, 'secureConnect');
    return s;
  };
  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
  const sockets: Socket[] = [];
  try {
    // Node's own client refuses TLS 1.1 before asking; openssl at security level 0 asks, and the server says no.
    const v11 = await sClient(t.port, '-tls1_1');
    assert.match(v11, /alert protocol version/);
    assert.match(await sClient(t.port, '-tls1_2'), /Protocol *: *TLSv1\.2/);
    const first = await open();
    sockets.push(first);
    assert.equal(first.getPeerX509Certificate()?.fingerprint256, fingerprint(a.cert));
    t.listener.updateCredentials!(b.cert, b.key);
    const second = await open();
    sockets.push(second);
    assert.equal(second.getPeerX509Certificate()?.fingerprint256, fingerprint(b.cert));
    assert.throws(() => t.listener.updateCredentials!(a.cert, b.key),
      (e: Error & { code?: string; field?: string }) => e.code === 'ERR_TLS_CREDENTIALS' && e.field === 'key');
    const third = await open();
    sockets.push(third);
    assert.equal(third.getPeerX509Certificate()?.fingerprint256, fingerprint(b.cert), 'the good pair stays');
    // The connection from before the reload still works.
    const answer = readFrames(first, 1);
    first.write(binding());
    assert.ok(await answer > 20);
  } finally {
    for (const s of sockets) s.destroy();
    await t.stop();
  }
});

test('TLS: closing the listener does not wait for connections still in the handshake', async () => {
  const t = await startTransportListener('TURN-TLS', { handshakeTimeoutMs: 60_000 }, makeTestCert());
  const socket = connect(t.port, '127.0.0.1');
  socket.resume();
  try {
    await once(socket, 'connect');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await t.stop();
    assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`);
  } finally {
    socket.destroy();
  }
});

test('TLS: answers handled in one turn still go out one TLS record per message, as uclient needs', async () => {
  const t = await startTransportListener('TURN-TLS', {}, makeTestCert());
  // A TCP relay between client and listener that cuts the server's bytes into TLS records.
  const records: { type: number; length: number }[] = [];
  const relay = createServer((down) => {
    const up = connect(t.port, '127.0.0.1');
    down.pipe(up);
    let pending = Buffer.alloc(0);
    up.on('data', (chunk: Buffer) => {
      down.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        records.push({ type: pending[0], length: pending.readUInt16BE(3) });
        pending = pending.subarray(5 + pending.readUInt16BE(3));
      }
    });
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const { port } = relay.address() as { port: number };
  // TLS 1.2: after the handshake every application_data (23) record is application data.
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
  try {
    await once(socket, 'secureConnect');
    const n = 20;
    const answered = readFrames(socket, n);
    // All requests in one write: the listener frames and answers them in one turn of the event loop.
    socket.write(Buffer.concat(Array.from({ length: n }, () => binding())));
    const bytes = await answered;
    const data = records.filter((r) => r.type === 23);
    assert.equal(data.length, n, `records: ${data.map((r) => r.length).join(',')}`);
    // Each record is one Binding response plus the AES-GCM explicit nonce (8) and tag (16).
    for (const r of data) assert.equal(r.length, bytes / n + 24);
  } finally {
    socket.destroy();
    relay.close();
    await t.stop();
  }
});
