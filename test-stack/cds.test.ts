// OUR stunnerd under upstream's own CDS server code (the cds-harness of helpers/upstream.ts, the package
// stunner-gateway-operator runs), started exactly as the operator's default Dataplane starts it: `stunnerd -w
// --udp-thread-num=16`, no -c, and the operator's environment. It starts with no config, receives one (listener
// address patched per node by the server), relays coturn's uclient, takes an update (listener added, credentials
// rotated) and a delete (ignored, as upstream), survives a clean and an abrupt CDS restart, and drains upstream's
// way on SIGTERM. A WebSocket tap between the two checks what our client puts on the wire. Then our /live, /ready
// and /status next to upstream stunnerd's for the same config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { freeTcpPort, freeUdpPort } from '../test/deploy/support/ports.ts';
import { stunnerd, type Proc } from '../test/helpers/process.ts';
import { uclient, type UclientResult } from '../test/helpers/uclient.ts';
import { allocateCode } from '../test/ops/support/allocate.ts';
import { until } from '../test/telemetry-e2e/support/stunnerd.ts';
import { startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import {
  loopbackAdmin, startCdsHarness, startUpstreamStunnerd, type CdsHarness, type StunnerConfig, type UpstreamStunnerd,
} from './helpers/upstream.ts';
import { OPCODE, startWsTap, type WsTap } from './helpers/ws-tap.ts';

const NS = 'stunner';
const GW = 'udp-gateway';
const ID = `${NS}/${GW}`;
const NODE = 'node-a';
const USER = 'user1';
const PLACEHOLDER = '__node_address_placeholder';
const OTEL_UNSET = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]));

/** What the operator renders for a Gateway: listeners named <ns>/<gw>/<listener>, routes to <ns>/<route>. */
function rendered(o: { admin: Record<string, unknown>; port: number; password: string; tcpPort?: number }): StunnerConfig {
  const listener = (name: string, protocol: string, port: number) => ({ name: `${ID}/${name}`, protocol,
    address: PLACEHOLDER, port, routes: [`${NS}/media-plane`] });
  return {
    version: 'v1',
    admin: { name: ID, loglevel: 'all:INFO', ...o.admin },
    auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: USER, password: o.password } },
    listeners: [listener('udp-listener', 'TURN-UDP', o.port),
      ...(o.tcpPort === undefined ? [] : [listener('tcp-listener', 'TURN-TCP', o.tcpPort)])],
    clusters: [{ name: `${NS}/media-plane`, type: 'STATIC', protocol: 'UDP', endpoints: ['127.0.0.1/32'] }],
  };
}

function load(port: number, peer: EchoPeerProc, password: string, sessions = 4, messages = 50,
  transport?: 'tcp'): Promise<UclientResult> {
  return uclient({ port, user: USER, password, sessions, messages, size: 120, intervalMs: 5, transport,
    peer: { address: '127.0.0.1', port: peer.port }, timeoutS: 60 });
}

function assertRelayed(r: UclientResult, sessions = 4, messages = 50): void {
  assert.equal(r.code, 0, r.output);
  assert.deepEqual(r.errors, [], r.output);
  assert.equal(r.sent, sessions * messages, r.output);
  assert.equal(r.received, r.sent, r.output);
  assert.equal(r.lost, 0, r.output);
}

interface Status {
  status: string;
  configGeneration: number;
  admin: { name: string };
  listeners: { name: string; address: string; port: number }[];
}

const json = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;

