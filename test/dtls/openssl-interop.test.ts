// Interop with OpenSSL's DTLS client (`openssl s_client -dtls1_2`), the stack coturn's
// turnutils_uclient uses: RSA and ECDSA certificates, echo both ways, close both ways, a fragmented
// certificate, lost flights, a client restarting on the same port, and a client with no suite in common.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import type { DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';
import { boundSocket, eventually, hasOpenssl, makeCert, makeChain, sleep } from './helpers.ts';
import type { CertPair } from './helpers.ts';

const missingTool = hasOpenssl() ? false : 'the openssl CLI is not installed';
// A missing tool fails the run (CI installs it); it is never a silent skip.
if (missingTool) throw new Error(`required tool missing: ${missingTool}`);

/** An `openssl s_client` whose stdout and stderr are collected as text. */
class OpensslClient {
  readonly process: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(port: number, extraArgs: readonly string[] = []) {
    this.process = spawn('openssl', ['s_client', '-dtls1_2', '-brief', '-connect', `127.0.0.1:${port}`, ...extraArgs]);
    this.process.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.process.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = once(this.process, 'exit').then(([code]) => code as number | null);
  }

  async waitFor(text: string, inStderr = false, timeoutMs = 5000): Promise<void> {
    const ok = await eventually(() => (inStderr ? this.stderr : this.stdout).includes(text), timeoutMs);
    assert.ok(ok, `openssl never printed ${JSON.stringify(text)}; stdout=${JSON.stringify(this.stdout)} stderr=${JSON.stringify(this.stderr)}`);
  }

  kill(): void {
    if (this.process.exitCode === null) this.process.kill('SIGKILL');
  }
}

/** An echo application: each message comes back prefixed with "echo:". */
function startEcho(server: DtlsServer): DtlsAssociation[] {
  const associations: DtlsAssociation[] = [];
  server.on('association', (association: DtlsAssociation) => {
    associations.push(association);
    association.on('message', (m: Buffer) => association.send(Buffer.concat([Buffer.from('echo:'), m])));
  });
  return associations;
}

for (const kind of ['rsa', 'ec'] as const) {
  const suite = kind === 'rsa' ? 'ECDHE-RSA-AES128-GCM-SHA256' : 'ECDHE-ECDSA-AES128-GCM-SHA256';
  describe(`openssl s_client with an ${kind.toUpperCase()} certificate`, () => {
    let pair: CertPair;
    let server: DtlsServer;
    let associations: DtlsAssociation[];
    before(async () => {
      pair = makeCert(kind, `dtls-${kind}`);
      server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
      associations = startEcho(server);
    });
    after(async () => {
      await server.close();
    });

    it(`negotiates ${suite} and echoes lines both ways, then the client closes`, async () => {
      const client = new OpensslClient(server.address().port);
      try {
        await client.waitFor('CONNECTION ESTABLISHED', true);
        assert.match(client.stderr, /Protocol version: DTLSv1\.2/);
        assert.match(client.stderr, new RegExp(`Ciphersuite: ${suite}`));
        assert.ok(await eventually(() => associations.length === 1, 2000));
        const association = associations[0];
        assert.equal(association.cipherSuite, suite);
        assert.equal(association.remoteAddress, '127.0.0.1');
        const lines = Array.from({ length: 20 }, (_, i) => `line ${i} ${'x'.repeat(i * 50)}`);
        for (const line of lines) {
          client.process.stdin.write(`${line}\n`);
          await client.waitFor(`echo:${line}\n`);
        }
        assert.equal(client.stdout, lines.map((l) => `echo:${l}\n`).join(''));
        const closed = once(association, 'close');
        client.process.stdin.end();
        const [reason] = await closed;
        assert.equal(reason, 'peer');
        assert.equal(server.associationCount, 0);
        assert.equal(server.stats.handshakesCompleted, 1);
        assert.equal(server.stats.decryptFailures, 0);
        assert.equal(server.stats.replayedRecords, 0);
      } finally {
        client.kill();
      }
    });

    it('sends close_notify on association.close(), and openssl exits', async () => {
      const client = new OpensslClient(server.address().port);
      try {
        await client.waitFor('CONNECTION ESTABLISHED', true);
        assert.ok(await eventually(() => associations.length === 2, 2000));
        const association = associations[1];
        client.process.stdin.write('ping\n');
        await client.waitFor('echo:ping\n');
        association.close();
        const code = await Promise.race([client.exited, sleep(5000).then(() => 'timeout')]);
        assert.notEqual(code, 'timeout', 'openssl did not see the close_notify');
        assert.equal(server.associationCount, 0);
      } finally {
        client.kill();
      }
    });
  });
}

