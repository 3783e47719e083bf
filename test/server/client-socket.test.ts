// Client sockets (src/server/client-socket.ts) open while other clients send to the listener's port. Between
// bind and connect a new socket is an ordinary member of the reuseport group and the kernel hands it datagrams
// of other sources; they must reach the shared socket's handler, none lost and none taken for the client's.
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ClientSocket } from '../../src/server/client-socket.ts';
import { nonEphemeralUdpPort } from '../helpers/process.ts';

const SENDERS = 24;
const CLIENT_SOCKETS = 40;
/**
 * The most datagrams in flight (sent, not yet handled). A stalled test thread on a loaded machine would otherwise
 * let the blaster fill a receive queue, and the kernel would drop what the handlers never saw (CI once lost 150 of
 * 1320 that way). 64 small datagrams fit any one socket's default queue many times over.
 */
const WINDOW = 64;

/** Sends from `senders` sockets, each datagram carrying its sender's port, until told to stop; then reports. */
const BLASTER = `
const { createSocket } = require('node:dgram');
const { parentPort, workerData } = require('node:worker_threads');
const handled = new Int32Array(workerData.handled);
const sockets = [];
let sent = 0;
let sending = true;
let bound = 0;
for (let i = 0; i < workerData.senders; i++) {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1', () => {
    if (++bound === workerData.senders) { parentPort.postMessage('ready'); blast(); }
  });
  sockets.push(s);
}
function blast() {
  if (!sending) return;
  for (const s of sockets) {
    if (sent - Atomics.load(handled, 0) >= workerData.window) break;
    const msg = Buffer.alloc(8);
    msg.writeUInt16BE(s.address().port, 0);
    s.send(msg, workerData.port, '127.0.0.1');
    sent++;
  }
  setTimeout(blast, 0);
}
parentPort.on('message', () => {
  sending = false;
  setTimeout(() => parentPort.postMessage({ sent }), 20);
});
`;

/**
 * Datagrams the kernel dropped at a full receive buffer on the sockets bound to `port` (the last column of
 * /proc/net/udp). With the window above there should be none; counted so that a drop is reported as the
 * kernel's, not as a datagram the handlers lost.
 */
function kernelDrops(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 13 && f[1].endsWith(hexPort)) n += Number(f[12]);
  }
  return n;
}

function bound(port = 0, reusePort = false): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reusePort });
  return new Promise((resolve) => s.bind(port, '127.0.0.1', () => resolve(s)));
}

describe('ClientSocket', () => {
  it('hands datagrams of other sources received between bind and connect to the shared handler', async (t) => {
    // Outside the ephemeral range: another test's ephemeral bind with SO_REUSEPORT (uclient's) is never given it.
    const port = await nonEphemeralUdpPort();
    const tag = (rinfo: RemoteInfo) => `${rinfo.address}:${rinfo.port}`;
    const seen = new Map<string, number>();
    const handled = new Int32Array(new SharedArrayBuffer(4));
    const count = (msg: Buffer, rinfo: RemoteInfo) => {
      Atomics.add(handled, 0, 1);
      // Each datagram carries its sender's port: what arrives must be what was sent from there.
      assert.equal(msg.readUInt16BE(0), rinfo.port);
      seen.set(tag(rinfo), (seen.get(tag(rinfo)) ?? 0) + 1);
    };
    const shared = await bound(port, true);
    shared.on('message', count);
    // The clients whose sockets are opened: each sends nothing, so `own` must never be called.
    const clients = await Promise.all(Array.from({ length: CLIENT_SOCKETS }, () => bound()));
    // The senders run in another thread, as other clients run in other processes: the kernel queues their
    // datagrams while this thread is between bind and connect.
    const blaster = new Worker(BLASTER, { eval: true, workerData: { port, senders: SENDERS, window: WINDOW, handled: handled.buffer } });
    let wronglyOwn = 0;
    const opened: ClientSocket[] = [];
    const ready = new Promise((resolve) => blaster.once('message', resolve));
    try {
      await ready;
      await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
        opened.push(new ClientSocket({
          address: '127.0.0.1', port, remoteAddress: '127.0.0.1', remotePort: c.address().port,
          own: () => wronglyOwn++,
          other: count,
          connected: () => {
            resolve();
            return true;
          },
          onError: (err) => assert.fail(err),
        }));
      })));
      await new Promise((r) => setTimeout(r, 50));
      const done = new Promise<number>((resolve) => blaster.on('message', (m: { sent?: number }) => {
        if (m.sent !== undefined) resolve(m.sent);
      }));
      blaster.postMessage('stop');
      const sent = await done;
      // Everything sent has arrived somewhere, or was dropped by the kernel at a full queue (counted per socket).
      const deadline = Date.now() + 3000;
      const total = (): number => [...seen.values()].reduce((a, b) => a + b, 0);
      while (total() + kernelDrops(port) < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const dropped = kernelDrops(port);
      t.diagnostic(`${sent} sent, ${total()} handled, ${dropped} dropped by the kernel`);
      assert.equal(wronglyOwn, 0);
      assert.equal(total() + dropped, sent, `${sent - total() - dropped} of ${sent} datagrams lost (${dropped} dropped by the kernel)`);
      // Enough went through for the connects to have raced them: the window keeps the blaster going, not stopped.
      assert.ok(total() >= CLIENT_SOCKETS * 4, `only ${total()} handled`);
      assert.equal(seen.size, SENDERS);
    } finally {
      await blaster.terminate();
      for (const o of opened) o.close();
      await new Promise((r) => setTimeout(r, 10));
      for (const s of [shared, ...clients]) s.close();
    }
  });

  it('gives the client its own datagrams once connected, and none after close()', async () => {
    const port = await nonEphemeralUdpPort();
    const shared = await bound(port, true);
    const viaShared: string[] = [];
    shared.on('message', (m) => viaShared.push(m.toString()));
    const client = await bound();
    const own: string[] = [];
    const other: string[] = [];
    const cs = await new Promise<ClientSocket>((resolve) => {
      const s: ClientSocket = new ClientSocket({
        address: '127.0.0.1', port, remoteAddress: '127.0.0.1', remotePort: client.address().port,
        own: (m) => own.push(m.toString()),
        other: (m) => other.push(m.toString()),
        connected: () => {
          setImmediate(() => resolve(s));
          return true;
        },
        onError: (err) => assert.fail(err),
      });
    });
    try {
      // The kernel prefers the connected socket for this 4-tuple.
      for (let i = 0; i < 10; i++) client.send(`a${i}`, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(own, Array.from({ length: 10 }, (_, i) => `a${i}`));
      assert.deepEqual([...other, ...viaShared], []);
      // Replies leave from the listener's port.
      const reply = new Promise<RemoteInfo>((resolve) => client.once('message', (_m, r) => resolve(r)));
      cs.socket.send('hi');
      assert.equal((await reply).port, port);
      cs.close();
      client.send('after', port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(own.length, 10);
      assert.deepEqual([...other, ...viaShared], ['after']);
    } finally {
      shared.close();
      client.close();
    }
  });
});
