// Slowloris against the running process's TCP and TLS listeners with their default bounds
// (src/server/stream-limits.ts): connections that trickle a byte now and then but never complete a STUN message
// (TCP) or a TLS handshake (TLS). Each is closed by the server — TLS at the 10 s handshake timeout, TCP at the
// 30 s idle timeout — so the open descriptors go back to where they were while a legitimate TCP client that
// allocated keeps its connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { TurnClient } from '../../src/client/turn-client.ts';
import { freeTcpPort } from '../helpers/process.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';
import { PASS, USER, baseConfig, freePorts, sleep, startDaemon, tempDir, writeConfig } from './support/daemon.ts';

const CONNECTIONS = 300;

test(`slowloris: ${CONNECTIONS} trickling connections each on TCP and TLS are closed by the server's timeouts`, async () => {
  const ports = await freePorts();
  const [tcpPort, tlsPort] = [await freeTcpPort(), await freeTcpPort()];
  const cert = makeTestCert();
  const file = join(tempDir('slowloris'), 'config.yaml');
  const c = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  writeConfig(file, {
    ...c,
    listeners: [...c.listeners,
      { name: 'tcp', protocol: 'TURN-TCP', address: '127.0.0.1', port: tcpPort, routes: ['loopback'] },
      { name: 'tls', protocol: 'TURN-TLS', address: '127.0.0.1', port: tlsPort, routes: ['loopback'], cert: b64(cert.cert), key: b64(cert.key) }],
  });
  const d = await startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics });
  const fds = () => readdirSync(`/proc/${d.pid}/fd`).length;
  const sockets: Socket[] = [];
  let legit: TurnClient | undefined;
  let trickle: NodeJS.Timeout | undefined;
  try {
    legit = await TurnClient.connect({ kind: 'tcp', host: '127.0.0.1', port: tcpPort, username: USER, password: PASS });
    await legit.allocate();
    await sleep(300);
    const idle = fds();
    const closedAt = new Map<Socket, number>();
    const t0 = performance.now();
    // What each connection trickles, a byte at a time, never complete within its timeout. TCP: an Allocate
    // request announcing 256 bytes of attributes (20 + 256 bytes at a byte per 2 s: 9 minutes). TLS: a handshake
    // record header announcing 16 KiB, then its body.
    const stunPrefix = Buffer.concat([Buffer.from([0x00, 0x03, 0x01, 0x00, 0x21, 0x12, 0xa4, 0x42]), Buffer.alloc(12, 7), Buffer.alloc(256)]);
    const tlsPrefix = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(0x4000)]);
    const sent = new Map<Socket, number>();
    const drip = (s: Socket, prefix: Buffer) => {
      const i = sent.get(s) ?? 0;
      s.write(prefix.subarray(i, i + 1));
      sent.set(s, i + 1);
    };
    const open = (port: number) => new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        // TLS: the record header at once (the handshake timer runs either way), then the trickle.
        if (port === tlsPort) {
          s.write(tlsPrefix.subarray(0, 5));
          sent.set(s, 5);
        } else {
          drip(s, stunPrefix);
        }
        resolve();
      });
      s.on('error', () => {});
      s.on('close', () => closedAt.set(s, (performance.now() - t0) / 1000));
      s.once('error', reject);
      sockets.push(s);
    });
    for (let i = 0; i < CONNECTIONS; i++) await Promise.all([open(tcpPort), open(tlsPort)]);
    const opened = (performance.now() - t0) / 1000;
    await sleep(500);
    const held = fds() - idle;
    // A byte every 2 s on every connection still open: data, but never a complete frame or TLS record.
    trickle = setInterval(() => {
      for (const [i, s] of sockets.entries()) if (!s.destroyed) drip(s, i % 2 === 0 ? stunPrefix : tlsPrefix);
    }, 2000);
    const openAfter = async (s: number) => {
      await sleep(s * 1000 - (performance.now() - t0));
      return { tcp: sockets.filter((x, i) => i % 2 === 0 && !closedAt.has(x)).length,
        tls: sockets.filter((x, i) => i % 2 === 1 && !closedAt.has(x)).length, fds: fds() - idle };
    };
    // Checked before the first handshake timeout, after the last one (with 2 s for the sweep and a busy machine),
    // and after the last idle timeout (3 s).
    const at8 = await openAfter(8);
    const atTls = await openAfter(opened + 12);
    const atTcp = await openAfter(opened + 33);
    const last = (odd: number) => Math.max(...sockets.filter((_, i) => i % 2 === odd).map((x) => closedAt.get(x) ?? Infinity));
    process.stdout.write(`# slowloris: ${CONNECTIONS} TCP + ${CONNECTIONS} TLS held ${held} descriptors; ` +
      `opened in ${opened.toFixed(1)} s; open at 8 s ${JSON.stringify(at8)}, ${(opened + 12).toFixed(0)} s ${JSON.stringify(atTls)}, ` +
      `${(opened + 33).toFixed(0)} s ${JSON.stringify(atTcp)}; ` +
      `last TLS closed at ${last(1).toFixed(1)} s, last TCP at ${last(0).toFixed(1)} s\n`);
    assert.ok(held >= 1.9 * CONNECTIONS, `the server held ${held} descriptors for ${2 * CONNECTIONS} connections`);
    assert.deepEqual([at8.tcp, at8.tls], [CONNECTIONS, CONNECTIONS], 'nothing closed before the handshake timeout');
    assert.deepEqual([atTls.tcp, atTls.tls], [CONNECTIONS, 0], 'TLS handshakes dropped at 10 s, TCP still within its idle time');
    assert.deepEqual([atTcp.tcp, atTcp.tls], [0, 0], 'TCP closed at the 30 s idle timeout despite the trickle');
    assert.ok(atTcp.fds <= 2, `descriptors back to idle (${atTcp.fds} above)`);
    // The legitimate client's connection holds an allocation: not idle, still answered.
    assert.ok(await legit.refresh() > 0);
  } finally {
    clearInterval(trickle);
    for (const s of sockets) s.destroy();
    legit?.close();
    await d.kill();
  }
});
