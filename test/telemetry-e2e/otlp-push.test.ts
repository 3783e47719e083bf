// OTLP push from the stunnerd process, configured only through OTEL_* environment variables, while our TurnClient
// relays through it: (1) OTLP/protobuf into a real VictoriaMetrics, (2) OTLP/JSON into a receiver here that
// decodes it. Once traffic has stopped and a push has happened since, the pushed series equal a /metrics scrape
// of the same process: same names (OTLP names are the Prometheus names), same label sets, same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnClient } from '../../src/client/turn-client.ts';
import { PACKAGE_VERSION } from '../../src/telemetry/version.ts';
import { startEchoPeer, type EchoPeer } from '../helpers/udp-echo.ts';
import { OtlpJsonReceiver, attributeValue, metricsOf, otlpSamples, type ReceivedRequest } from '../telemetry/helpers/otlp-receiver.ts';
import { samples } from './support/exposition.ts';
import { canonical, seriesKey, sorted } from './support/series.ts';
import { PASS, USER, startStunnerd, until, type Stunnerd } from './support/stunnerd.ts';
import { startVictoriaMetrics } from './support/victoria-metrics.ts';
import { echoPaced } from '../helpers/wire.ts';

const LISTENER = 'default/udp-gateway/udp-listener';
const CLUSTER = 'default/media-plane';
const MESSAGES = 150;
const SIZE = 120;
const GAP_MS = 15;
const CHANNEL = 0x4000;
const RESOURCE = { 'deployment.environment': 'e2e', 'k8s.pod.name': 'stunnerd-0' };
const TX = seriesKey('stunner_cluster_packets_total', { direction: 'tx', name: LISTENER, cluster: CLUSTER });

function startGateway(env: NodeJS.ProcessEnv): Promise<Stunnerd> {
  return startStunnerd({
    listeners: [{ name: LISTENER, routes: [CLUSTER] }],
    clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
    env: {
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_SERVICE_NAME: 'stunner-e2e',
      OTEL_RESOURCE_ATTRIBUTES: Object.entries(RESOURCE).map(([k, v]) => `${k}=${v}`).join(','),
      ...env,
    },
  });
}

interface Session {
  relay(): Promise<void>;
  close(): Promise<void>;
}

/** One allocation with a channel to an echo peer; `relay()` echoes MESSAGES through it over ~MESSAGES x GAP_MS. */
async function openSession(gw: Stunnerd): Promise<Session> {
  const peer: EchoPeer = await startEchoPeer('127.0.0.1');
  const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: gw.ports.get(LISTENER)!,
    username: USER, password: PASS, rtoMs: 5000 });
  await client.allocate();
  await client.channelBind(CHANNEL, { family: 4, address: '127.0.0.1', port: peer.port });
  return {
    relay: () => echoPaced(client, CHANNEL, MESSAGES, SIZE, GAP_MS),
    async close() {
      await client.refresh(0).catch(() => 0);
      client.close();
      await peer.close();
    },
  };
}

/** The gateway families of a scrape, canonically keyed. */
async function scrapedGatewaySeries(gw: Stunnerd): Promise<Map<string, number>> {
  return canonical(samples(await gw.scrape()), 'stunner_');
}

