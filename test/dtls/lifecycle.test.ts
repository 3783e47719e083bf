// Association and server lifecycle: idle timeout, close from either side, server close, credential
// reload for new handshakes only, and eager validation of options and credentials.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { DtlsError, DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import type { DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';
import { connectWeriftClient, eventually, hasOpenssl, makeCert, makeChain, sleep } from './helpers.ts';
import type { CertPair } from './helpers.ts';

const missingTool = hasOpenssl() ? false : 'the openssl CLI is not installed (it makes the test certificates)';
// A missing tool fails the run (CI installs it); it is never a silent skip.
if (missingTool) throw new Error(`required tool missing: ${missingTool}`);

function echo(server: DtlsServer): DtlsAssociation[] {
  const list: DtlsAssociation[] = [];
  server.on('association', (a: DtlsAssociation) => {
    list.push(a);
    a.on('message', (m: Buffer) => a.send(m));
  });
  return list;
}

function derOf(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

describe('lifecycle', () => {
  let rsa: CertPair;
  let ec: CertPair;
  before(() => {
    rsa = makeCert('rsa', 'first');
    ec = makeCert('ec', 'second');
  });

  it('closes an association idle for idleTimeoutMs, and keeps a busy one', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: ec.cert, key: ec.key, idleTimeoutMs: 400 });
    const associations = echo(server);
    const busy = await connectWeriftClient(server.address().port);
    const idle = await connectWeriftClient(server.address().port);
    try {
      assert.ok(await eventually(() => associations.length === 2, 2000));
      const reasons = new Map<DtlsAssociation, string>();
      for (const a of associations) a.on('close', (r: string) => reasons.set(a, r));
      const started = Date.now();
      while (Date.now() - started < 1500) {
        await busy.client.send(Buffer.from('tick'));
        await busy.nextData();
        await sleep(100);
      }
      assert.equal(server.associationCount, 1, 'only the busy association is left');
      assert.deepEqual([...reasons.values()], ['idle']);
      assert.equal(server.stats.associationsIdleClosed, 1);
      await idle.closed; // the idle peer got a close_notify
    } finally {
      busy.close();
      idle.close();
      await server.close();
    }
  });

  it('server.close() notifies every association and frees the port', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: ec.cert, key: ec.key });
    const associations = echo(server);
    const port = server.address().port;
    const peers = [await connectWeriftClient(port), await connectWeriftClient(port)];
    try {
      assert.ok(await eventually(() => associations.length === 2, 2000));
      const closes = associations.map((a) => once(a, 'close'));
      await server.close();
      assert.deepEqual((await Promise.all(closes)).map(([r]) => r), ['server-closed', 'server-closed']);
      await Promise.all(peers.map((p) => p.closed));
      const again = await DtlsServer.listen({ address: '127.0.0.1', port }, { cert: ec.cert, key: ec.key });
      await again.close();
    } finally {
      for (const p of peers) p.close();
    }
  });

  it('updateCredentials serves new handshakes with the new certificate; running ones go on', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: rsa.cert, key: rsa.key });
    const associations = echo(server);
    const port = server.address().port;
    const before = await connectWeriftClient(port);
    try {
      assert.deepEqual(before.client.remoteCertificate, derOf(rsa.cert));
      assert.throws(
        () => server.updateCredentials(ec.cert, rsa.key),
        (err: unknown) => err instanceof DtlsError && err.code === 'ERR_DTLS_KEY_MISMATCH' && err.field === 'key',
      );
      server.updateCredentials(ec.cert, ec.key);
      const after = await connectWeriftClient(port);
      try {
        assert.deepEqual(after.client.remoteCertificate, derOf(ec.cert));
        assert.equal(associations[1].cipherSuite, 'ECDHE-ECDSA-AES128-GCM-SHA256');
        await before.client.send(Buffer.from('old'));
        assert.equal((await before.nextData()).toString(), 'old');
        assert.equal(associations[0].cipherSuite, 'ECDHE-RSA-AES128-GCM-SHA256');
      } finally {
        after.close();
      }
    } finally {
      before.close();
      await server.close();
    }
  });

  it('refuses oversized messages on send()', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: ec.cert, key: ec.key });
    const associations = echo(server);
    const peer = await connectWeriftClient(server.address().port);
    try {
      assert.ok(await eventually(() => associations.length === 1, 2000));
      assert.throws(() => associations[0].send(Buffer.alloc(16385)), { code: 'ERR_DTLS_MESSAGE_TOO_LARGE' });
      associations[0].send(Buffer.alloc(16384, 1));
      assert.equal((await peer.nextData()).length, 16384);
    } finally {
      peer.close();
      await server.close();
    }
  });

  it('validates options and credentials before binding', async () => {
    const at = { address: '127.0.0.1', port: 0 };
    const rejects = async (promise: Promise<unknown>, code: string, field: string): Promise<void> => {
      await assert.rejects(promise, (err: unknown) => err instanceof DtlsError && err.code === code && err.field === field);
    };
    await rejects(DtlsServer.listen(at, { cert: 'nope', key: ec.key }), 'ERR_DTLS_CERTIFICATE', 'cert');
    // A chain must list the leaf first, then each issuer: the intermediate first is refused, naming the order.
    const c = makeChain('order');
    await assert.rejects(DtlsServer.listen(at, { cert: c.intermediate + c.leaf, key: c.key }),
      (err: unknown) => err instanceof DtlsError && err.field === 'cert' && /did not issue certificate 1; list the leaf first/.test(err.message));
    await rejects(DtlsServer.listen(at, { cert: c.chain + ec.cert, key: c.key }), 'ERR_DTLS_CERTIFICATE', 'cert');
    await rejects(DtlsServer.listen(at, { cert: `${c.leaf}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, key: c.key }),
      'ERR_DTLS_CERTIFICATE', 'cert');
    await rejects(DtlsServer.listen(at, { cert: ec.cert, key: 'nope' }), 'ERR_DTLS_KEY', 'key');
    await rejects(DtlsServer.listen(at, { cert: ec.cert, key: rsa.key }), 'ERR_DTLS_KEY_MISMATCH', 'key');
    await rejects(DtlsServer.listen(at, { cert: ec.cert, key: ec.key, maxHandshakes: 0 }), 'ERR_DTLS_OPTION', 'maxHandshakes');
    await rejects(DtlsServer.listen(at, { cert: ec.cert, key: ec.key, idleTimeoutMs: 1.5 }), 'ERR_DTLS_OPTION', 'idleTimeoutMs');
    await rejects(DtlsServer.listen({ address: '127.0.0.1', port: 70000 }, { cert: ec.cert, key: ec.key }), 'ERR_DTLS_OPTION', 'port');
  });
});
