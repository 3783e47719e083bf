// Interop with coturn's turnutils_uclient over TURN-TCP (-t), TURN-TLS (-t -S), TURN-DTLS (-S) and RFC 6062
// TCP relays (-T, and -T -S over TLS), against stunnerd started from a YAML file with self-signed TLS material, as a user would.
//
// uclient -T is client-to-client (it implies -y and ignores -e/-r): session pairs allocate TCP relays, one
// side sends Connect to the other's relayed address, the other gets a ConnectionAttempt, both bind data
// connections, and each message goes client -> peer data connection -> relayed address -> client. So the
// TCP "peer" of each allocation is the other allocation's relayed address; no external TCP peer is involved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrapedValue } from '../helpers/scrape.ts';
import { freeTcpPort, freeUdpPort, stunnerd, type Proc } from '../helpers/process.ts';
import { base64, makeTestCert } from '../helpers/tls-cert.ts';
import { turnutilsPeer, uclient, type UclientOptions } from '../helpers/uclient.ts';

const dir = mkdtempSync(join(tmpdir(), 'interop-transports-'));
const ports = { tcp: 0, tls: 0, dtls: 0, peer: 0, metrics: 0 };
let gw: Proc;
let peer: Proc;

before(async () => {
  ports.tcp = await freeTcpPort();
  ports.tls = await freeTcpPort();
  ports.dtls = await freeUdpPort();
  ports.peer = await freeUdpPort();
  ports.metrics = await freeTcpPort();
  const { cert, key } = makeTestCert();
  const tlsMaterial = `cert: ${base64(cert)}\n    key: ${base64(key)}`;
  writeFileSync(join(dir, 'stunnerd.yaml'), `version: v1
admin:
  name: transports
  loglevel: all:WARN
  metrics_endpoint: http://127.0.0.1:${ports.metrics}/metrics
  healthcheck_endpoint: ""
auth:
  type: static
  realm: stunner.l7mp.io
  credentials:
    username: user1
    password: pass1
listeners:
  - name: tcp
    protocol: TURN-TCP
    address: 127.0.0.1
    port: ${ports.tcp}
    routes: [media-plane, tcp-plane]
  - name: tls
    protocol: TURN-TLS
    address: 127.0.0.1
    port: ${ports.tls}
    ${tlsMaterial}
    routes: [media-plane, tcp-plane]
  - name: dtls
    protocol: TURN-DTLS
    address: 127.0.0.1
    port: ${ports.dtls}
    ${tlsMaterial}
    routes: [media-plane]
clusters:
  - name: media-plane
    type: STATIC
    endpoints: [127.0.0.1/32]
  - name: tcp-plane
    type: STATIC
    protocol: TCP
    endpoints: [127.0.0.1/32]
`);
  peer = await turnutilsPeer('127.0.0.1', ports.peer);
  // Two dataplane workers (stunnerd's default on a multi-core machine): TCP, TLS and DTLS clients land on either;
  // the RFC 6062 listener runs in worker 0 only.
  gw = stunnerd(['-c', join(dir, 'stunnerd.yaml'), '-l', 'all:INFO', '-u', '2']);
  await gw.waitFor(/stunnerd running/);
});

after(async () => {
  await gw?.stop('SIGINT');
  await peer?.stop();
});

const LOAD = { user: 'user1', password: 'pass1', sessions: 10, messages: 100, intervalMs: 20, size: 100 } as const;

async function run(o: Partial<UclientOptions> & { port: number }): Promise<void> {
  const r = await uclient({ ...LOAD, ...o });
  assert.deepEqual(r.errors, [], r.output.slice(-2000));
  assert.equal(r.sent, LOAD.sessions * LOAD.messages, r.output.slice(-2000));
  assert.equal(r.received, r.sent, r.output.slice(-2000));
  assert.equal(r.lost, 0);
}

/** The value of one series in a Prometheus text scrape (0 when absent). */
function metric(name: string, labels: Record<string, string>): Promise<number> {
  return scrapedValue(`http://127.0.0.1:${ports.metrics}/metrics`, name, labels);
}

const peerAddress = () => ({ address: '127.0.0.1', port: ports.peer });

