// The stunnerd process's /metrics after a known relay exchange by our own TurnClient, compared with the expected
// text line for line: family names, # TYPE lines, label sets, label order and exact values. Listener counters are
// computed from the datagrams the client captured on its own socket; cluster counters from the payloads relayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient, TurnClientError } from '../../src/client/turn-client.ts';
import type { TransportAddress } from '../../src/stun/address.ts';
import { PACKAGE_VERSION } from '../../src/telemetry/version.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { familyLines, sample } from './support/exposition.ts';
import { PASS, USER, startStunnerd, until } from './support/stunnerd.ts';
import { captureWire, echoLockStep } from '../helpers/wire.ts';

const LISTENER = 'stunner/udp-gateway/udp-listener';
const IDLE = 'stunner/udp-gateway/idle-listener';
const CLUSTER = 'media-plane/echo';
const BACKUP = 'media-plane/backup';
const N = 40;
const L = 160;
const CHANNEL = 0x4000;

const LE = ['1', '5', '10', '30', '60', '120', '300', '600', '1200', '1800', '3600', '7200', '14400', '43200', '+Inf'];
const BOUNDS = LE.slice(0, -1).map(Number);

interface Known {
  rxPackets: number; rxBytes: number; txPackets: number; txBytes: number;
  allocations: number; connections: number; clusterConnections: number;
  requests: [method: string, code: number, count: number][];
  malformed: number; noPermission: number;
  /** Ended allocations' lifetimes (s) as the gateway reported their sum; empty = none ended. */
  durations: { count: number; sum: number };
}

