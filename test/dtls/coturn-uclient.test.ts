// coturn's turnutils_uclient -S (DTLS) against the bare DTLS server: its handshake completes with RSA
// and ECDSA certificates and its first TURN request (Allocate) arrives decrypted. The TURN answer is
// the TURN server's job; this only proves the DTLS layer.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import type { DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';
import { eventually, hasOpenssl, makeCert } from './helpers.ts';

function hasUclient(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v turnutils_uclient'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missingTool = !hasOpenssl() ? 'the openssl CLI is not installed' : !hasUclient() ? 'coturn (turnutils_uclient) is not installed' : false;
// A missing tool fails the run (CI installs it); it is never a silent skip.
if (missingTool) throw new Error(`required tool missing: ${missingTool}`);
const STUN_MAGIC_COOKIE = 0x2112a442;

describe('turnutils_uclient -S', () => {
  for (const kind of ['rsa', 'ec'] as const) {
    it(`completes the DTLS handshake with an ${kind.toUpperCase()} certificate and delivers its Allocate`, async () => {
      const pair = makeCert(kind, `uclient-${kind}`);
      const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert: pair.cert, key: pair.key });
      const requests: Buffer[] = [];
      const suites: string[] = [];
      server.on('association', (a: DtlsAssociation) => {
        suites.push(a.cipherSuite);
        a.on('message', (m: Buffer) => requests.push(m));
      });
      const uclient = spawn('turnutils_uclient', ['-S', '-y', '-n', '1', '-m', '1', '-l', '100', '-u', 'test', '-w', 'test', '-p', String(server.address().port), '127.0.0.1'], {
        stdio: 'ignore',
      });
      try {
        assert.ok(await eventually(() => requests.length > 0, 8000), 'no TURN request arrived');
        assert.equal(suites[0], kind === 'rsa' ? 'ECDHE-RSA-AES128-GCM-SHA256' : 'ECDHE-ECDSA-AES128-GCM-SHA256');
        const first = requests[0];
        assert.equal(first.readUInt16BE(0), 0x0003, 'an Allocate request');
        assert.equal(first.readUInt32BE(4), STUN_MAGIC_COOKIE);
        assert.equal(first.length, 20 + first.readUInt16BE(2));
        assert.equal(server.stats.decryptFailures, 0);
      } finally {
        uclient.kill('SIGKILL');
        await server.close();
      }
    });
  }
});
