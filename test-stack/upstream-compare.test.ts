// Upstream stunnerd v1.2.1 and ours side by side: the same stunnerd v1 config (one TURN-UDP listener, one STATIC
// cluster, static auth) and the same turnutils_uclient load, each server alone, one after the other, each started
// with its default command line (`-c <config>`). Their stunner_* families are compared — names, # TYPE, label names
// and values, which exist before any traffic — and the values where both count the same thing. The tables below are
// the exact list of differences: a change on either side fails this test. README "Differences from upstream
// stunnerd's metrics" lists the same rows with the same reasons.
// Upstream binds its listener and relay sockets on every interface: run inside .ci/netns.sh (npm run test:stack does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, stunnerd } from '../test/helpers/process.ts';
import { until } from '../test/telemetry-e2e/support/stunnerd.ts';
import { runUclient, startTurnutilsPeer, type EchoPeerProc } from '../test/telemetry-e2e/support/load.ts';
import type { UclientResult } from '../test/helpers/uclient.ts';
import { loopbackAdmin, startUpstreamStunnerd, type StunnerConfig } from './helpers/upstream.ts';
import { differences, parseExposition, total, type Difference, type Exposition } from './helpers/metrics-diff.ts';

const LISTENER = 'udp-listener';
const CLUSTER = 'media-plane';
const LOAD = { sessions: 4, messages: 50, size: 120, intervalMs: 5 };

/** Every difference of the two expositions, as differences() reports them, and why it is there. */
const EXPECTED: readonly (Difference & { why: string })[] = [
  { family: '*', what: 'otel_scope_* labels',
    upstream: 'otel_scope_name="stunner", otel_scope_schema_url="", otel_scope_version=""', ours: 'none',
    why: 'upstream\'s OTel Go Prometheus exporter labels every sample with the instrumentation scope; the metrics ' +
      'contract has none (they name an SDK detail and change with its upgrades; our collector configs drop them too)' },
  { family: '*', what: 'families before any traffic',
    upstream: 'stunner_allocations_active, stunner_listener_connections, stunner_listener_connections_total',
    ours: 'all but stunner_requests_total',
    why: 'upstream\'s SDK exports a series once something was recorded on it (the observable allocation gauge, and the ' +
      'listening socket counted as a connection); ours exports every series of the configured listeners and clusters ' +
      'at 0 from the start, so rate() and increase() see the first packets; a requests_total series appears with the ' +
      'first answer of its method and code' },
  { family: 'stunner_allocation_duration_seconds', what: 'family', upstream: '—', ours: 'histogram {name}',
    why: 'an addition of ours (lifetime of ended allocations)' },
  { family: 'stunner_allocations_active', what: 'series', upstream: '{}', ours: `{name="${LISTENER}"}`,
    why: 'upstream has one series for the process (the server\'s allocation count); ours one per listener, whose ' +
      'sum() is upstream\'s' },
  { family: 'stunner_build_info', what: 'family', upstream: '—', ours: 'gauge {runtime_version, version}',
    why: 'an addition of ours' },
  { family: 'stunner_cluster_bytes_total', what: 'series',
    upstream: `{direction="rx",name="${CLUSTER}"} {direction="tx",name="${CLUSTER}"}`,
    ours: `{cluster="${CLUSTER}",direction="rx",name="${LISTENER}"} {cluster="${CLUSTER}",direction="tx",name="${LISTENER}"}`,
    why: 'upstream names the cluster in `name`; the monitoring spec ours follows keeps `name` the listener the cluster ' +
      'series is on behalf of and adds `cluster` (sum by (cluster) on ours is upstream\'s by (name))' },
  { family: 'stunner_cluster_connections', what: 'family', upstream: '—', ours: 'gauge {cluster, name}',
    why: 'in the monitoring spec, but v1.2.1 does not record it (its telemetry says "cluster connection metrics are ' +
      'disabled"); ours counts relayed peer flows (permissions, TCP peer connections)' },
  { family: 'stunner_cluster_connections_total', what: 'family', upstream: '—', ours: 'counter {cluster, name}',
    why: 'as stunner_cluster_connections' },
  { family: 'stunner_cluster_packets_total', what: 'series',
    upstream: `{direction="rx",name="${CLUSTER}"} {direction="tx",name="${CLUSTER}"}`,
    ours: `{cluster="${CLUSTER}",direction="rx",name="${LISTENER}"} {cluster="${CLUSTER}",direction="tx",name="${LISTENER}"}`,
    why: 'as stunner_cluster_bytes_total' },
  { family: 'stunner_config_last_reload_successful', what: 'family', upstream: '—', ours: 'gauge {}',
    why: 'an addition of ours' },
  { family: 'stunner_config_reloads_total', what: 'family', upstream: '—', ours: 'counter {result}',
    why: 'an addition of ours' },
  { family: 'stunner_dropped_packets_total', what: 'family', upstream: '—', ours: 'counter {name, reason}',
    why: 'an addition of ours' },
  { family: 'stunner_peer_unreachable_total', what: 'family', upstream: '—', ours: 'counter {icmp, name}',
    why: 'an addition of ours' },
  { family: 'stunner_requests_total', what: 'family', upstream: '—', ours: 'counter {code, method, name}',
    why: 'an addition of ours' },
  { family: 'stunner_send_dropped_packets_total', what: 'family', upstream: '—', ours: 'counter {name, to}',
    why: 'an addition of ours' },
  { family: 'stunner_worker_restarts_total', what: 'family', upstream: '—', ours: 'counter {}',
    why: 'an addition of ours' },
];

