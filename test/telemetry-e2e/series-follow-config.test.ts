// Series follow the running config of the stunnerd process (-w file watch, SIGHUP): after a reload that removes a
// listener and a cluster and renames the other listener, the removed and old-named series are gone from /metrics
// and from the next OTLP push, the renamed listener's series appear, stunner_config_reloads_total{result="success"}
// counts the reload; a broken config counts result="failure", sets stunner_config_last_reload_successful to 0 and
// leaves the running series (and their values) alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient } from '../../src/client/turn-client.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { OtlpJsonReceiver, metricsOf, otlpSamples, type ReceivedRequest } from '../telemetry/helpers/otlp-receiver.ts';
import { labelValues, sample, samples } from './support/exposition.ts';
import { canonical, sorted } from './support/series.ts';
import { PASS, USER, gatewayConfig, startStunnerd, until, type Stunnerd } from './support/stunnerd.ts';
import { echoLockStep } from '../helpers/wire.ts';

const ALPHA = 'media/udp-gateway/alpha';
const BETA = 'media/udp-gateway/beta';
const RENAMED = 'media/udp-gateway/alpha-v2';
const X = 'media/echo-x';
const Y = 'media/echo-y';
const FAMILIES_WITH_NAME = ['stunner_listener_connections', 'stunner_listener_connections_total', 'stunner_listener_packets_total',
  'stunner_listener_bytes_total', 'stunner_allocations_active', 'stunner_dropped_packets_total',
  'stunner_allocation_duration_seconds_count', 'stunner_cluster_connections', 'stunner_cluster_connections_total',
  'stunner_cluster_packets_total', 'stunner_cluster_bytes_total'];
const CLUSTER_FAMILIES = FAMILIES_WITH_NAME.filter((f) => f.startsWith('stunner_cluster_'));

/** Echoes `count` messages through a fresh allocation on the listener at `port`, then deletes the allocation. */
async function relay(port: number, peerPort: number, count: number): Promise<void> {
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS, rtoMs: 5000 });
  try {
    await client.allocate();
    await client.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: peerPort });
    await echoLockStep(client, 0x4000, count, 64);
    await client.refresh(0);
  } finally {
    client.close();
  }
}

/** Listener and cluster label values over every gateway family of an exposition. */
function namesIn(text: string): { names: string[]; clusters: string[] } {
  const names = new Set<string>();
  const clusters = new Set<string>();
  for (const f of FAMILIES_WITH_NAME) for (const n of labelValues(text, f, 'name')) names.add(n);
  for (const f of CLUSTER_FAMILIES) for (const c of labelValues(text, f, 'cluster')) clusters.add(c);
  return { names: [...names].sort(), clusters: [...clusters].sort() };
}

/** Prometheus text of the stunner_* samples of one OTLP push, for the same checks as a scrape. */
function pushText(push: ReceivedRequest): string {
  return [...otlpSamples(metricsOf([push]))].map(([series, v]) => `${series} ${v}`).join('\n');
}

