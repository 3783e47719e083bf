// The multi-worker dataplane (--udp-thread-num 2) as users run it: coturn's uclient spread over both workers,
// exact listener and cluster counts in /metrics and in the OTLP push (sums over the workers' stripes); and a
// worker killed in the middle of calls: it is restarted and counted, and the other worker's calls go on, their
// datagrams forwarded from whichever worker the kernel now hands them to.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TurnClient, type TurnClientError } from '../../src/client/turn-client.ts';
import { Daemon } from '../../src/daemon/daemon.ts';
import { freeUdpPort } from '../helpers/process.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { turnutilsPeer, uclient } from '../helpers/uclient.ts';
import { udpTap } from '../helpers/udp-tap.ts';
import { echoPaced } from '../helpers/wire.ts';
import { OtlpJsonReceiver, metricsOf, otlpSamples, scrapeSamples } from '../telemetry/helpers/otlp-receiver.ts';
import { get } from '../telemetry/helpers/http.ts';
import { PASS, USER, startStunnerd, until } from '../telemetry-e2e/support/stunnerd.ts';

const L = 'udp-listener';
const C = 'media-plane';
const SESSIONS = 20;
const MESSAGES = 100;
const SIZE = 120;
const CLIENTS = 16;

/** The first of `n` consecutive UDP ports free on 127.0.0.1 now. */
async function freeUdpRange(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const sockets = [];
    try {
      for (let p = base; p < base + n; p++) {
        const s = createSocket('udp4');
        sockets.push(s);
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(p, '127.0.0.1', () => resolve());
        });
      }
      return base;
    } catch {
      // taken: another base
    } finally {
      for (const s of sockets) s.close();
    }
  }
}

/** The listener and cluster packet and byte series of a set of samples. */
function traffic(samples: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...samples].filter(([k]) => /^stunner_(listener|cluster)_(packets|bytes)_total\{/.test(k)).sort());
}

test('-u 2: uclient sessions on both workers; /metrics and the OTLP push count every packet and byte exactly',
  { timeout: 120_000 }, async () => {
    // Everything started here is stopped in `finally`, whatever failed first: a helper process left running
    // would keep the test process, and the whole suite, from ever ending.
    const otlp = new OtlpJsonReceiver();
    let peer: Awaited<ReturnType<typeof turnutilsPeer>> | undefined;
    let gw: Awaited<ReturnType<typeof startStunnerd>> | undefined;
    let tap: Awaited<ReturnType<typeof udpTap>> | undefined;
    try {
      const url = await otlp.start();
      const peerPort = await freeUdpPort();
      peer = await turnutilsPeer('127.0.0.1', peerPort);
      gw = await startStunnerd({
        listeners: [{ name: L, routes: [C] }], clusters: [{ name: C, endpoints: ['127.0.0.1/32'] }], health: true,
        args: ['-u', '2'],
        env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
          OTEL_METRIC_EXPORT_INTERVAL: '500' },
      });
      // What uclient puts on the wire towards the gateway and gets back, counted by a relay in between that keeps
      // one 5-tuple per uclient socket (so the kernel still spreads them over the workers).
      tap = await udpTap({ address: '127.0.0.1', port: gw.ports.get(L)! });
      const r = await uclient({ port: tap.port, user: USER, password: PASS, sessions: SESSIONS, messages: MESSAGES,
        intervalMs: 20, size: SIZE, peer: { address: '127.0.0.1', port: peerPort } });
      assert.equal(r.sent, SESSIONS * MESSAGES, r.output.slice(-2000));
      assert.equal(r.received, r.sent);
      // uclient leaves its allocations open when it exits: /status shows where they live.
      const status = JSON.parse((await get(`${gw.healthUrl}/status`)).body) as { workers: { worker: number; allocations: number }[] };
      assert.equal(status.workers.length, 2);
      assert.ok(status.workers.every((w) => w.allocations > 0), `allocations per worker: ${JSON.stringify(status.workers)}`);

      await new Promise((resolve) => setTimeout(resolve, 300));
      const scraped = scrapeSamples(await gw.scrape());
      const want = {
        [`stunner_listener_packets_total{direction="rx",name="${L}"}`]: tap.toServer.packets,
        [`stunner_listener_packets_total{direction="tx",name="${L}"}`]: tap.fromServer.packets,
        [`stunner_listener_bytes_total{direction="rx",name="${L}"}`]: tap.toServer.bytes,
        [`stunner_listener_bytes_total{direction="tx",name="${L}"}`]: tap.fromServer.bytes,
        [`stunner_cluster_packets_total{direction="tx",name="${L}",cluster="${C}"}`]: r.sent,
        [`stunner_cluster_packets_total{direction="rx",name="${L}",cluster="${C}"}`]: r.received,
        [`stunner_cluster_bytes_total{direction="tx",name="${L}",cluster="${C}"}`]: r.sent * SIZE,
        [`stunner_cluster_bytes_total{direction="rx",name="${L}",cluster="${C}"}`]: r.received * SIZE,
      };
      assert.deepEqual(traffic(scraped), Object.fromEntries(Object.entries(want).sort()));

      // Pushes collected after the traffic stopped carry the same sums (a push may span several requests).
      const from = otlp.requests.length;
      await otlp.after(from, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const pushed = traffic(otlpSamples(metricsOf(otlp.requests.slice(from))));
      assert.deepEqual(pushed, traffic(scraped));
    } finally {
      await tap?.close();
      await gw?.stop();
      await peer?.stop();
      await otlp.close();
    }
  });