/** The stunner_* part of the exposition the gateway must serve after the exchange (HELP lines aside). */
function expectedText(k: Known): string {
  const l = `name="${LISTENER}"`;
  const i = `name="${IDLE}"`;
  const lc = `${l},cluster="${CLUSTER}"`;
  const ic = `${i},cluster="${CLUSTER}"`;
  const ib = `${i},cluster="${BACKUP}"`;
  const reasons = ['malformed', 'no_permission', 'no_allocation', 'forbidden_peer', 'rate_limited', 'quota'];
  const drops = (labels: string, counts: number[]) =>
    reasons.map((r, n) => `stunner_dropped_packets_total{${labels},reason="${r}"} ${counts[n] ?? 0}`);
  const histogram = (labels: string, lifetimes: { count: number; sum: number }) => {
    const n = 'stunner_allocation_duration_seconds';
    // One ended allocation at most here, so its bucket follows from the sum.
    const cumulative = LE.map((_, b) => (lifetimes.count > 0 && (b === BOUNDS.length || lifetimes.sum <= BOUNDS[b]) ? 1 : 0));
    return [
      ...LE.map((le, b) => `${n}_bucket{${labels},le="${le}"} ${cumulative[b]}`),
      `${n}_sum{${labels}} ${lifetimes.sum}`,
      `${n}_count{${labels}} ${lifetimes.count}`,
    ];
  };
  const family = (name: string, type: string, lines: string[]) => [`# TYPE ${name} ${type}`, ...lines];
  return [
    ...family('stunner_listener_connections', 'gauge', [
      `stunner_listener_connections{${l}} ${k.connections}`,
      `stunner_listener_connections{${i}} 0`,
    ]),
    ...family('stunner_listener_connections_total', 'counter', [
      `stunner_listener_connections_total{${l}} 1`,
      `stunner_listener_connections_total{${i}} 0`,
    ]),
    ...family('stunner_listener_packets_total', 'counter', [
      `stunner_listener_packets_total{direction="rx",${l}} ${k.rxPackets}`,
      `stunner_listener_packets_total{direction="tx",${l}} ${k.txPackets}`,
      `stunner_listener_packets_total{direction="rx",${i}} 0`,
      `stunner_listener_packets_total{direction="tx",${i}} 0`,
    ]),
    ...family('stunner_listener_bytes_total', 'counter', [
      `stunner_listener_bytes_total{direction="rx",${l}} ${k.rxBytes}`,
      `stunner_listener_bytes_total{direction="tx",${l}} ${k.txBytes}`,
      `stunner_listener_bytes_total{direction="rx",${i}} 0`,
      `stunner_listener_bytes_total{direction="tx",${i}} 0`,
    ]),
    ...family('stunner_allocations_active', 'gauge', [
      `stunner_allocations_active{${l}} ${k.allocations}`,
      `stunner_allocations_active{${i}} 0`,
    ]),
    ...family('stunner_requests_total', 'counter',
      k.requests.map(([method, code, count]) => `stunner_requests_total{${l},method="${method}",code="${code}"} ${count}`)),
    ...family('stunner_dropped_packets_total', 'counter', [
      ...drops(l, [k.malformed, k.noPermission]),
      ...drops(i, []),
    ]),
    ...family('stunner_send_dropped_packets_total', 'counter', [
      `stunner_send_dropped_packets_total{${l},to="client"} 0`,
      `stunner_send_dropped_packets_total{${l},to="peer"} 0`,
      `stunner_send_dropped_packets_total{${i},to="client"} 0`,
      `stunner_send_dropped_packets_total{${i},to="peer"} 0`,
    ]),
    ...family('stunner_peer_unreachable_total', 'counter', [l, i].flatMap((x) =>
      ['port_unreachable', 'prohibited', 'other'].map((icmp) => `stunner_peer_unreachable_total{${x},icmp="${icmp}"} 0`))),
    ...family('stunner_allocation_duration_seconds', 'histogram', [
      ...histogram(l, k.durations),
      ...histogram(i, { count: 0, sum: 0 }),
    ]),
    ...family('stunner_cluster_connections', 'gauge', [
      `stunner_cluster_connections{${lc}} ${k.clusterConnections}`,
      `stunner_cluster_connections{${ic}} 0`,
      `stunner_cluster_connections{${ib}} 0`,
    ]),
    ...family('stunner_cluster_connections_total', 'counter', [
      `stunner_cluster_connections_total{${lc}} 1`,
      `stunner_cluster_connections_total{${ic}} 0`,
      `stunner_cluster_connections_total{${ib}} 0`,
    ]),
    // Exactly the N echoed ChannelData payloads: +N packets / +N*L bytes each way.
    ...family('stunner_cluster_packets_total', 'counter', [
      `stunner_cluster_packets_total{direction="rx",${lc}} ${N}`,
      `stunner_cluster_packets_total{direction="tx",${lc}} ${N}`,
      `stunner_cluster_packets_total{direction="rx",${ic}} 0`,
      `stunner_cluster_packets_total{direction="tx",${ic}} 0`,
      `stunner_cluster_packets_total{direction="rx",${ib}} 0`,
      `stunner_cluster_packets_total{direction="tx",${ib}} 0`,
    ]),
    ...family('stunner_cluster_bytes_total', 'counter', [
      `stunner_cluster_bytes_total{direction="rx",${lc}} ${N * L}`,
      `stunner_cluster_bytes_total{direction="tx",${lc}} ${N * L}`,
      `stunner_cluster_bytes_total{direction="rx",${ic}} 0`,
      `stunner_cluster_bytes_total{direction="tx",${ic}} 0`,
      `stunner_cluster_bytes_total{direction="rx",${ib}} 0`,
      `stunner_cluster_bytes_total{direction="tx",${ib}} 0`,
    ]),
    ...family('stunner_config_reloads_total', 'counter', [
      'stunner_config_reloads_total{result="success"} 0',
      'stunner_config_reloads_total{result="failure"} 0',
    ]),
    ...family('stunner_config_last_reload_successful', 'gauge', ['stunner_config_last_reload_successful 1']),
    ...family('stunner_worker_restarts_total', 'counter', ['stunner_worker_restarts_total 0']),
    ...family('stunner_build_info', 'gauge', [
      `stunner_build_info{version="${PACKAGE_VERSION}",runtime_version="${process.version}"} 1`,
    ]),
  ].join('\n');
}

/** Datagrams the gateway must drop as malformed, each of a different kind (the truncated ChannelData needs
 *  the allocation: without one it is a no_allocation drop). */
const MALFORMED: readonly Buffer[] = [
  Buffer.from([0x80, 0x01, 0x02, 0x03]), // RTP-like first bits: neither STUN nor ChannelData
  Buffer.alloc(24, 0xff), // 0b11 first bits
  Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef]), Buffer.alloc(12)]), // bad magic cookie
  Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 0x64]), Buffer.alloc(10)]), // ChannelData shorter than its length
];

