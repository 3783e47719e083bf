// Interop with a real WebRTC stack: two RTCPeerConnections in headless Chromium, each forced to relay
// (iceTransportPolicy 'relay'), open a DataChannel through stunnerd over TURN-UDP, TURN-TCP and TURN-TLS, as
// a browser in front of a media server would. stunnerd is started from a YAML file as a user would start it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANG_UP, relayOnlyPeers, startCall, VIDEO, type Video } from '../helpers/browser-call.ts';
import { Chromium } from '../helpers/chromium.ts';
import { scrapedValue } from '../helpers/scrape.ts';
import { freeTcpPort, freeUdpPort, stunnerd, type Proc } from '../helpers/process.ts';
import { base64, makeTestCert } from '../helpers/tls-cert.ts';

const ports = { udp: 0, tcp: 0, tls: 0, refused: 0, metrics: 0 };
const dir = mkdtempSync(join(tmpdir(), 'interop-chromium-'));
let gw: Proc;
let browser: Chromium;

before(async () => {
  ports.udp = await freeUdpPort();
  ports.tcp = await freeTcpPort();
  ports.tls = await freeTcpPort();
  ports.refused = await freeUdpPort();
  ports.metrics = await freeTcpPort();
  const { cert, key } = makeTestCert();
  writeFileSync(join(dir, 'stunnerd.yaml'), `version: v1
admin:
  name: chromium
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
  - name: udp
    protocol: TURN-UDP
    address: 127.0.0.1
    port: ${ports.udp}
    routes: [media-plane]
  - name: tcp
    protocol: TURN-TCP
    address: 127.0.0.1
    port: ${ports.tcp}
    routes: [media-plane]
  - name: tls
    protocol: TURN-TLS
    address: 127.0.0.1
    port: ${ports.tls}
    cert: ${base64(cert)}
    key: ${base64(key)}
    routes: [media-plane]
  - name: refused
    protocol: TURN-UDP
    address: 127.0.0.1
    port: ${ports.refused}
    routes: [elsewhere]
clusters:
  - name: media-plane
    type: STATIC
    endpoints: [127.0.0.1/32]
  - name: elsewhere
    type: STATIC
    endpoints: [10.0.0.0/8]
`);
  // Two dataplane workers: each peer's candidates may land on either.
  gw = stunnerd(['-c', join(dir, 'stunnerd.yaml'), '-l', 'all:INFO', '-u', '2']);
  await gw.waitFor(/stunnerd running/);
  // Chromium checks a TURN server's certificate; it is told to trust this self-signed key (by its SPKI hash), no other.
  const spki = createPublicKey(cert).export({ type: 'spki', format: 'der' });
  browser = await Chromium.launch([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]);
});

after(async () => {
  await browser?.close();
  await gw?.stop('SIGINT');
});

interface CallResult {
  readonly opened: boolean;
  readonly iceState: string;
  readonly received: string[];
  /** candidateType, relayProtocol of the selected local candidate; candidateType of the remote one. */
  readonly local?: [string, string];
  readonly remote?: string;
  readonly otherLocal?: string;
}

/** Offerer and answerer in one page, relay only; `count` messages through the DataChannel once it opens. */
function call(url: string, count: number, openTimeoutMs: number, username = 'user1', credential = 'pass1'): string {
  return `(async () => {
    ${relayOnlyPeers(url, username, credential)}
    const channel = a.createDataChannel('through-stunnerd');
    const received = [];
    const all = new Promise((resolve) => (b.ondatachannel = (e) => (e.channel.onmessage = (m) => {
      received.push(m.data);
      if (received.length === ${count}) resolve();
    })));
    await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
    const opened = await Promise.race([
      new Promise((resolve) => (channel.onopen = () => resolve(true))),
      new Promise((resolve) => setTimeout(() => resolve(false), ${openTimeoutMs})),
    ]);
    const result = { opened, iceState: a.iceConnectionState, received };
    if (opened) {
      for (let i = 0; i < ${count}; i++) channel.send('message ' + i);
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10000))]);
      const selected = async (pc) => {
        const stats = [...(await pc.getStats()).values()];
        const transport = stats.find((s) => s.type === 'transport');
        const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
        return [stats.find((s) => s.id === pair?.localCandidateId), stats.find((s) => s.id === pair?.remoteCandidateId)];
      };
      const [local, remote] = await selected(a);
      const [otherLocal] = await selected(b);
      Object.assign(result, { local: [local?.candidateType, local?.relayProtocol], remote: remote?.candidateType,
        otherLocal: otherLocal?.candidateType });
    }
    a.close(); b.close();
    return result;
  })()`;
}

/** The value of one series in a scrape of the gateway (0 when absent). */
function metric(name: string, labels: Record<string, string>): Promise<number> {
  return scrapedValue(`http://127.0.0.1:${ports.metrics}/metrics`, name, labels);
}

const MESSAGES = 100;