/**
 * Kills worker 0, then (when the kernel would now move worker 0's clients) worker 1, each in the middle of calls.
 * `clientSockets`: each client gets a connected socket of its own (the default), which the kernel keeps
 * delivering to whatever the reuseport group does; without them the moved datagrams must be forwarded.
 */
async function killDuringCalls(clientSockets: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'workers-'));
  const port = await freeUdpPort();
  const file = join(dir, 'stunnerd.yaml');
  // Exactly as many relay ports and allocations as clients: the killed worker's clients can allocate again
  // only if its ports and its allocation counts were given back.
  const range = await freeUdpRange(CLIENTS);
  writeFileSync(file, `version: v1
admin: { name: workers, loglevel: "all:WARN", metrics_endpoint: "", healthcheck_endpoint: "", limits: { max_allocations: ${CLIENTS} } }
auth: { type: static, realm: workers.example.org, credentials: { username: ${USER}, password: ${PASS} } }
listeners:
  - { name: ${L}, protocol: TURN-UDP, address: 127.0.0.1, port: ${port}, routes: [${C}], min_relay_port: ${range}, max_relay_port: ${range + CLIENTS - 1} }
clusters:
  - { name: ${C}, type: STATIC, endpoints: [127.0.0.1/32] }
`);
  const daemon = new Daemon({ configPath: file, logFormat: 'text', workers: 2, logLevel: 'all:ERROR', clientSockets });
  const echo = await startEchoPeer('127.0.0.1');
  const clients: TurnClient[] = [];
  try {
    await daemon.start();
    const pool = daemon.workers!;
    for (let i = 0; i < CLIENTS; i++) {
      const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS, rtoMs: 500 });
      clients.push(c);
      await c.allocate();
      await c.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: echo.port });
    }
    const ownerOf = (c: TurnClient) => pool.flowOwner(L, '127.0.0.1', c.transport.localAddress.port);
    const on = (worker: number) => clients.filter((c) => ownerOf(c) === worker);
    const kill = async (worker: number, restarts: number) => {
      await pool.eventLoops().find((w) => w.worker === worker)!.thread.terminate();
      await until(`worker ${worker} restarted`, 20_000, async () =>
        pool.runningWorkers().includes(worker) && daemon.registry.gateway.workerRestarts === restarts ? true : undefined);
    };
    await Promise.all(clients.map((c) => echoPaced(c, 0x4000, 5, 100, 10)));

    // Kill worker 0 while the calls run: worker 1's calls go on; worker 0's allocations are gone.
    let survivors = on(1);
    const lost = on(0);
    assert.ok(survivors.length > 0 && lost.length > 0, `owners ${clients.map(ownerOf).join(',')}`);
    let calls = survivors.map((c) => echoPaced(c, 0x4000, 50, 100, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await kill(0, 1);
    await Promise.all(calls); // every echo came back, each within 5 s
    await Promise.all(survivors.map((c) => echoPaced(c, 0x4000, 20, 100, 5)));
    // Refreshing a lost allocation is an allocation mismatch; the gauges dropped with the worker.
    await assert.rejects(lost[0].refresh(), (err: TurnClientError) => err.code === 437);
    daemon.registry.refresh();
    assert.equal(daemon.registry.listener(L).allocationsActive, survivors.length);
    // The range and max_allocations are full again only because the dead worker's share was given back.
    for (const c of lost) {
      await c.allocate();
      await c.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: echo.port });
    }

    // The kernel picks a socket of the reuseport group by the flow's hash and the socket's place in the group;
    // a closed socket's place is taken by the group's last one, and a new socket goes last. So if worker 0 was
    // first in the group, its restart moved worker 1's flows to it and they were forwarded above. Otherwise the
    // restarted worker 0 is last now, and killing worker 1 moves every flow of worker 0 to the new worker 1.
    survivors = on(0);
    if (survivors.length > 0) {
      calls = survivors.map((c) => echoPaced(c, 0x4000, 50, 100, 20));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await kill(1, 2);
      await Promise.all(calls);
      await Promise.all(survivors.map((c) => echoPaced(c, 0x4000, 20, 100, 5)));
      daemon.registry.refresh();
      assert.equal(daemon.registry.listener(L).allocationsActive, survivors.length);
    }
    // Without client sockets the surviving calls went on only because their datagrams were forwarded.
    if (!clientSockets) {
      assert.ok(pool.forwardedDatagrams >= 20, `forwarded ${pool.forwardedDatagrams} datagrams of the surviving calls`);
    }
  } finally {
    for (const c of clients) c.close();
    await daemon.stop();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a worker killed during calls is restarted and counted; the other worker\'s calls go on', { timeout: 120_000 },
  () => killDuringCalls(true));

test('without client sockets, the calls the kernel moves to a restarted worker go on, forwarded to their owner',
  { timeout: 120_000 }, () => killDuringCalls(false));

