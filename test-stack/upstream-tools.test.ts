// The upstream tools (helpers/upstream.ts) against upstream itself: upstream stunnerd v1.2.1 relays coturn's uclient
// on a static config and exposes stunner_* metrics, and under our CDS harness (upstream's own CDS server code),
// started exactly as the operator's Dataplane starts it, it takes its config, an update and a delete over the
// watch and survives CDS restarts. A WebSocket tap between the two checks the wire facts of docs/cds-protocol.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { freeTcpPort, freeUdpPort } from '../test/deploy/support/ports.ts';
import { until } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import { uclient, type UclientResult } from '../test/helpers/uclient.ts';
import {
  loopbackAdmin, startCdsHarness, startUpstreamStunnerd, type CdsHarness, type StunnerConfig, type UpstreamStunnerd,
} from './helpers/upstream.ts';
import { OPCODE, startWsTap, type WsTap } from './helpers/ws-tap.ts';

const USER = 'user1';
const REALM = 'stunner.l7mp.io';
const ID = 'default/stunnerd';
const NODE = 'node-a';
const NODE_ADDRESS_PLACEHOLDER = '__node_address_placeholder';

function gatewayConfig(o: { admin: Record<string, unknown>; port: number; password: string; address?: string;
  extraListenerPort?: number }): StunnerConfig {
  const listeners: Record<string, unknown>[] = [{ name: 'udp-listener', protocol: 'TURN-UDP',
    address: o.address ?? '127.0.0.1', port: o.port, routes: ['media-plane'] }];
  if (o.extraListenerPort !== undefined) {
    listeners.push({ name: 'tcp-listener', protocol: 'TURN-TCP', address: o.address ?? '127.0.0.1',
      port: o.extraListenerPort, routes: ['media-plane'] });
  }
  return {
    version: 'v1',
    admin: { name: ID, loglevel: 'all:INFO', ...o.admin },
    auth: { type: 'static', realm: REALM, credentials: { username: USER, password: o.password } },
    listeners,
    clusters: [{ name: 'media-plane', type: 'STATIC', protocol: 'UDP', endpoints: ['127.0.0.1/32'] }],
  };
}

function load(port: number, peer: EchoPeerProc, password: string, sessions = 4, messages = 50): Promise<UclientResult> {
  return uclient({ port, user: USER, password, sessions, messages, size: 120, intervalMs: 5,
    peer: { address: '127.0.0.1', port: peer.port }, timeoutS: 60 });
}

function assertRelayed(r: UclientResult, sessions = 4, messages = 50): void {
  assert.equal(r.code, 0, r.output);
  // On a loaded machine uclient retransmits an Allocate that upstream (pion/turn) has already answered, and
  // pion answers the retransmission 437 (Allocation Mismatch) instead of repeating its success (RFC 8656 §7.2
  // asks for the latter); uclient then allocates again. Only that error is upstream's to have, and only when
  // uclient says it tried again.
  const unexpected = r.errors.filter((e) => !(e.startsWith('437') && /trying allocate again 437/.test(r.output)));
  assert.deepEqual(unexpected, [], r.output);
  assert.equal(r.sent, sessions * messages, r.output);
  assert.equal(r.received, r.sent, r.output);
  assert.equal(r.lost, 0, r.output);
}

/** Whether a STUN Binding request to 127.0.0.1:port is answered within `timeoutMs` (RFC 8489 §6). */
async function bindingAnswered(port: number, timeoutMs = 500): Promise<boolean> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const answered = new Promise<boolean>((resolve) => {
      s.on('message', (m) => { if (m.subarray(8, 20).equals(request.subarray(8, 20))) resolve(true); });
      s.on('error', () => resolve(false));
      setTimeout(() => resolve(false), timeoutMs);
    });
    s.send(request, port, '127.0.0.1');
    return await answered;
  } finally {
    s.close();
  }
}

type Status = { status: string; allocationCount: number; auth: { credentials: Record<string, string> };
  listeners: { name: string; address: string; port: number }[] };