test('series of removed and renamed listeners/clusters follow file-watch and SIGHUP reloads, in pull and push',
  { timeout: 90_000 }, async () => {
    const receiver = new OtlpJsonReceiver();
    const otlpUrl = await receiver.start();
    const peer = await startEchoPeer('127.0.0.1');
    let gw: Stunnerd | undefined;
    let exitCode: number | null;
    /** The first push whose points were collected after `afterMs`. */
    const pushAfter = (afterMs: number): Promise<ReceivedRequest> => {
      const ns = BigInt(afterMs) * 1_000_000n;
      return until('an OTLP push collected after the reload', 10_000, async () => receiver.requests.find((r) =>
        metricsOf([r]).some((m) => (m.sum?.dataPoints ?? []).some((p) => BigInt(p.timeUnixNano ?? 0) > ns))));
    };
    try {
      gw = await startStunnerd({
        listeners: [{ name: ALPHA, routes: [X, Y] }, { name: BETA, routes: [X, Y] }],
        clusters: [{ name: X, endpoints: ['127.0.0.1/32'] }, { name: Y, endpoints: ['10.0.0.0/8'] }],
        args: ['-w'],
        env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: otlpUrl, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
          OTEL_METRIC_EXPORT_INTERVAL: '1000' },
      });
      const s = gw;
      const alphaPort = s.ports.get(ALPHA)!;
      const before = await s.scrape();
      assert.deepEqual(namesIn(before), { names: [ALPHA, BETA].sort(), clusters: [X, Y].sort() });
      await relay(alphaPort, peer.port, 7);
      assert.equal(sample(await s.scrape(), `stunner_cluster_packets_total{direction="tx",name="${ALPHA}",cluster="${X}"}`), 7);
      assert.deepEqual(namesIn(pushText(await pushAfter(Date.now()))), { names: [ALPHA, BETA].sort(), clusters: [X, Y].sort() });

      // 1. Rewrite the file (the watch picks it up): beta and cluster y removed, alpha renamed on the same port.
      s.writeConfig(gatewayConfig({ listeners: [{ name: RENAMED, routes: [X], port: alphaPort }],
        clusters: [{ name: X, endpoints: ['127.0.0.1/32'] }], metricsPort: s.metricsPort }));
      const reloaded = await until('the file-watch reload', 10_000, async () => {
        const text = await s.scrape();
        return sample(text, 'stunner_config_reloads_total{result="success"}') === 1 ? text : undefined;
      });
      const reloadedAt = Date.now();
      assert.deepEqual(namesIn(reloaded), { names: [RENAMED], clusters: [X] });
      assert.equal(sample(reloaded, 'stunner_config_reloads_total{result="failure"}'), 0);
      assert.equal(sample(reloaded, 'stunner_config_last_reload_successful'), 1);
      // The renamed listener relays (same port) and counts under its new name only.
      await relay(alphaPort, peer.port, 5);
      const renamedText = await s.scrape();
      assert.equal(sample(renamedText, `stunner_cluster_packets_total{direction="tx",name="${RENAMED}",cluster="${X}"}`), 5);
      assert.equal(sample(renamedText, `stunner_allocation_duration_seconds_count{name="${RENAMED}"}`), 1);
      assert.deepEqual(namesIn(renamedText), { names: [RENAMED], clusters: [X] });
      // The next push has the same series as the scrape: nothing of alpha, beta or y.
      const push = await pushAfter(Math.max(reloadedAt, Date.now()));
      assert.deepEqual(namesIn(pushText(push)), { names: [RENAMED], clusters: [X] });
      assert.deepEqual(sorted(canonical(otlpSamples(metricsOf([push])), 'stunner_')),
        sorted(canonical(samples(await s.scrape()), 'stunner_')));

      // 2. A broken config (the watch): rejected, counted, the running series stay with their values.
      s.writeConfig(gatewayConfig({ listeners: [{ name: RENAMED, routes: [X], port: 70000 }],
        clusters: [{ name: X, endpoints: ['127.0.0.1/32'] }], metricsPort: s.metricsPort }));
      const rejected = await until('the rejected reload', 10_000, async () => {
        const text = await s.scrape();
        return sample(text, 'stunner_config_reloads_total{result="failure"}') === 1 ? text : undefined;
      });
      assert.equal(sample(rejected, 'stunner_config_last_reload_successful'), 0);
      assert.equal(sample(rejected, 'stunner_config_reloads_total{result="success"}'), 1);
      assert.deepEqual(namesIn(rejected), { names: [RENAMED], clusters: [X] });
      assert.equal(sample(rejected, `stunner_cluster_packets_total{direction="tx",name="${RENAMED}",cluster="${X}"}`), 5);
      assert.match(s.proc.output(), /config rejected, keeping the running config.*listeners\[0\]\.port/);

      // 3. SIGHUP with the broken file still there: a second failure; the push reports the same.
      s.proc.child.kill('SIGHUP');
      const again = await until('the SIGHUP reload', 10_000, async () => {
        const text = await s.scrape();
        return sample(text, 'stunner_config_reloads_total{result="failure"}') === 2 ? text : undefined;
      });
      assert.deepEqual(namesIn(again), { names: [RENAMED], clusters: [X] });
      const last = await pushAfter(Date.now());
      const pushed = canonical(otlpSamples(metricsOf([last])), 'stunner_');
      assert.deepEqual(sorted(pushed), sorted(canonical(samples(await s.scrape()), 'stunner_')));
      assert.equal(pushed.get('stunner_config_last_reload_successful{}'), 0);
      assert.equal(pushed.get('stunner_config_reloads_total{result="failure"}'), 2);
    } finally {
      exitCode = (await gw?.stop()) ?? null;
      await peer.close();
      await receiver.close();
    }
    assert.equal(exitCode, 0, gw?.proc.output());
  });