/** What one server's run gave: its exposition before and after the load, uclient's counts, our request counts. */
interface Run {
  readonly before: Exposition;
  readonly after: Exposition;
  readonly uclient: UclientResult;
}

/** Figures of the load, read from uclient and from our stunner_requests_total (the same requests reach both). */
interface Load {
  readonly sent: number;
  readonly received: number;
  /** Our answers: successes, 401 challenges, Allocate successes, Allocate requests, answers of any other code. */
  readonly ok: number;
  readonly challenged: number;
  readonly allocated: number;
  readonly allocateRequests: number;
  readonly otherCodes: number;
}

interface Measure {
  readonly measure: string;
  readonly family: string;
  readonly match?: Readonly<Record<string, string>>;
}

/** Both count the same thing: equal on both sides, and equal to what uclient reports where it reports it. */
const SAME: readonly (Measure & { expect?: (l: Load) => number })[] = [
  { measure: 'cluster tx packets', family: 'stunner_cluster_packets_total', match: { direction: 'tx' }, expect: (l) => l.sent },
  { measure: 'cluster tx bytes', family: 'stunner_cluster_bytes_total', match: { direction: 'tx' }, expect: (l) => l.sent * LOAD.size },
  { measure: 'cluster rx packets', family: 'stunner_cluster_packets_total', match: { direction: 'rx' }, expect: (l) => l.received },
  { measure: 'cluster rx bytes', family: 'stunner_cluster_bytes_total', match: { direction: 'rx' }, expect: (l) => l.received * LOAD.size },
  { measure: 'listener rx packets', family: 'stunner_listener_packets_total', match: { direction: 'rx' } },
  { measure: 'listener tx packets', family: 'stunner_listener_packets_total', match: { direction: 'tx' } },
  { measure: 'allocations active', family: 'stunner_allocations_active' },
];