test('upstream stunnerd on a static config relays uclient and exposes stunner_* metrics and its status',
  { timeout: 180_000 }, async () => {
    const peer = await startTurnutilsPeer();
    let up: UpstreamStunnerd | undefined;
    try {
      const port = await freeUdpPort();
      up = await startUpstreamStunnerd({ config: gatewayConfig({ admin: await loopbackAdmin(), port, password: 'pass1' }) });
      assertRelayed(await load(port, peer, 'pass1'));

      for (const path of ['/live', '/ready']) assert.equal((await fetch(`${up.healthUrl}${path}`)).status, 200, path);
      const status = await up.status() as Status & Record<string, unknown>;
      assert.deepEqual(Object.keys(status).sort(),
        ['admin', 'allocationCount', 'auth', 'clusters', 'listeners', 'status', 'version']);
      assert.equal(status.status, 'READY');
      assert.equal(status.listeners[0]?.name, 'udp-listener');

      const text = await up.metrics();
      const families = new Set([...text.matchAll(/^# TYPE (stunner_\w+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`));
      for (const f of ['stunner_allocations_active gauge', 'stunner_listener_packets_total counter',
        'stunner_listener_bytes_total counter', 'stunner_listener_connections gauge',
        'stunner_listener_connections_total counter', 'stunner_cluster_packets_total counter',
        'stunner_cluster_bytes_total counter']) {
        assert.ok(families.has(f), `${f} in upstream's /metrics:\n${[...families].join('\n')}`);
      }
      // Every relayed message went out to the peer once through the cluster.
      const tx = /^stunner_cluster_packets_total\{[^}]*direction="tx"[^}]*\} (\d+)/m.exec(text);
      assert.equal(Number(tx?.[1]), 200, text);
    } finally {
      await up?.stop();
      await peer.stop();
    }
  });

test('upstream stunnerd under our CDS harness, started as the operator starts it: config, update, delete, CDS restarts',
  { timeout: 240_000 }, async () => {
    const peer = await startTurnutilsPeer();
    let cds: CdsHarness | undefined;
    let tap: WsTap | undefined;
    let up: UpstreamStunnerd | undefined;
    try {
      cds = await startCdsHarness({ nodeAddresses: { [NODE]: '127.0.0.1' } });
      tap = await startWsTap(cds.address);
      const h = cds;
      const t = tap;
      // The operator's Dataplane: `stunnerd -w --udp-thread-num=16`, the rest from the environment.
      up = await startUpstreamStunnerd({ args: ['-w', '--udp-thread-num=16'], ready: false, env: {
        STUNNER_CONFIG_ORIGIN: `http://${t.address}`, STUNNER_NAMESPACE: 'default', STUNNER_NAME: 'stunnerd',
        STUNNER_NODENAME: NODE, STUNNER_ADDR: '127.0.0.1',
      } });
      const u = up;
      await until('upstream stunnerd to watch', 10_000, async () => ((await h.clients()).length === 1 ? true : undefined));

      // No config yet: the bootstrap zero-config opens no listener.
      const port = await freeUdpPort();
      assert.equal(await bindingAnswered(port), false);

      // The first config: its listener address is the operator's node placeholder, patched per node by the server.
      const admin = await loopbackAdmin();
      const health = admin.healthcheck_endpoint;
      const v1 = gatewayConfig({ admin, port, password: 'pass1', address: NODE_ADDRESS_PLACEHOLDER });
      await h.upsert(ID, v1);
      await until('upstream stunnerd ready on the config from CDS', 15_000, async () =>
        ((await fetch(`${health}/ready`)).status === 200 ? true : undefined));
      let status = await u.status(health) as Status;
      assert.equal(status.listeners[0]?.address, '127.0.0.1', 'the server patched the node address in');
      assertRelayed(await load(port, peer, 'pass1'));

      // An update: credentials rotated and a TURN-TCP listener added.
      const tcpPort = await freeTcpPort();
      await h.upsert(ID, gatewayConfig({ admin, port, password: 'pass2', address: NODE_ADDRESS_PLACEHOLDER,
        extraListenerPort: tcpPort }));
      status = await until('the rotated credentials', 15_000, async () => {
        const s = await u.status(health) as Status;
        return s.auth.credentials.password === 'pass2' ? s : undefined;
      });
      assert.deepEqual(status.listeners.map((l) => l.name).sort(), ['tcp-listener', 'udp-listener']);
      // The old password is refused, by pion/turn with 400 and no reason phrase (RFC 8489 §9.2.4 says 401).
      const old = await load(port, peer, 'pass1', 1, 5);
      assert.deepEqual([...new Set(old.errors)], ['400 '], old.output);
      assert.equal(old.received, 0, old.output);
      assertRelayed(await load(port, peer, 'pass2'));

      // A delete: the server sends the zero-config; upstream in -w mode ignores it and keeps relaying.
      assert.equal(await h.remove(ID), true);
      await until('upstream to log the ignored delete', 10_000, async () =>
        (/Ignoring delete configuration update/.test(u.output()) ? true : undefined));
      assert.deepEqual(await h.configs(), {});
      assert.equal((await h.clients()).length, 1, 'still watching');
      status = await u.status(health) as Status;
      assert.equal(status.status, 'READY');
      assert.equal(status.auth.credentials.password, 'pass2');
      assertRelayed(await load(port, peer, 'pass2', 1, 20), 1, 20);

      // At least two keepalive pings on this first connection before the restarts.
      await until('two pings', 15_000, async () =>
        (t.frames.filter((f) => f.connection === 0 && f.opcode === OPCODE.ping).length >= 2 ? true : undefined));

      // CDS restart, clean (close frames): upstream dials again within its 1 s retry; the restarted server is empty
      // (the config was deleted) until the next upsert, which applies.
      await h.restart({ downMs: 1500 });
      await until('upstream to watch again', 15_000, async () => ((await h.clients()).length === 1 ? true : undefined));
      status = await u.status(health) as Status;
      assert.equal(status.auth.credentials.password, 'pass2', 'the running config survives the CDS outage');
      await h.upsert(ID, gatewayConfig({ admin, port, password: 'pass3', address: NODE_ADDRESS_PLACEHOLDER }));
      await until('pass3', 15_000, async () =>
        ((await u.status(health) as Status).auth.credentials.password === 'pass3' ? true : undefined));
      assertRelayed(await load(port, peer, 'pass3', 1, 20), 1, 20);

      // CDS restart, abrupt (SIGKILL: no close frame); the restarted server gets the config again, as a restarted
      // operator renders it again.
      const dialsBefore = t.connections();
      await h.restart({ abrupt: true, downMs: 1500 });
      await until('upstream to watch again', 15_000, async () => ((await h.clients()).length === 1 ? true : undefined));
      assert.ok(t.connections() > dialsBefore);
      await h.upsert(ID, gatewayConfig({ admin, port, password: 'pass4', address: NODE_ADDRESS_PLACEHOLDER }));
      await until('pass4', 15_000, async () =>
        ((await u.status(health) as Status).auth.credentials.password === 'pass4' ? true : undefined));
      assertRelayed(await load(port, peer, 'pass4', 1, 20), 1, 20);

      checkWire(t);
    } finally {
      await up?.stop(5000);
      await tap?.stop();
      await cds?.stop();
      await peer.stop();
    }
  });

/** What the tap saw against docs/cds-protocol.md. */
function checkWire(t: WsTap): void {
  // The upgrade request: fixed path, node and watch sorted, an Origin equal to the Host.
  const request = t.requests[0] ?? '';
  const [requestLine, ...headerLines] = request.split('\r\n');
  assert.equal(requestLine, 'GET /api/v1/configs/default/stunnerd?node=node-a&watch=true HTTP/1.1');
  const headers = new Map(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  assert.equal(headers.get('host'), t.address);
  // Upstream clears the path but not the query when it derives Origin from the URL; the server compares hosts only.
  assert.equal(headers.get('origin'), `http://${t.address}?node=node-a&watch=true`);
  assert.equal(headers.get('upgrade'), 'websocket');
  assert.equal(headers.get('sec-websocket-version'), '13');
  assert.equal(headers.get('sec-websocket-protocol'), undefined);
  assert.equal(headers.get('sec-websocket-extensions'), undefined);
  assert.match(t.responses[0] ?? '', /^HTTP\/1\.1 101 /);
  const dials = t.requests.filter((r) => r !== undefined);
  assert.ok(dials.length >= 3, 'one dial per (re)connect');
  assert.ok(dials.every((r) => r.split('\r\n')[0] === requestLine), 'every reconnect asks for the same URL');

  // Keepalives: masked client pings with payload "keepalive" every 5 s, each answered by a pong "keepalive".
  const first = t.frames.filter((f) => f.connection === 0);
  const pings = first.filter((f) => f.opcode === OPCODE.ping);
  const pongs = first.filter((f) => f.opcode === OPCODE.pong);
  assert.ok(pings.length >= 2);
  for (const p of pings) {
    assert.equal(p.from, 'client');
    assert.equal(p.masked, true);
    assert.equal(p.payload.toString(), 'keepalive');
  }
  for (const p of pongs) {
    assert.equal(p.from, 'server');
    assert.equal(p.payload.toString(), 'keepalive');
  }
  assert.ok(pongs.length >= pings.length - 1);
  for (let i = 1; i < pings.length; i++) {
    const gap = pings[i]!.at - pings[i - 1]!.at;
    assert.ok(gap > 4500 && gap < 5600, `ping interval ${gap} ms`);
  }
  // The client sends nothing but pings (and a close frame when it stops).
  assert.deepEqual([...new Set(t.frames.filter((f) => f.from === 'client').map((f) => f.opcode))].filter((o) => o !== OPCODE.close),
    [OPCODE.ping]);

  // Configs: text messages, each one whole config as JSON; on connection 0: v1, v2, then the delete's zero-config.
  const configs = t.messages().filter((m) => m.from === 'server' && m.connection === 0);
  assert.ok(configs.every((m) => m.opcode === OPCODE.text));
  const bodies = configs.map((m) => JSON.parse(m.data.toString()) as StunnerConfig & { auth: { credentials: Record<string, string> } });
  assert.deepEqual(bodies.map((b) => b.auth.credentials.password), ['pass1', 'pass2', 'dummy-password']);
  assert.equal(configs.at(-1)!.data.toString(), '{"version":"v1","admin":{"name":"default/stunnerd"},"auth":{"type":"static",' +
    '"realm":"stunner.l7mp.io","credentials":{"password":"dummy-password","username":"dummy-username"}}}');
  assert.equal((bodies[0]!.listeners as { address: string }[])[0]!.address, '127.0.0.1', 'patched before sending');

  // The clean restart closed connection 0 with a close frame without a status code; the abrupt one sent none.
  const closes = t.frames.filter((f) => f.from === 'server' && f.opcode === OPCODE.close);
  assert.ok(closes.some((f) => f.connection === 0 && f.payload.length === 0));
}
