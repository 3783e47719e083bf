// Malformed input never takes the process down: random datagrams, lying record headers, ClientHellos
// with fuzzed extensions that reach the handshake library, forged and replayed records on a live
// association, and a 'message' listener that throws.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import type { DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';
import {
  TYPICAL_EXTENSIONS,
  boundSocket,
  buildClientHello,
  connectWeriftClient,
  cookieFromHelloVerifyRequest,
  eventually,
  hasOpenssl,
  makeCert,
  nextMessage,
  sleep,
} from './helpers.ts';
import type { CertPair } from './helpers.ts';

const missingTool = hasOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';
// A missing tool fails the run (CI installs it); it is never a silent skip.
if (missingTool) throw new Error(`required tool missing: ${missingTool}`);

/** A deterministic byte source, so a failure can be replayed. */
function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

function echo(server: DtlsServer): DtlsAssociation[] {
  const list: DtlsAssociation[] = [];
  server.on('association', (a: DtlsAssociation) => {
    list.push(a);
    a.on('message', (m: Buffer) => a.send(m));
  });
  return list;
}

describe('garbage', () => {
  let pair: CertPair;
  before(() => {
    pair = makeCert('ec', 'garbage');
  });

  it('random datagrams and lying headers from new peers are counted and dropped', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    echo(server);
    const s = await boundSocket();
    try {
      const port = server.address().port;
      const bytes = prng(7);
      const hello = buildClientHello();
      const crafted = [
        Buffer.alloc(0),
        Buffer.from([22]),
        Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), // length beyond the datagram
        Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]), // app data for no association
        Buffer.from([20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]), // ChangeCipherSpec out of the blue
        hello.subarray(0, 40),
        Buffer.concat([hello.subarray(0, 13), Buffer.alloc(12)]),
      ];
      let sent = 0;
      for (const d of crafted) {
        s.send(d, port, '127.0.0.1');
        sent++;
      }
      for (let i = 0; i < 3000; i++) {
        const d = bytes(bytes(2).readUInt16BE(0) % 1500);
        // Half of them start like a DTLS handshake record, to get past the first byte.
        if (i % 2 === 0 && d.length > 3) d.set([22, 0xfe, 0xfd], 0);
        s.send(d, port, '127.0.0.1');
        sent++;
        if (i % 50 === 49) await sleep(2);
      }
      assert.ok(await eventually(() => server.stats.malformedDatagrams >= sent * 0.9, 5000), `malformed ${server.stats.malformedDatagrams} of ${sent}`);
      assert.equal(server.associationCount, 0);
      assert.equal(server.stats.internalErrors, 0);

      const peer = await connectWeriftClient(port);
      await peer.client.send(Buffer.from('still here'));
      assert.equal((await peer.nextData()).toString(), 'still here');
      peer.close();
    } finally {
      s.close();
      await server.close();
    }
  });

  it('ClientHellos with a valid cookie and fuzzed extensions reach werift and fail without harm', async () => {
    const server = await DtlsServer.listen(
      { address: '127.0.0.1', port: 0 },
      { cert: pair.cert, key: pair.key, handshakeTimeoutMs: 500, maxHandshakes: 1000 },
    );
    echo(server);
    const sockets = [];
    try {
      const port = server.address().port;
      const bytes = prng(99);
      for (let i = 0; i < 300; i++) {
        // One socket per client: a second ClientHello from the same port would join the first's handshake.
        const s = await boundSocket();
        sockets.push(s);
        // The cookie does not cover the extensions, so mangled ones get past it.
        const extensions = Buffer.from(TYPICAL_EXTENSIONS);
        const flips = 1 + (bytes(1)[0] % 6);
        for (let f = 0; f < flips; f++) extensions[bytes(1)[0] % extensions.length] = bytes(1)[0];
        const random = randomBytes(32);
        const reply = nextMessage(s);
        s.send(buildClientHello({ random, extensions }), port, '127.0.0.1');
        const cookie = cookieFromHelloVerifyRequest(await reply);
        s.send(buildClientHello({ random, extensions, cookie, recordSequence: 1 }), port, '127.0.0.1');
      }
      assert.ok(await eventually(() => server.associationCount === 0, 5000));
      assert.equal(server.handshakeCount, 0);
      assert.ok(server.stats.handshakesStarted > 0);
      assert.equal(server.stats.internalErrors, 0);
      const peer = await connectWeriftClient(port);
      await peer.client.send(Buffer.from('ok'));
      assert.equal((await peer.nextData()).toString(), 'ok');
      peer.close();
    } finally {
      for (const s of sockets) s.close();
      await server.close();
    }
  });

  describe('on an established association', () => {
    let server: DtlsServer;
    let associations: DtlsAssociation[];
    before(async () => {
      server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
      associations = echo(server);
    });
    after(async () => {
      await server.close();
    });

    it('drops forged records, replays and garbage, and keeps serving', async () => {
      const peer = await connectWeriftClient(server.address().port);
      try {
        const received: string[] = [];
        assert.ok(await eventually(() => associations.length === 1, 2000));
        associations[0].on('message', (m: Buffer) => received.push(m.toString()));
        await peer.client.send(Buffer.from('one'));
        assert.equal((await peer.nextData()).toString(), 'one');
        const valid = peer.sent[peer.sent.length - 1];
        const port = server.address().port;

        peer.socket.send(valid, port, '127.0.0.1'); // replay
        const forged = Buffer.from(valid);
        forged[forged.length - 1] ^= 0xff;
        forged.writeUIntBE(1000, 5, 6); // fresh sequence number, broken tag
        peer.socket.send(forged, port, '127.0.0.1');
        const bytes = prng(3);
        for (let i = 0; i < 500; i++) {
          const d = bytes(1 + (bytes(1)[0] % 200));
          if (i % 3 === 0) d.set([23, 0xfe, 0xfd, 0, 1].slice(0, d.length), 0);
          peer.socket.send(d, port, '127.0.0.1');
          if (i % 50 === 49) await sleep(2); // past the socket's receive buffer, loopback drops
        }
        await peer.client.send(Buffer.from('two'));
        assert.equal((await peer.nextData()).toString(), 'two');
        assert.ok(await eventually(() => server.stats.replayedRecords >= 1 && server.stats.decryptFailures >= 1, 2000));
        assert.deepEqual(received, ['one', 'two'], 'the replay must not be delivered');
        assert.equal(server.associationCount, 1);
      } finally {
        peer.close();
      }
    });

    it("survives a 'message' listener that throws, reporting it on the association", async () => {
      const peer = await connectWeriftClient(server.address().port);
      try {
        assert.ok(await eventually(() => associations.length === 2, 2000));
        const association = associations[1];
        const errors: unknown[] = [];
        association.on('error', (err: unknown) => errors.push(err));
        association.prependListener('message', (m: Buffer) => {
          if (m.toString() === 'boom') throw new Error('listener bug');
        });
        await peer.client.send(Buffer.from('boom'));
        assert.ok(await eventually(() => errors.length === 1, 2000));
        assert.equal((errors[0] as Error).message, 'listener bug');
        await peer.client.send(Buffer.from('after'));
        assert.equal((await peer.nextData()).toString(), 'after');
      } finally {
        peer.close();
      }
    });
  });
});