/** Counted differently, or not quite the same thing: what holds instead (`u` upstream's value, `o` ours). */
const DIFFERENT: readonly (Measure & { holds: (u: number, o: number, l: Load, ours: Exposition) => boolean; why: string })[] = [
  { measure: 'listener connections', family: 'stunner_listener_connections',
    holds: (u, o, _l, ours) => u === 1 && o === total(ours, 'stunner_allocations_active'),
    why: 'upstream counts the listener\'s open sockets: for TURN-UDP its listening socket (one per --udp-thread-num ' +
      'readloop; 1 by default), for TCP/TLS/DTLS the accepted connections; ours counts client 5-tuples holding an ' +
      'allocation on TURN-UDP (the spec\'s downstream connection), and connections on the others' },
  { measure: 'listener connections total', family: 'stunner_listener_connections_total',
    holds: (u, o, l) => u === 1 && o === l.allocated, why: 'as listener connections: sockets opened vs allocations made' },
  { measure: 'listener rx bytes', family: 'stunner_listener_bytes_total', match: { direction: 'rx' },
    holds: (u, o, l) => (o - u) % 8 === 0 && Math.abs(o - u) <= 8 * l.allocateRequests,
    why: 'the same datagrams, but uclient adds an EVEN-PORT attribute (8 B) to an Allocate at random, so the two ' +
      'runs may differ by 8 B per Allocate' },
  { measure: 'listener tx bytes', family: 'stunner_listener_bytes_total', match: { direction: 'tx' },
    holds: (u, o, l) => {
      // Ours: FINGERPRINT (8 B) on every response, and the 401's reason phrase "Unauthenticated" (16 B) where pion
      // sends none; pion: a RESERVATION-TOKEN (12 B) on each Allocate success whose request had EVEN-PORT, even
      // with R = 0 (RFC 8656 §7.2 asks for one only when R = 1).
      const tokens = (8 * l.ok + 24 * l.challenged - (o - u)) / 12;
      return l.otherCodes === 0 && Number.isInteger(tokens) && tokens >= 0 && tokens <= l.allocated;
    },
    why: 'the same datagrams (tx packets are equal) but different responses: ours adds FINGERPRINT to every response ' +
      'and a reason phrase to the 401; upstream (pion/turn) a RESERVATION-TOKEN to an Allocate success whenever the ' +
      'request carried EVEN-PORT' },
];

/** Whatever OTEL_* the invoking shell has stays out of our stunnerd. */
const NO_OTEL = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]));

const RETRIED = /trying allocate again 437/;

/** uclient through the server on `port`, and /metrics before and after (once the last echo is counted). */
async function measure(port: number, peer: EchoPeerProc, scrape: () => Promise<string>): Promise<Run> {
  const before = parseExposition(await scrape());
  const uclient = await runUclient({ port, peerPort: peer.port, ...LOAD }).done;
  assert.equal(uclient.code, 0, uclient.output);
  // On a loaded machine uclient retransmits an Allocate pion/turn has already answered, pion answers it 437 and
  // uclient allocates again (see upstream-tools.test.ts); such a run is repeated, no other error is allowed.
  assert.deepEqual(uclient.errors.filter((e) => !(e.startsWith('437') && RETRIED.test(uclient.output))), [], uclient.output);
  await until('the last echo counted', 10_000, async () =>
    (total(parseExposition(await scrape()), 'stunner_cluster_packets_total', { direction: 'rx' }) >= uclient.received ? true : undefined));
  // Settled: the answers to the last requests (the deletions) counted too.
  await new Promise((r) => setTimeout(r, 500));
  return { before, after: parseExposition(await scrape()), uclient };
}

async function runUpstream(config: StunnerConfig, port: number, peer: EchoPeerProc): Promise<Run> {
  // (Upstream reads no OTEL_* but the resource's, which only target_info shows.)
  const up = await startUpstreamStunnerd({ config });
  try {
    return await measure(port, peer, () => up.metrics());
  } finally {
    await up.stop(1000);
  }
}