for (const [listener, url, relayProtocol] of [
  ['udp', () => `turn:127.0.0.1:${ports.udp}?transport=udp`, 'udp'],
  ['tcp', () => `turn:127.0.0.1:${ports.tcp}?transport=tcp`, 'tcp'],
  ['tls', () => `turns:127.0.0.1:${ports.tls}?transport=tcp`, 'tls'],
] as const) {
  test(`Chromium WebRTC over TURN-${listener.toUpperCase()}: a DataChannel between two relay-only peers carries every message`, async () => {
    const r = await browser.evaluate<CallResult>(call(url(), MESSAGES, 15_000));
    assert.equal(r.opened, true, `ICE ${r.iceState}`);
    assert.deepEqual(r.received, Array.from({ length: MESSAGES }, (_, i) => `message ${i}`));
    // Both ends use relayed candidates: everything went through the gateway.
    assert.deepEqual(r.local, ['relay', relayProtocol]);
    assert.equal(r.remote, 'relay');
    assert.equal(r.otherLocal, 'relay');
    assert.ok(await metric('stunner_requests_total', { name: listener, method: 'allocate', code: '200' }) >= 2);
    const permissions = await metric('stunner_requests_total', { name: listener, method: 'create_permission', code: '200' })
      + await metric('stunner_requests_total', { name: listener, method: 'channel_bind', code: '200' });
    assert.ok(permissions >= 2, `permissions and channels: ${permissions}`);
    // Each relayed address sends the SCTP packets of the call to the other: at least one per message.
    assert.ok(await metric('stunner_cluster_packets_total', { name: listener, cluster: 'media-plane', direction: 'tx' }) >= MESSAGES);
  });
}

test('Chromium WebRTC over TURN-UDP: video from a canvas track arrives as decoded frames, no packet lost', async () => {
  const before = await metric('stunner_cluster_bytes_total', { name: 'udp', cluster: 'media-plane', direction: 'tx' });
  const page = await browser.newPage();
  await page.evaluate(startCall(`turn:127.0.0.1:${ports.udp}?transport=udp`, 'user1', 'pass1'));
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const r = await page.evaluate<Video>(VIDEO);
  await page.evaluate(HANG_UP);
  await page.close();
  assert.equal(r.ice, 'connected');
  assert.ok(r.frames >= 30, `frames decoded: ${r.frames}`);
  assert.equal(r.lost, 0);
  // The RTP went through the gateway: its relays sent at least the video bytes the receiver counted.
  const relayed = await metric('stunner_cluster_bytes_total', { name: 'udp', cluster: 'media-plane', direction: 'tx' }) - before;
  assert.ok(relayed >= r.bytes, `relayed ${relayed} B, received ${r.bytes} B of video payload`);
});

test('Chromium WebRTC through a listener whose clusters do not admit the relayed addresses: 403, no call', async () => {
  const r = await browser.evaluate<CallResult>(call(`turn:127.0.0.1:${ports.refused}?transport=udp`, 1, 8_000));
  assert.equal(r.opened, false);
  assert.deepEqual(r.received, []);
  assert.ok(await metric('stunner_requests_total', { name: 'refused', method: 'allocate', code: '200' }) >= 2);
  const refused = await metric('stunner_requests_total', { name: 'refused', method: 'create_permission', code: '403' })
    + await metric('stunner_requests_total', { name: 'refused', method: 'channel_bind', code: '403' });
  assert.ok(refused >= 1, 'the permission requests were refused with 403');
  assert.equal(await metric('stunner_cluster_packets_total', { name: 'refused', direction: 'tx' }), 0);
});

test('Chromium WebRTC with TURN REST (ephemeral) credentials: a valid one calls, an expired one gets 401 and no call', async () => {
  const port = await freeUdpPort();
  const metricsPort = await freeTcpPort();
  const secret = 'chromium-rest-secret';
  writeFileSync(join(dir, 'rest.yaml'), `version: v1
admin:
  name: chromium-rest
  loglevel: all:WARN
  metrics_endpoint: http://127.0.0.1:${metricsPort}/metrics
  healthcheck_endpoint: ""
auth:
  type: ephemeral
  realm: stunner.l7mp.io
  credentials:
    secret: ${secret}
listeners:
  - name: rest
    protocol: TURN-UDP
    address: 127.0.0.1
    port: ${port}
    routes: [media-plane]
clusters:
  - name: media-plane
    type: STATIC
    endpoints: [127.0.0.1/32]
`);
  const rest = stunnerd(['-c', join(dir, 'rest.yaml'), '-l', 'all:INFO']);
  try {
    await rest.waitFor(/stunnerd running/);
    // What a TURN REST endpoint hands a browser: "<expiry>:<user>" and base64(HMAC-SHA1(secret, username)).
    const credential = (username: string) => createHmac('sha1', secret).update(username).digest('base64');
    const now = Math.floor(Date.now() / 1000);
    const valid = `${now + 3600}:alice`;
    const ok = await browser.evaluate<CallResult>(call(`turn:127.0.0.1:${port}?transport=udp`, 10, 15_000, valid, credential(valid)));
    assert.equal(ok.opened, true, `ICE ${ok.iceState}`);
    assert.equal(ok.received.length, 10);
    assert.deepEqual(ok.local, ['relay', 'udp']);
    const allocate401 = () => scrapedValue(`http://127.0.0.1:${metricsPort}/metrics`, 'stunner_requests_total',
      { name: 'rest', method: 'allocate', code: '401' });
    const before = await allocate401();
    const expired = `${now - 60}:alice`;
    const late = await browser.evaluate<CallResult>(call(`turn:127.0.0.1:${port}?transport=udp`, 1, 6_000, expired, credential(expired)));
    assert.equal(late.opened, false);
    // Each peer connection is challenged, then refused for its expired username: at least 2 x 2 answers of 401.
    assert.ok(await allocate401() - before >= 4, `401s: ${before} -> ${await allocate401()}`);
  } finally {
    await rest.stop('SIGINT');
  }
});
