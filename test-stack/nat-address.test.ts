// A listener address the host does not have — what stunner-gateway-operator renders when a Gateway advertises a
// node's external IP or a load balancer's, with NAT in front: as upstream stunnerd, the gateway listens on every
// address and advertises that one in XOR-RELAYED-ADDRESS. The wildcard binds are why this runs under
// `npm run test:stack`, in a network namespace of its own (.ci/netns.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TurnClient } from '../src/client/turn-client.ts';
import { Daemon } from '../src/daemon/daemon.ts';
import { freeUdpPort } from '../test/helpers/process.ts';
import { startEchoPeer } from '../test/helpers/udp-echo.ts';
import { echoPaced } from '../test/helpers/wire.ts';

const PUBLIC = '203.0.113.7';

for (const workers of [1, 2]) {
  test(`-u ${workers}: listener address ${PUBLIC} (not this host's): bound on every address, advertised as the relay address`,
    { timeout: 60_000 }, async () => {
      if (process.env.STUNNER_IN_NETNS !== '1') throw new Error('run under bash .ci/netns.sh (npm run test:stack): this test binds the wildcard');
      const dir = mkdtempSync(join(tmpdir(), 'nat-address-'));
      const port = await freeUdpPort();
      const file = join(dir, 'stunnerd.yaml');
      writeFileSync(file, `version: v1
admin: { name: nat, loglevel: "all:WARN", metrics_endpoint: "", healthcheck_endpoint: "" }
auth: { type: static, realm: nat.example.org, credentials: { username: user1, password: pass1 } }
listeners:
  - { name: udp, protocol: TURN-UDP, address: ${PUBLIC}, port: ${port}, routes: [media] }
clusters:
  - { name: media, type: STATIC, endpoints: [127.0.0.1/32] }
`);
      const daemon = new Daemon({ configPath: file, logFormat: 'text', workers, logLevel: 'all:ERROR' });
      const echo = await startEchoPeer('127.0.0.1');
      let client: TurnClient | undefined;
      try {
        await daemon.start();
        // The client reaches it on an address the host has (NAT would translate the public one to it).
        client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: 'user1', password: 'pass1',
          rtoMs: 2000 });
        const { relayed: [relayed] } = await client.allocate();
        assert.equal(relayed.address, PUBLIC);
        await client.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: echo.port });
        await echoPaced(client, 0x4000, 20, 100, 5);
        // Every message reached the media server through the relay, and came back.
        assert.equal(echo.received, 20);
      } finally {
        client?.close();
        await daemon.stop();
        await echo.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
}
