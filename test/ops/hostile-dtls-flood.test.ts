// A DTLS ClientHello flood against a running stunnerd (2 workers) while a legitimate DTLS client relays. Each
// ClientHello without a cookie, or with a forged one, is answered with a HelloVerifyRequest and leaves no state
// (RFC 6347 §4.2.1): descriptors stay as they were and memory flat, while coturn's turnutils_uclient completes
// its handshakes in the middle of the flood and loses none of its messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { freeUdpPort } from '../helpers/process.ts';
import { base64, makeTestCert } from '../helpers/tls-cert.ts';
import { turnutilsPeer, uclient } from '../helpers/uclient.ts';
import { buildClientHello } from '../dtls/helpers.ts';
import { PASS, USER, baseConfig, freePorts, sleep, startDaemon, tempDir, writeConfig } from './support/daemon.ts';

const SOURCES = 128;
/** Each source sends one ClientHello per tick. */
const TICK_MS = 10;

/** Floods `port` from SOURCES sockets with the given datagrams in turn until told to stop; then reports. */
const FLOODER = `
const { createSocket } = require('node:dgram');
const { parentPort, workerData } = require('node:worker_threads');
const { port, sources, tickMs, datagrams } = workerData;
const sockets = [];
let sent = 0, answers = 0, bound = 0, timer;
for (let i = 0; i < sources; i++) {
  const s = createSocket('udp4');
  s.on('message', () => answers++);
  s.on('error', () => {});
  s.bind(0, '127.0.0.30', () => {
    if (++bound === sources) { timer = setInterval(tick, tickMs); parentPort.postMessage('flooding'); }
  });
  sockets.push(s);
}
function tick() {
  for (const s of sockets) { s.send(datagrams[sent % datagrams.length], port, '127.0.0.1'); sent++; }
}
parentPort.on('message', () => {
  clearInterval(timer);
  setTimeout(() => parentPort.postMessage({ sent, answers }), 300);
});
`;

const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const rssMiB = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test('DTLS ClientHello flood (no cookie, forged cookies) while a DTLS client relays: no state, no loss', async () => {
  const ports = await freePorts();
  const dtlsPort = await freeUdpPort();
  const { cert, key } = makeTestCert();
  const file = join(tempDir('hostile-dtls'), 'config.yaml');
  const c = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  writeConfig(file, {
    ...c,
    listeners: [...(c.listeners as Record<string, unknown>[]), {
      name: 'dtls', protocol: 'TURN-DTLS', address: '127.0.0.1', port: dtlsPort, routes: ['loopback'],
      cert: base64(cert), key: base64(key),
    }],
  });
  const peerPort = await freeUdpPort();
  const peer = await turnutilsPeer('127.0.0.1', peerPort);
  const d = await startDaemon({ args: ['-c', file, '--udp-thread-num', '2'], healthPort: ports.health, metricsPort: ports.metrics });
  // Without a cookie; with cookies of the right length that the server never issued.
  const datagrams = [
    buildClientHello(), buildClientHello({ cookie: randomBytes(32), recordSequence: 1 }),
    buildClientHello({ cookie: randomBytes(20), recordSequence: 1 }),
  ];
  const flooder = new Worker(FLOODER, { eval: true, workerData: { port: dtlsPort, sources: SOURCES, tickMs: TICK_MS, datagrams } });
  const flooding = new Promise((resolve) => flooder.once('message', resolve));
  let stopped = false;
  const stop = async (): Promise<{ sent: number; answers: number }> => {
    stopped = true;
    const report = new Promise<{ sent: number; answers: number }>((resolve) => flooder.on('message', (m) => {
      if (typeof m === 'object') resolve(m as { sent: number; answers: number });
    }));
    flooder.postMessage('stop');
    return report;
  };
  try {
    await sleep(1000);
    const idle = { fds: fdsOf(d.pid), rss: rssMiB(d.pid) };
    await flooding;
    await sleep(3000);
    const flooded = { fds: fdsOf(d.pid), rss: rssMiB(d.pid) };

    // The legitimate client: 10 DTLS sessions, 250 messages each at 50/s, handshakes made during the flood.
    const r = await uclient({
      port: dtlsPort, transport: 'dtls', user: USER, password: PASS, sessions: 10, messages: 250, intervalMs: 20,
      size: 160, peer: { address: '127.0.0.1', port: peerPort }, timeoutS: 60,
    });
    const { sent, answers } = await stop();
    process.stdout.write(`# flood: ${sent} ClientHellos from ${SOURCES} ports, ${answers} HelloVerifyRequests back; ` +
      `descriptors ${idle.fds} idle -> ${flooded.fds} flooded; RSS ${idle.rss.toFixed(0)} -> ${flooded.rss.toFixed(0)} MiB; ` +
      `uclient sent ${r.sent}, received ${r.received}, lost ${r.lost}\n`);
    assert.deepEqual(r.errors, [], r.output.slice(-2000) + d.output().slice(-2000));
    assert.equal(r.sent, 2500);
    assert.equal(r.received, r.sent, 'the legitimate client lost nothing');
    // Stateless: no descriptor, no association for the flood. Every ClientHello, with a forged cookie too, is
    // answered with a HelloVerifyRequest (what the kernel does not drop from the flooded socket's queue).
    assert.ok(flooded.fds <= idle.fds + 2, `descriptors ${idle.fds} -> ${flooded.fds}`);
    assert.ok(flooded.rss - idle.rss < 40, `RSS ${idle.rss} -> ${flooded.rss} MiB`);
    assert.ok(answers > sent / 2, `${answers} answers to ${sent} ClientHellos`);
    assert.ok(d.alive());
    assert.equal((await d.status()).status, 'READY');
  } finally {
    if (!stopped) await stop().catch(() => undefined);
    await flooder.terminate();
    await d.kill();
    await peer.stop();
  }
});