test('TURN-TCP (-t): channels through an echo peer, zero loss, exact cluster counts', async () => {
  await run({ port: ports.tcp, transport: 'tcp', peer: peerAddress() });
  const labels = { name: 'tcp', cluster: 'media-plane' };
  assert.equal(await metric('stunner_cluster_packets_total', { ...labels, direction: 'tx' }), 1000);
  assert.equal(await metric('stunner_cluster_bytes_total', { ...labels, direction: 'tx' }), 1000 * LOAD.size);
  assert.ok(await metric('stunner_listener_packets_total', { name: 'tcp', direction: 'rx' }) >= 1000);
  assert.ok(await metric('stunner_listener_connections_total', { name: 'tcp' }) >= LOAD.sessions);
});

test('TURN-TLS (-t -S): zero loss, exact cluster counts', async () => {
  await run({ port: ports.tls, transport: 'tls', peer: peerAddress() });
  const labels = { name: 'tls', cluster: 'media-plane' };
  assert.equal(await metric('stunner_cluster_packets_total', { ...labels, direction: 'tx' }), 1000);
  assert.equal(await metric('stunner_cluster_bytes_total', { ...labels, direction: 'tx' }), 1000 * LOAD.size);
  assert.equal(await metric('stunner_cluster_packets_total', { ...labels, direction: 'rx' }), 1000);
  assert.ok(await metric('stunner_listener_connections_total', { name: 'tls' }) >= LOAD.sessions);
});

test('TURN-DTLS (-S): zero loss', async () => {
  await run({ port: ports.dtls, transport: 'dtls', peer: peerAddress() });
  assert.ok(await metric('stunner_listener_connections_total', { name: 'dtls' }) >= LOAD.sessions);
});

test('RFC 6062 TCP relay (-T): Connect, ConnectionAttempt, ConnectionBind, zero loss, exact byte counts', async () => {
  await run({ port: ports.tcp, tcpRelay: true });
  const labels = { name: 'tcp', cluster: 'tcp-plane' };
  // Every message leaves one relayed address as a chunk written to the peer connection and arrives at the other.
  assert.equal(await metric('stunner_cluster_bytes_total', { ...labels, direction: 'tx' }), 1000 * LOAD.size);
  assert.equal(await metric('stunner_cluster_bytes_total', { ...labels, direction: 'rx' }), 1000 * LOAD.size);
  // Each successful Connect makes two peer data connections (the outgoing one, and the incoming one at the other
  // relayed address), and each of them is bound. (uclient 4.6 sends 9 Connects per session pair.)
  const connects = await metric('stunner_requests_total', { name: 'tcp', method: 'connect', code: '200' });
  assert.ok(connects >= LOAD.sessions / 2);
  assert.equal(await metric('stunner_cluster_connections_total', labels), 2 * connects);
  assert.equal(await metric('stunner_requests_total', { name: 'tcp', method: 'connection_bind', code: '200' }), 2 * connects);
});

test('RFC 6062 TCP relay over TURN-TLS (-T -S): the control and data connections are TLS, zero loss', async () => {
  await run({ port: ports.tls, transport: 'tls', tcpRelay: true });
  const labels = { name: 'tls', cluster: 'tcp-plane' };
  assert.equal(await metric('stunner_cluster_bytes_total', { ...labels, direction: 'tx' }), 1000 * LOAD.size);
  assert.equal(await metric('stunner_cluster_bytes_total', { ...labels, direction: 'rx' }), 1000 * LOAD.size);
  const connects = await metric('stunner_requests_total', { name: 'tls', method: 'connect', code: '200' });
  assert.ok(connects >= LOAD.sessions / 2);
  assert.equal(await metric('stunner_requests_total', { name: 'tls', method: 'connection_bind', code: '200' }), 2 * connects);
});

test('connections and allocations end with the clients', async () => {
  // A closed TCP or TLS connection deletes its allocation.
  for (const name of ['tcp', 'tls']) {
    const deadline = Date.now() + 15_000;
    while (await metric('stunner_listener_connections', { name }) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await metric('stunner_listener_connections', { name }), 0, name);
    assert.equal(await metric('stunner_allocations_active', { name }), 0, name);
  }
  for (const name of ['tcp', 'tls']) {
    assert.equal(await metric('stunner_cluster_connections', { name, cluster: 'tcp-plane' }), 0, name);
  }
  // uclient abandons the DTLS association of each session's first ("probe") allocation without deleting it or
  // sending close_notify, as it would over UDP: those allocations live until they expire, each keeping its
  // association. The sessions that refreshed to 0 and closed are gone.
  const dtls = await metric('stunner_listener_connections', { name: 'dtls' });
  assert.equal(dtls, await metric('stunner_allocations_active', { name: 'dtls' }));
  assert.ok(dtls <= LOAD.sessions);
});