async function runOurs(config: StunnerConfig, port: number, peer: EchoPeerProc): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'stunnerd-compare-'));
  const file = join(dir, 'stunnerd.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const proc = stunnerd(['-c', file], NO_OTEL);
  try {
    await proc.waitFor('stunnerd running', 20_000);
    const url = (config.admin as { metrics_endpoint: string }).metrics_endpoint;
    return await measure(port, peer, async () => (await fetch(url)).text());
  } finally {
    // Allocations uclient leaves would hold a SIGTERM drain open.
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

test('upstream stunnerd v1.2.1 and ours under the same config and uclient load: every difference of their stunner_* metrics',
  { timeout: 240_000 }, async (t) => {
    const peer = await startTurnutilsPeer();
    try {
      const port = await freeUdpPort();
      const config: StunnerConfig = {
        version: 'v1',
        admin: { name: 'stunnerd-compare', loglevel: 'all:WARN,stunnerd:INFO', ...await loopbackAdmin() },
        auth: { type: 'static', realm: 'compare.example.org', credentials: { username: 'user1', password: 'pass1' } },
        listeners: [{ name: LISTENER, protocol: 'TURN-UDP', address: '127.0.0.1', port, routes: [CLUSTER] }],
        clusters: [{ name: CLUSTER, type: 'STATIC', endpoints: ['127.0.0.1/32'] }],
      };
      let up = await runUpstream(config, port, peer);
      let ours = await runOurs(config, port, peer);
      // A request uclient sent twice (its retransmission on a loaded machine) makes the listener counts of that
      // run differ from the other's without either server counting wrong: then both run once more.
      const rxPackets = (r: Run) => total(r.after, 'stunner_listener_packets_total', { direction: 'rx' });
      if (rxPackets(up) !== rxPackets(ours) || [up, ours].some((r) => RETRIED.test(r.uclient.output))) {
        t.diagnostic(`uclient sent a request twice (listener rx packets: upstream ${rxPackets(up)}, ours ${rxPackets(ours)}): once more`);
        up = await runUpstream(config, port, peer);
        ours = await runOurs(config, port, peer);
      }

      const found = differences(up, ours);
      for (const d of found) t.diagnostic(`${d.family} | ${d.what} | ${d.upstream} | ${d.ours}`);
      assert.deepEqual(found, EXPECTED.map(({ why: _why, ...d }) => d));

      for (const r of [up, ours]) assert.equal(r.uclient.received, r.uclient.sent, r.uclient.output);
      assert.equal(up.uclient.sent, ours.uclient.sent);
      const requests = (match: Record<string, string>) => total(ours.after, 'stunner_requests_total', match);
      const load: Load = {
        sent: ours.uclient.sent, received: ours.uclient.received,
        ok: requests({ code: '200' }), challenged: requests({ code: '401' }),
        allocated: requests({ method: 'allocate', code: '200' }), allocateRequests: requests({ method: 'allocate' }),
        otherCodes: requests({}) - requests({ code: '200' }) - requests({ code: '401' }),
      };
      const values = (m: Measure) => ({ u: total(up.after, m.family, m.match), o: total(ours.after, m.family, m.match) });
      for (const m of SAME) {
        const { u, o } = values(m);
        t.diagnostic(`${m.measure}: upstream ${u}, ours ${o}`);
        assert.equal(u, o, `${m.measure}: upstream ${u}, ours ${o}`);
        if (m.expect !== undefined) assert.equal(u, m.expect(load), `${m.measure}: uclient ${JSON.stringify(load)}`);
      }
      for (const m of DIFFERENT) {
        const { u, o } = values(m);
        t.diagnostic(`${m.measure}: upstream ${u}, ours ${o}`);
        assert.ok(m.holds(u, o, load, ours.after), `${m.measure}: upstream ${u}, ours ${o}, load ${JSON.stringify(load)}`);
      }
      // Something counted on both sides at all: not two empty expositions that agree.
      assert.ok(load.sent === LOAD.sessions * LOAD.messages && load.ok > 0 && load.challenged > 0, JSON.stringify(load));
    } finally {
      await peer.stop();
    }
  });