test("our stunnerd as the operator's Dataplane under upstream's CDS server: config, traffic, update, delete, restarts, drain",
  { timeout: 300_000 }, async () => {
    const peer = await startTurnutilsPeer();
    let cds: CdsHarness | undefined;
    let tap: WsTap | undefined;
    let p: Proc | undefined;
    try {
      cds = await startCdsHarness({ nodeAddresses: { [NODE]: '127.0.0.1' } });
      tap = await startWsTap(cds.address);
      const h = cds;
      const t = tap;
      // The operator's environment. Upstream's bootstrap health check binds :8086 on every interface; npm run
      // test:stack runs in a network namespace of its own (.ci/netns.sh), where that is loopback. Outside one, the
      // bootstrap endpoint is moved to loopback by our variable for it (the only change to the operator's setup).
      const inNetns = process.env.STUNNER_IN_NETNS === '1';
      const bootstrapHealth = inNetns ? 'http://127.0.0.1:8086' : `http://127.0.0.1:${await freeTcpPort()}`;
      p = stunnerd(['-w', '--udp-thread-num=16'], {
        ...OTEL_UNSET,
        STUNNER_ADDR: '127.0.0.1', STUNNER_NAME: GW, STUNNER_NAMESPACE: NS, STUNNER_NODENAME: NODE,
        STUNNER_CONFIG_ORIGIN: `http://${t.address}`,
        ...(inNetns ? {} : { STUNNERD_BOOTSTRAP_HEALTHCHECK_ENDPOINT: bootstrapHealth }),
      });
      const d = p;

      // No config yet: the bootstrap zero-config for our id, health up, not ready; the watch is open.
      const boot = await until('the bootstrap health check', 20_000, async () => {
        const s = await json<Status>(`${bootstrapHealth}/status`);
        return s.admin.name === ID ? s : undefined;
      });
      assert.equal(boot.status, 'NOT-READY');
      assert.equal((await fetch(`${bootstrapHealth}/ready`)).status, 503);
      await until('the watch', 10_000, async () => ((await h.clients()).length === 1 ? true : undefined));

      // The first config, its listener address patched to the node's address by upstream's server.
      const admin = await loopbackAdmin();
      const health = admin.healthcheck_endpoint;
      const port = await freeUdpPort();
      await h.upsert(ID, rendered({ admin, port, password: 'pass1' }));
      await until('ready on the config from CDS', 20_000, async () =>
        ((await fetch(`${health}/ready`)).status === 200 ? true : undefined));
      let status = await json<Status>(`${health}/status`);
      assert.equal(status.listeners[0]?.address, '127.0.0.1', 'the server patched the node address in');
      assertRelayed(await load(port, peer, 'pass1'));
      const generation = status.configGeneration;

      // An update: credentials rotated, a TURN-TCP listener added.
      const tcpPort = await freeTcpPort();
      await h.upsert(ID, rendered({ admin, port, password: 'pass2', tcpPort }));
      status = await until('the update', 15_000, async () => {
        const s = await json<Status>(`${health}/status`);
        return s.configGeneration > generation ? s : undefined;
      });
      assert.deepEqual(status.listeners.map((l) => l.name).sort(), [`${ID}/tcp-listener`, `${ID}/udp-listener`]);
      assert.equal(await allocateCode({ kind: 'udp', port, username: USER, password: 'pass1' }), 401);
      assertRelayed(await load(port, peer, 'pass2'));
      assertRelayed(await load(tcpPort, peer, 'pass2', 2, 20, 'tcp'), 2, 20);

      // A delete: the zero-config arrives and is ignored, as upstream -w does; still watching, still relaying.
      assert.equal(await h.remove(ID), true);
      await until('the ignored delete', 10_000, async () => (/ignoring a delete-config update/.test(d.output()) ? true : undefined));
      assert.equal((await h.clients()).length, 1);
      status = await json<Status>(`${health}/status`);
      assert.deepEqual([status.status, status.listeners.length], ['READY', 2]);
      assertRelayed(await load(port, peer, 'pass2', 1, 20), 1, 20);

      // Two keepalive pings on this first connection before the restarts.
      await until('two pings', 15_000, async () =>
        (t.frames.filter((f) => f.connection === 0 && f.opcode === OPCODE.ping).length >= 2 ? true : undefined));

      // A clean CDS restart: the restarted server is empty until the next upsert, which applies.
      await h.restart({ downMs: 1500 });
      await until('watching again', 20_000, async () => ((await h.clients()).length === 1 ? true : undefined));
      await h.upsert(ID, rendered({ admin, port, password: 'pass3' }));
      status = await until('pass3 applied (tcp-listener gone)', 15_000, async () => {
        const s = await json<Status>(`${health}/status`);
        return s.listeners.length === 1 ? s : undefined;
      });
      assertRelayed(await load(port, peer, 'pass3', 1, 20), 1, 20);

      // An abrupt restart (no close frame); the restarted server holds the config again (a restarted operator
      // renders it again): the same config, so no reload; then an update applies.
      const before = await json<Status>(`${health}/status`);
      await h.restart({ abrupt: true, downMs: 1500 });
      await until('watching again', 20_000, async () => ((await h.clients()).length === 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await json<Status>(`${health}/status`)).configGeneration, before.configGeneration,
        'the same config after a reconnect is not reloaded');
      await h.upsert(ID, rendered({ admin, port, password: 'pass4' }));
      await until('pass4', 15_000, async () =>
        ((await allocateCode({ kind: 'udp', port, username: USER, password: 'pass4' })) === 200 ? true : undefined));
      assertRelayed(await load(port, peer, 'pass4', 1, 20), 1, 20);
      assert.match(d.output(), /--udp-thread-num 16: running \d+ dataplane worker/);

      checkWire(t);

      // SIGTERM, upstream's way: /ready 503, a new Allocate is still accepted, no further update is applied.
      const exited = once(d.child, 'exit');
      d.child.kill('SIGTERM');
      await until('/ready 503', 10_000, async () => ((await fetch(`${health}/ready`)).status === 503 ? true : undefined));
      assert.equal(await allocateCode({ kind: 'udp', port, username: USER, password: 'pass4' }), 200);
      assert.equal((await json<Status>(`${health}/status`)).status, 'TERMINATING');
      await until('the watch closed', 10_000, async () => ((await h.clients()).length === 0 ? true : undefined));
      // uclient and allocateCode leave allocations open (until their lifetime ends): a second SIGTERM exits now.
      d.child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, d.output());
    } finally {
      await p?.stop('SIGKILL');
      await tap?.stop();
      await cds?.stop();
      await peer.stop();
    }
  });

