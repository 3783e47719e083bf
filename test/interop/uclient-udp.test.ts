// Interop with coturn's turnutils_uclient over TURN-UDP, against stunnerd started from a YAML file as a
// user would start it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrapedValue } from '../helpers/scrape.ts';
import { freeTcpPort, freeUdpPort, stunnerd, type Proc } from '../helpers/process.ts';
import { turnutilsPeer, uclient } from '../helpers/uclient.ts';

/**
 * uclient answers a 437 by retrying the Allocate from a new socket ("trying allocate again 437"). It meets one
 * when the kernel hands its new socket a local port that an earlier uclient socket used: uclient leaves some of
 * its allocations behind, so that 5-tuple still has an allocation here, and §7.2 requires 437 for it (measured:
 * in none of the first 10 runs of 20 sessions against a fresh gateway, then in 35 of the next 50 as left-behind
 * allocations piled up).
 * That is recovered and does not lose data; every other error code fails the test.
 */
const unexpected = (errors: string[]) => errors.filter((e) => !e.startsWith('437'));

const dir = mkdtempSync(join(tmpdir(), 'interop-udp-'));
let turnPort = 0;
let restPort = 0;
let peerPort = 0;
let metricsPort = 0;
let restMetricsPort = 0;
let gw: Proc;
let peer: Proc;
let outsidePeer: Proc;

function yaml(auth: string, port: number, name: string, healthPort: number): string {
  return `version: v1
admin:
  name: ${name}
  loglevel: all:WARN
  metrics_endpoint: http://127.0.0.1:${metricsPort}/metrics
  healthcheck_endpoint: http://127.0.0.1:${healthPort}
auth:
${auth}
listeners:
  - name: udp-listener
    protocol: TURN-UDP
    address: 127.0.0.1
    port: ${port}
    routes: [media-plane]
clusters:
  - name: media-plane
    type: STATIC
    endpoints: [127.0.0.1/32]
`;
}

let gwRest: Proc;

before(async () => {
  turnPort = await freeUdpPort();
  restPort = await freeUdpPort();
  peerPort = await freeUdpPort();
  metricsPort = await freeTcpPort();
  writeFileSync(join(dir, 'static.yaml'), yaml(`  type: static
  realm: stunner.l7mp.io
  credentials:
    username: user1
    password: pass1`, turnPort, 'static', await freeTcpPort()));
  peer = await turnutilsPeer('127.0.0.1', peerPort);
  outsidePeer = await turnutilsPeer('127.0.0.2', peerPort);
  // Both dataplane modes: two workers here, the single thread for the REST gateway below.
  gw = stunnerd(['-c', join(dir, 'static.yaml'), '-l', 'all:INFO', '-u', '2']);
  await gw.waitFor(/stunnerd running/);
  metricsPort = restMetricsPort = await freeTcpPort();
  writeFileSync(join(dir, 'rest.yaml'), yaml(`  type: ephemeral
  realm: stunner.l7mp.io
  credentials:
    secret: my-shared-secret`, restPort, 'rest', await freeTcpPort()));
  gwRest = stunnerd(['-c', join(dir, 'rest.yaml'), '-l', 'all:INFO', '-u', '1']);
  await gwRest.waitFor(/stunnerd running/);
});

after(async () => {
  await gw?.stop('SIGINT');
  await gwRest?.stop('SIGINT');
  await peer?.stop();
  await outsidePeer?.stop();
});

test('channels through an echo peer: 20 sessions, zero loss', async () => {
  const r = await uclient({ port: turnPort, user: 'user1', password: 'pass1', sessions: 20, messages: 200,
    intervalMs: 20, peer: { address: '127.0.0.1', port: peerPort } });
  assert.deepEqual(unexpected(r.errors), [], r.output.slice(-2000));
  assert.equal(r.sent, 20 * 200);
  assert.equal(r.received, r.sent);
  assert.equal(r.lost, 0);
});

test('Send and Data indications through an echo peer, zero loss', async () => {
  const r = await uclient({ port: turnPort, user: 'user1', password: 'pass1', sessions: 10, messages: 100,
    intervalMs: 20, sendIndications: true, peer: { address: '127.0.0.1', port: peerPort } });
  assert.deepEqual(unexpected(r.errors), [], r.output.slice(-2000));
  assert.equal(r.sent, 10 * 100);
  assert.equal(r.received, r.sent);
});

test('client to client (-y) over channels, zero loss', async () => {
  const r = await uclient({ port: turnPort, user: 'user1', password: 'pass1', sessions: 20, messages: 100,
    intervalMs: 20, c2c: true });
  assert.deepEqual(unexpected(r.errors), [], r.output.slice(-2000));
  assert.ok(r.sent >= 20 * 100, `sent ${r.sent}`);
  assert.equal(r.received, r.sent);
});

test('TURN REST (ephemeral) credentials with -W', async () => {
  const r = await uclient({ port: restPort, user: 'alice', secret: 'my-shared-secret', sessions: 4, messages: 50,
    intervalMs: 20, peer: { address: '127.0.0.1', port: peerPort } });
  assert.deepEqual(unexpected(r.errors), [], r.output.slice(-2000));
  assert.equal(r.sent, 4 * 50);
  assert.equal(r.received, r.sent);
});

test('a wrong REST secret is refused with 401, and counted', async () => {
  const before = await requests401();
  const r = await uclient({ port: restPort, user: 'alice', secret: 'not-the-secret', sessions: 1, messages: 5,
    peer: { address: '127.0.0.1', port: peerPort }, timeoutS: 20 });
  assert.match(r.output, /Cannot complete Allocation/);
  assert.equal(r.received, 0);
  // One 401 challenge for the unauthenticated first try, then 401 for every wrong-key attempt.
  assert.ok(await requests401() >= before + 2);
});

function requests401(): Promise<number> {
  return scrapedValue(`http://127.0.0.1:${restMetricsPort}/metrics`, 'stunner_requests_total',
    { name: 'udp-listener', method: 'allocate', code: '401' });
}

test('a peer outside every cluster is refused with 403', async () => {
  const r = await uclient({ port: turnPort, user: 'user1', password: 'pass1', sessions: 1, messages: 5,
    peer: { address: '127.0.0.2', port: peerPort }, timeoutS: 20 });
  assert.ok(r.errors.some((e) => e.startsWith('403')), r.output.slice(-2000));
  assert.equal(r.received, 0);
});