test('OTLP/protobuf from the stunnerd process into VictoriaMetrics equals its scrape once traffic stops',
  { timeout: 90_000 }, async () => {
    const vm = await startVictoriaMetrics();
    let gw: Stunnerd | undefined;
    let session: Session | undefined;
    let exitCode: number | null;
    try {
      // Nothing but the environment turns the push on; the protocol is left at its default (http/protobuf).
      gw = await startGateway({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: vm.otlpUrl });
      session = await openSession(gw);
      await session.relay();
      const stoppedAt = Date.now();
      // Counters are final now; wait for a push collected after this moment.
      const stored = await until('a push collected after the traffic stopped', 20_000, async () => {
        const series = await vm.exportSeries('{__name__=~"stunner_.+"}');
        const tx = series.find((s) => s.metric.__name__ === 'stunner_cluster_packets_total' && s.metric.direction === 'tx');
        return tx !== undefined && tx.timestamps.at(-1)! > stoppedAt ? series : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\nvictoria-metrics:\n${vm.log()}\nstunnerd:\n${gw?.proc.output()}`);
      });
      const scraped = await scrapedGatewaySeries(gw);
      assert.equal(scraped.get(TX), MESSAGES, 'the scrape counted every relayed message');

      const pushed = new Map<string, number>();
      for (const s of stored) {
        const { __name__: name, ...all } = s.metric;
        // VictoriaMetrics adds the resource attributes as labels; the scrape has them once, in target_info.
        const labels = Object.fromEntries(Object.entries(all).filter(([k]) => !k.includes('.')));
        pushed.set(seriesKey(name, labels), s.values.at(-1)!);
      }
      assert.deepEqual(sorted(pushed), sorted(scraped));

      // The pushes ran while traffic flowed: intermediate counts were stored, not just the final one.
      const tx = stored.find((s) => s.metric.__name__ === 'stunner_cluster_packets_total' && s.metric.direction === 'tx')!;
      const between = new Set(tx.values.filter((v) => v > 0 && v < MESSAGES));
      assert.ok(between.size >= 1, `counts pushed during the traffic: ${tx.values.join(' ')}`);
      assert.deepEqual([...tx.values].sort((a, b) => a - b), tx.values, 'cumulative: never decreasing');

      // The resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, and no otel_scope_* labels.
      const labels = tx.metric;
      assert.equal(labels['service.name'], 'stunner-e2e');
      assert.equal(labels['service.version'], PACKAGE_VERSION);
      assert.match(labels['service.instance.id'], /^[0-9a-f-]{36}$/);
      for (const [k, v] of Object.entries(RESOURCE)) assert.equal(labels[k], v);
      assert.equal(Object.keys(labels).some((k) => k.startsWith('otel_scope')), false);

      // The runtime families reach the backend under their scrape names too. A family can be born between two
      // collections (nodejs_gc_duration_seconds at the first GC), so: every family of a scrape is in the first push
      // collected after it, and every pushed family is in a scrape taken after that.
      const gw1 = gw;
      const runtimeNames = async () => new Set([...samples(await gw1.scrape()).keys()].map((k) => k.replace(/\{.*$/, ''))
        .filter((n) => n.startsWith('process_') || n.startsWith('nodejs_')));
      const scrapedBefore = await runtimeNames();
      const scrapedAt = Date.now();
      const runtime = await until('a push collected after the runtime scrape', 20_000, async () => {
        const series = await vm.exportSeries('{__name__=~"process_.+|nodejs_.+"}');
        return series.some((s) => s.timestamps.at(-1)! > scrapedAt) ? new Set(series.map((s) => s.metric.__name__)) : undefined;
      });
      const scrapedAfter = await runtimeNames();
      assert.ok(scrapedBefore.size >= 15, [...scrapedBefore].join(' '));
      assert.deepEqual([...scrapedBefore].filter((n) => !runtime.has(n)), [], 'scraped but not pushed');
      assert.deepEqual([...runtime].filter((n) => !scrapedAfter.has(n)), [], 'pushed but not scraped');
    } finally {
      await session?.close();
      exitCode = (await gw?.stop()) ?? null;
      await vm.stop();
    }
    assert.equal(exitCode, 0, gw?.proc.output());
  });

test('OTLP/JSON (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json) from the stunnerd process equals its scrape',
  { timeout: 60_000 }, async () => {
    const receiver = new OtlpJsonReceiver();
    const url = await receiver.start();
    let gw: Stunnerd | undefined;
    let session: Session | undefined;
    let exitCode: number | null;
    try {
      gw = await startGateway({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' });
      session = await openSession(gw);
      const before = receiver.requests.length;
      await session.relay();
      const stoppedAtNs = BigInt(Date.now()) * 1_000_000n;
      assert.ok(receiver.requests.length > before, 'pushes arrived while traffic flowed');

      // The first push whose data points were collected after the traffic stopped.
      const collectedAfter = (r: ReceivedRequest): boolean => metricsOf([r]).some((m) =>
        (m.sum?.dataPoints ?? []).some((p) => BigInt(p.timeUnixNano ?? 0) > stoppedAtNs));
      const push = await until('a push collected after the traffic stopped', 15_000, async () =>
        receiver.requests.find(collectedAfter));
      const scraped = await scrapedGatewaySeries(gw);
      assert.equal(scraped.get(TX), MESSAGES);
      assert.deepEqual(sorted(canonical(otlpSamples(metricsOf([push])), 'stunner_')), sorted(scraped));

      assert.equal(push.path, '/v1/metrics');
      assert.match(String(push.headers['content-type']), /^application\/json/);
      const resource = new Map(push.body.resourceMetrics[0].resource.attributes.map((a) => [a.key, attributeValue(a.value)]));
      assert.equal(resource.get('service.name'), 'stunner-e2e');
      for (const [k, v] of Object.entries(RESOURCE)) assert.equal(resource.get(k), v);
      // Cumulative temporality (the default): the counters are monotonic sums with temporality 2.
      const tx = metricsOf([push]).find((m) => m.name === 'stunner_cluster_packets_total')!;
      assert.equal(tx.sum?.aggregationTemporality, 2);
      assert.equal(tx.sum?.isMonotonic, true);
    } finally {
      await session?.close();
      exitCode = (await gw?.stop()) ?? null;
      await receiver.close();
    }
    assert.equal(exitCode, 0, gw?.proc.output());
  });