/** What our client put on the wire, against docs/cds-protocol.md. */
function checkWire(t: WsTap): void {
  const request = t.requests[0] ?? '';
  const [requestLine, ...headerLines] = request.split('\r\n');
  assert.equal(requestLine, `GET /api/v1/configs/${NS}/${GW}?node=${NODE}&watch=true HTTP/1.1`);
  const headers = new Map(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  assert.equal(headers.get('host'), t.address);
  assert.equal(headers.get('origin'), `http://${t.address}`, 'the host dialled (upstream appends the query too)');
  assert.equal(headers.get('sec-websocket-version'), '13');
  assert.ok(t.requests.filter((r) => r !== undefined).every((r) => r.split('\r\n')[0] === requestLine), 'same URL on every dial');

  const first = t.frames.filter((f) => f.connection === 0);
  const pings = first.filter((f) => f.opcode === OPCODE.ping);
  assert.ok(pings.length >= 2);
  for (const ping of pings) {
    assert.deepEqual([ping.from, ping.masked, ping.payload.toString()], ['client', true, 'keepalive']);
  }
  for (let i = 1; i < pings.length; i++) {
    const gap = pings[i]!.at - pings[i - 1]!.at;
    assert.ok(gap > 4500 && gap < 5600, `ping interval ${gap} ms`);
  }
  assert.ok(first.filter((f) => f.opcode === OPCODE.pong).length >= pings.length - 1, 'each ping answered');
  // Nothing but pings (and a close frame on the way out) from the client.
  assert.deepEqual([...new Set(t.frames.filter((f) => f.from === 'client').map((f) => f.opcode))]
    .filter((o) => o !== OPCODE.close), [OPCODE.ping]);
}

/** The structure of a JSON value: keys and types, recursively (arrays by their first element). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  }
  return typeof v;
}

/** `ours` has every field of `theirs` with the same shape; returns the paths only ours has. */
function extras(ours: unknown, theirs: unknown, path = ''): string[] {
  if (Array.isArray(theirs)) {
    assert.ok(Array.isArray(ours), `${path}: an array in upstream's, ${typeof ours} in ours`);
    return theirs.length === 0 || ours.length === 0 ? [] : extras(ours[0], theirs[0], `${path}[]`);
  }
  if (theirs !== null && typeof theirs === 'object') {
    assert.ok(ours !== null && typeof ours === 'object' && !Array.isArray(ours), `${path}: an object in upstream's`);
    const o = ours as Record<string, unknown>;
    const out = Object.keys(o).filter((k) => !(k in theirs)).map((k) => `${path}.${k}`);
    for (const [k, x] of Object.entries(theirs)) {
      assert.ok(k in o, `${path}.${k}: in upstream's /status, missing in ours`);
      out.push(...extras(o[k], x, `${path}.${k}`));
    }
    return out;
  }
  assert.equal(typeof ours, typeof theirs, `${path}: ${typeof theirs} in upstream's`);
  return [];
}

test("/live, /ready and /status next to upstream stunnerd's for the same config", { timeout: 120_000 }, async () => {
  const port = await freeUdpPort();
  const config = (admin: Record<string, unknown>, p: number) => rendered({ admin, port: p, password: 'pass1' });
  let up: UpstreamStunnerd | undefined;
  let p: Proc | undefined;
  try {
    const upAdmin = await loopbackAdmin();
    up = await startUpstreamStunnerd({ config: { ...config(upAdmin, await freeUdpPort()),
      listeners: [{ name: `${ID}/udp-listener`, protocol: 'TURN-UDP', address: '127.0.0.1', port: await freeUdpPort(),
        routes: [`${NS}/media-plane`] }] } });
    const ours = await loopbackAdmin();
    const cds = await startCdsHarness();
    try {
      await cds.upsert(ID, { ...config(ours, port), listeners: [{ name: `${ID}/udp-listener`, protocol: 'TURN-UDP',
        address: '127.0.0.1', port, routes: [`${NS}/media-plane`] }] });
      p = stunnerd(['-c', cds.url, '-i', ID, '-u', '1'], OTEL_UNSET);
      await until('ours ready', 20_000, async () => ((await fetch(`${ours.healthcheck_endpoint}/ready`)).status === 200 ? true : undefined));
    } finally {
      await cds.stop();
    }
    for (const path of ['/live', '/ready']) {
      const upstream: Response = await fetch(`${up.healthUrl}${path}`);
      const our: Response = await fetch(`${ours.healthcheck_endpoint}${path}`);
      assert.deepEqual([our.status, our.headers.get('content-type'), await our.text()],
        [upstream.status, upstream.headers.get('content-type'), await upstream.text()], path);
    }
    const theirs = await up.status();
    const mine = await json<Record<string, unknown>>(`${ours.healthcheck_endpoint}/status`);
    assert.deepEqual(extras(mine, theirs).sort(), ['.buildVersion', '.configGeneration', '.configSource', '.instanceId',
      '.listeners[].allocations', '.listeners[].connections', '.uptimeSeconds'], JSON.stringify({ theirs: shape(theirs), ours: shape(mine) }));
    const a = theirs as { admin: Record<string, unknown>; status: string; version: string };
    const b = mine as unknown as { admin: Record<string, unknown>; status: string; version: string };
    assert.deepEqual([b.version, b.status, b.admin.quota, b.admin.offload, b.admin.licensing_info],
      [a.version, a.status, a.admin.quota, a.admin.offload, a.admin.licensing_info]);
  } finally {
    await p?.stop('SIGKILL');
    await up?.stop(5000);
  }
});
