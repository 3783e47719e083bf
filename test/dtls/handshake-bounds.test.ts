// Half-open handshakes: ClientHellos without a cookie leave no state at all; those that pass the
// cookie exchange and then fall silent are capped by maxHandshakes and expire after handshakeTimeoutMs,
// and their retransmission timers stop with them.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import type { DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';
import { boundSocket, buildClientHello, connectWeriftClient, eventually, hasOpenssl, makeCert, passCookieExchange, sleep } from './helpers.ts';
import type { CertPair } from './helpers.ts';

const missingTool = hasOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';
// A missing tool fails the run (CI installs it); it is never a silent skip.
if (missingTool) throw new Error(`required tool missing: ${missingTool}`);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('half-open handshakes', () => {
  let pair: CertPair;
  const sockets: Socket[] = [];
  before(() => {
    pair = makeCert('rsa', 'bounds');
  });
  after(() => {
    for (const s of sockets) s.close();
  });

  it('200 ClientHellos without a cookie, then silence: HelloVerifyRequests only, no state', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    try {
      const port = server.address().port;
      let replies = 0;
      for (let i = 0; i < 200; i++) {
        const s = await boundSocket();
        sockets.push(s);
        s.on('message', () => replies++);
        s.send(buildClientHello(), port, '127.0.0.1');
      }
      assert.ok(await eventually(() => replies === 200, 5000), `got ${replies} HelloVerifyRequests`);
      assert.equal(server.stats.helloVerifyRequests, 200);
      assert.equal(server.associationCount, 0);
      assert.equal(server.handshakeCount, 0);
      assert.equal(server.stats.handshakesStarted, 0);
    } finally {
      await server.close();
    }
  });

  it('a flood of 20 000 cookie-less ClientHellos does not grow the heap', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    const flooder = await boundSocket();
    try {
      const port = server.address().port;
      const hellos = Array.from({ length: 100 }, () => buildClientHello({ random: randomBytes(32) }));
      const before = heapAfterGc();
      // Batches of 50, each sent once the server has read the previous one: loopback drops whatever exceeds
      // the receive buffer, and how fast the server drains it depends on the machine, not on what is tested.
      for (let i = 0; i < 20_000; i++) {
        flooder.send(hellos[i % hellos.length], port, '127.0.0.1');
        if (i % 50 !== 49) continue;
        const deadline = Date.now() + 1000;
        while (server.stats.helloVerifyRequests < i + 1 - 100 && Date.now() < deadline) await sleep(1);
      }
      assert.ok(await eventually(() => server.stats.helloVerifyRequests > 15_000, 10_000), `answered ${server.stats.helloVerifyRequests}`);
      await sleep(200);
      const growth = heapAfterGc() - before;
      assert.equal(server.associationCount, 0);
      // Stateless: what remains is noise (socket buffers, JIT), not per-ClientHello state.
      assert.ok(growth < 4 * 1024 * 1024, `heap grew by ${growth} bytes`);
    } finally {
      flooder.close();
      await server.close();
    }
  });

  it('200 clients past the cookie exchange then silent: at most maxHandshakes live, all expire', async () => {
    const server = await DtlsServer.listen(
      { address: '127.0.0.1', port: 0 },
      // Long enough that none expires while the 200 pass the cookie exchange, one after another, on a busy
      // machine (with 1 s, some did, freeing slots for more than 50).
      { cert: pair.cert, key: pair.key, maxHandshakes: 50, handshakeTimeoutMs: 3000 },
    );
    try {
      const port = server.address().port;
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, server.handshakeCount)), 5);
      const halfOpen: Socket[] = [];
      for (let i = 0; i < 200; i++) {
        const s = await boundSocket();
        sockets.push(s);
        halfOpen.push(s);
        await passCookieExchange(s, port);
      }
      assert.ok(
        await eventually(() => server.stats.handshakesStarted + server.stats.handshakesRejected === 200, 5000),
        `started ${server.stats.handshakesStarted}, rejected ${server.stats.handshakesRejected}`,
      );
      clearInterval(sampler);
      peak = Math.max(peak, server.handshakeCount);
      assert.equal(server.stats.handshakesStarted, 50);
      assert.equal(server.stats.handshakesRejected, 150);
      assert.ok(peak <= 50, `peak ${peak}`);

      assert.ok(await eventually(() => server.associationCount === 0, 8000), `${server.associationCount} left`);
      assert.equal(server.handshakeCount, 0);
      assert.equal(server.stats.handshakesTimedOut, 50);

      // werift's flight-4 retransmission timers must not outlive the association.
      let late = 0;
      for (const s of halfOpen) s.on('message', () => late++);
      await sleep(2000);
      assert.equal(late, 0, 'datagrams sent after the handshakes expired');

      // The freed slots serve a real client.
      const echoed: DtlsAssociation[] = [];
      server.on('association', (a: DtlsAssociation) => {
        echoed.push(a);
        a.on('message', (m: Buffer) => a.send(m));
      });
      const peer = await connectWeriftClient(port);
      try {
        await peer.client.send(Buffer.from('after the storm'));
        assert.equal((await peer.nextData()).toString(), 'after the storm');
      } finally {
        peer.close();
      }
    } finally {
      await server.close();
    }
  });
});
