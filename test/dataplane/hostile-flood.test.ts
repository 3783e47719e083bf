// A hostile flood from one source while a legitimate client relays, against the stunnerd process with two
// dataplane workers: 60,000 datagrams (garbage, ChannelData without an allocation, Allocates with a wrong
// password, Binding requests) as fast as one sender can put them on loopback, and the client's media stream
// through an echo peer must not lose a single packet, in every one of ten runs (each with new sockets, so the
// kernel places client and flood on the same worker in some runs and on different ones in others).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { RelayProbe } from '../ops/support/relay-probe.ts';
import { PASS, USER, startStunnerd } from '../telemetry-e2e/support/stunnerd.ts';

const RUNS = 10;
const FLOOD = 60_000;

/** A separate process that sends FLOOD datagrams from one socket as fast as it can; resolves with the count sent. */
function flood(port: number): Promise<number> {
  const script = `
    const dgram = require('node:dgram');
    const crypto = require('node:crypto');
    const s = dgram.createSocket('udp4');
    const stun = (method, extra) => {
      const b = Buffer.alloc(20 + extra.length);
      b.writeUInt16BE(method, 0); b.writeUInt16BE(extra.length, 2); b.writeUInt32BE(0x2112a442, 4);
      crypto.randomFillSync(b, 8, 12); extra.copy(b, 20); return b;
    };
    // USERNAME "user1" and a MESSAGE-INTEGRITY of zeros: a wrong key.
    const attrs = Buffer.concat([Buffer.from([0, 6, 0, 5]), Buffer.from('user1\\0\\0\\0'), Buffer.from([0, 8, 0, 20]), Buffer.alloc(20)]);
    const shots = [crypto.randomBytes(100), Buffer.concat([Buffer.from([0x40, 0, 0, 60]), crypto.randomBytes(60)]),
      stun(0x0003, attrs), stun(0x0001, Buffer.alloc(0)), crypto.randomBytes(1200)];
    let sent = 0;
    s.bind(0, '127.0.0.1', () => {
      const burst = () => {
        for (let i = 0; i < 500 && sent < ${FLOOD}; i++, sent++) s.send(shots[sent % shots.length], ${port}, '127.0.0.1');
        if (sent < ${FLOOD}) setImmediate(burst);
        else s.close(() => process.stdout.write(String(sent)));
      };
      burst();
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`flooder exited ${code}`))));
  });
}

test(`-u 2: a flood of ${FLOOD} hostile datagrams from one source; a relaying client loses nothing, ${RUNS} runs of ${RUNS}`,
  { timeout: 300_000 }, async () => {
    const gw = await startStunnerd({
      listeners: [{ name: 'udp', routes: ['media'] }], clusters: [{ name: 'media', endpoints: ['127.0.0.1/32'] }],
      args: ['-u', '2'],
    });
    const results: string[] = [];
    let peer: Awaited<ReturnType<typeof startEchoPeer>> | undefined;
    try {
      peer = await startEchoPeer('127.0.0.1');
      for (let run = 1; run <= RUNS; run++) {
        const probe = await RelayProbe.open({ port: gw.ports.get('udp')!, peerPort: peer.port, username: USER, password: PASS });
        try {
          const stream = probe.stream(5);
          await new Promise((r) => setTimeout(r, 200));
          const t0 = performance.now();
          const sent = await flood(gw.ports.get('udp')!);
          const floodMs = performance.now() - t0;
          await new Promise((r) => setTimeout(r, 200));
          const { sent: mediaSent, echoed } = await stream.stop();
          results.push(`run ${run}: flood ${sent} in ${Math.round(floodMs)} ms; media ${echoed}/${mediaSent}`);
          assert.equal(sent, FLOOD);
          assert.equal(echoed, mediaSent, results.join('\n'));
        } finally {
          await probe.client.refresh(0).catch(() => 0);
          probe.close();
        }
      }
      process.stdout.write(`# ${results.join('\n# ')}\n`);
    } finally {
      await peer?.close();
      await gw.stop();
    }
  });