test('exposition of the stunnerd process after a known exchange equals the expected text', { timeout: 60_000 }, async () => {
  const gw = await startStunnerd({
    listeners: [{ name: LISTENER, routes: [CLUSTER] }, { name: IDLE, routes: [CLUSTER, BACKUP] }],
    clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }, { name: BACKUP, endpoints: ['10.0.0.0/8'] }],
  });
  const peer = await startEchoPeer('127.0.0.1');
  // A long RTO: a retransmitted request would be counted twice by the gateway but once here.
  const client = await TurnClient.connect({
    kind: 'udp', host: '127.0.0.1', port: gw.ports.get(LISTENER)!, username: USER, password: PASS, rtoMs: 5000,
  });
  const wire = captureWire(client);
  const to: TransportAddress = { family: 4, address: '127.0.0.1', port: peer.port };
  let exitCode: number | null;
  try {
    // Before any traffic every routed series exists at 0 (rate() works from the first scrape).
    assert.equal(sample(await gw.scrape(), `stunner_cluster_packets_total{direction="tx",name="${LISTENER}",cluster="${CLUSTER}"}`), 0);

    const allocating = performance.now();
    await client.allocate(); // 401 challenge, then 200
    await client.createPermission(to);
    const refused = await client.createPermission({ family: 4, address: '127.0.0.2', port: 9 }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof TurnClientError && refused.code === 403, `refused peer: ${String(refused)}`);
    await client.channelBind(CHANNEL, to);
    await echoLockStep(client, CHANNEL, N, L);
    for (const m of MALFORMED) client.sendRaw(m);
    client.sendChannel(CHANNEL + 1, Buffer.alloc(L)); // a channel that was never bound
    assert.equal(peer.received, N);

    // The client's own account of the exchange, before the gateway's is read.
    const control = 2 + 2 + 1; // Allocate x2, CreatePermission x2, ChannelBind
    assert.equal(wire.sent.length, control + N + MALFORMED.length + 1);
    assert.equal(wire.received.length, control + N, 'every request answered, every message echoed, no more');
    assert.deepEqual(wire.sent.slice(control, control + N), new Array(N).fill(4 + L), 'ChannelData: 4-byte header + L');
    assert.deepEqual(wire.received.slice(control), new Array(N).fill(4 + L));

    const known: Known = {
      rxPackets: wire.sent.length, rxBytes: wire.sentBytes(), txPackets: wire.received.length, txBytes: wire.receivedBytes(),
      allocations: 1, connections: 1, clusterConnections: 1,
      requests: [['allocate', 200, 1], ['allocate', 401, 1], ['create_permission', 200, 1],
        ['create_permission', 403, 1], ['channel_bind', 200, 1]],
      malformed: MALFORMED.length, noPermission: 1, durations: { count: 0, sum: 0 },
    };
    assert.ok(known.rxBytes >= N * (L + 4), 'listener rx is at least the relayed payloads plus 4-byte headers');
    // UDP: the last datagrams may still be in the gateway's socket buffer when the first scrape arrives. A worker
    // counts a datagram as received before it decides to drop it, so the drops are awaited too (the scrape may
    // read the worker's counters between the two).
    const rxSeries = `stunner_listener_packets_total{direction="rx",name="${LISTENER}"}`;
    const dropSeries = (reason: string) => `stunner_dropped_packets_total{name="${LISTENER}",reason="${reason}"}`;
    const scraped = await until('the gateway to count every datagram', 5000, async () => {
      const text = await gw.scrape();
      return sample(text, rxSeries) >= known.rxPackets && sample(text, dropSeries('malformed')) >= known.malformed
        && sample(text, dropSeries('no_permission')) >= known.noPermission ? text : undefined;
    });
    assert.equal(familyLines(scraped).join('\n'), expectedText(known));

    // Deleting the allocation (Refresh lifetime 0) ends its connections and records its lifetime.
    assert.equal(await client.refresh(0), 0);
    const elapsed = (performance.now() - allocating) / 1000;
    const after = await gw.scrape();
    // The gateway's clock has millisecond resolution; the client saw the whole life of the allocation.
    const lifetime = sample(after, `stunner_allocation_duration_seconds_sum{name="${LISTENER}"}`);
    assert.ok(lifetime > 0 && lifetime <= elapsed + 0.002, `allocation lifetime ${lifetime} s within the ${elapsed} s the client saw`);
    known.rxPackets++;
    known.rxBytes = wire.sentBytes();
    known.txPackets++;
    known.txBytes = wire.receivedBytes();
    known.allocations = 0;
    known.connections = 0;
    known.clusterConnections = 0;
    // Requests are listed by method, then code.
    known.requests.splice(2, 0, ['refresh', 200, 1]);
    known.durations = { count: 1, sum: lifetime };
    assert.equal(familyLines(after).join('\n'), expectedText(known));
  } finally {
    client.close();
    await peer.close();
    exitCode = await gw.stop();
  }
  assert.equal(exitCode, 0, gw.proc.output());
});