describe('openssl s_client edge cases', () => {
  it('verifies a CA-issued certificate: the whole chain is sent; the leaf alone does not verify', async () => {
    const c = makeChain('dtls-chain');
    const der = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    assert.ok(der(c.leaf).length + der(c.intermediate).length > 1240, 'the chain spans more than one werift fragment');
    for (const [cert, verifies] of [[c.chain, true], [c.leaf, false]] as const) {
      const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert, key: c.key });
      startEcho(server);
      const client = new OpensslClient(server.address().port, ['-CAfile', c.rootFile, '-verify_return_error']);
      try {
        if (verifies) {
          await client.waitFor('CONNECTION ESTABLISHED', true);
          assert.doesNotMatch(client.stderr, /Verification error/);
          client.process.stdin.write('chain\n');
          await client.waitFor('echo:chain\n');
        } else {
          await client.waitFor('unable to get local issuer certificate', true);
          assert.doesNotMatch(client.stderr, /CONNECTION ESTABLISHED/);
        }
      } finally {
        client.kill();
        await server.close();
      }
    }
  });

  for (const group of ['X25519', 'P-256'] as const) {
    it(`completes the key exchange on ${group} alone (node:crypto, not werift's JavaScript)`, async () => {
      // With only X25519 offered, a P-256 ECDSA certificate is not acceptable to OpenSSL: RSA there.
      const pair = makeCert(group === 'X25519' ? 'rsa' : 'ec', `group-${group}`);
      const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
      startEcho(server);
      const client = new OpensslClient(server.address().port, ['-groups', group]);
      try {
        await client.waitFor('CONNECTION ESTABLISHED', true);
        assert.match(client.stderr, new RegExp(`(Server Temp Key|Peer Temp Key): ${group === 'P-256' ? '(ECDH, )?(P-256|prime256v1)' : 'X25519'}`));
        // (A line starting with "k" would be s_client's KEYUPDATE command.)
        client.process.stdin.write('ping\n');
        await client.waitFor('echo:ping\n');
      } finally {
        client.kill();
        await server.close();
      }
    });
  }

  it('completes with a 4096-bit RSA certificate, which werift fragments across records', async () => {
    const pair = makeCert('rsa', 'big', 4096);
    const der = Buffer.from(pair.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    assert.ok(der.length > 1240, `the certificate (${der.length} B) must exceed werift's 1240-byte fragment`);
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    startEcho(server);
    const client = new OpensslClient(server.address().port);
    try {
      await client.waitFor('CONNECTION ESTABLISHED', true);
      client.process.stdin.write('big\n');
      await client.waitFor('echo:big\n');
    } finally {
      client.kill();
      await server.close();
    }
  });

  it('recovers from a lost flight 4 and a lost Finished by retransmission (RFC 6347 §4.2.4)', async () => {
    const pair = makeCert('rsa', 'lossy');
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    startEcho(server);
    // A loopback proxy that drops the first ServerHello datagram and the first epoch-1 datagram
    // (our Finished) on their way to the client.
    const proxy = await boundSocket();
    const upstream = await boundSocket();
    let clientPort = 0;
    const dropped = { serverHello: 0, finished: 0 };
    proxy.on('message', (m: Buffer, r) => {
      clientPort = r.port;
      upstream.send(m, server.address().port, '127.0.0.1');
    });
    upstream.on('message', (m: Buffer) => {
      if (m[0] === 22 && m.readUInt16BE(3) === 0 && m[13] === 2 && dropped.serverHello === 0) {
        dropped.serverHello++;
        return;
      }
      if (m.readUInt16BE(3) === 1 && dropped.finished === 0) {
        dropped.finished++;
        return;
      }
      proxy.send(m, clientPort, '127.0.0.1');
    });
    const client = new OpensslClient(proxy.address().port);
    try {
      await client.waitFor('CONNECTION ESTABLISHED', true, 15_000);
      client.process.stdin.write('after loss\n');
      await client.waitFor('echo:after loss\n');
      assert.deepEqual(dropped, { serverHello: 1, finished: 1 });
      assert.equal(server.stats.handshakesCompleted, 1);
    } finally {
      client.kill();
      proxy.close();
      upstream.close();
      await server.close();
    }
  });

  it('replaces the association when a client restarts on the same port (RFC 6347 §4.2.8)', async () => {
    const pair = makeCert('ec', 'restart');
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    const associations = startEcho(server);
    const reasons: string[] = [];
    server.on('association', (a: DtlsAssociation) => a.on('close', (r: string) => reasons.push(r)));
    const localPort = 20000 + Math.floor(Math.random() * 20000);
    const first = new OpensslClient(server.address().port, ['-bind', `127.0.0.1:${localPort}`]);
    let second: OpensslClient | undefined;
    try {
      await first.waitFor('CONNECTION ESTABLISHED', true);
      first.process.stdin.write('one\n');
      await first.waitFor('echo:one\n');
      first.kill(); // no close_notify: the server still holds the association
      await first.exited;
      assert.equal(server.associationCount, 1);
      second = new OpensslClient(server.address().port, ['-bind', `127.0.0.1:${localPort}`]);
      await second.waitFor('CONNECTION ESTABLISHED', true);
      second.process.stdin.write('two\n');
      await second.waitFor('echo:two\n');
      assert.equal(associations.length, 2);
      assert.deepEqual(reasons, ['replaced']);
      assert.equal(server.associationCount, 1);
    } finally {
      first.kill();
      second?.kill();
      await server.close();
    }
  });

  it('fails the handshake cleanly when the client offers no suite the server has', async () => {
    const pair = makeCert('rsa', 'nosuite');
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
    const errors: unknown[] = [];
    server.on('handshakeError', (err: unknown) => errors.push(err));
    const client = new OpensslClient(server.address().port, ['-cipher', 'ECDHE-RSA-AES256-GCM-SHA384']);
    try {
      const code = await Promise.race([client.exited, sleep(5000).then(() => 'timeout')]);
      assert.notEqual(code, 'timeout');
      assert.notEqual(code, 0);
      assert.match(client.stderr, /handshake failure/);
      assert.equal(server.stats.handshakesFailed, 1);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as { code?: string }).code, 'ERR_DTLS_HANDSHAKE');
      assert.equal(server.associationCount, 0);
      assert.equal(server.handshakeCount, 0);
    } finally {
      client.kill();
      await server.close();
    }
  });
});
