// What telemetry costs the relay: stunnerd's CPU per echoed message under the same closed-loop ChannelData load
// (bench/lib/closed-loop.ts) with telemetry fully on — /metrics scraped every second by a scraper here and OTLP
// pushed every second to a sink here that accepts and discards — and fully off (no metrics endpoint, no OTEL_*),
// in alternating rounds of one invocation so both see the same machine. Target: overhead <= 3 %.
// A second, more sensitive figure: the CPU an idle stunnerd spends per second with telemetry on vs off (the fixed
// cost of one scrape and one push per second), as a share of what the relay spends at full load.
// Run: node bench/telemetry/overhead.ts   (env: ROUNDS=3 SECONDS=8 FLOWS=4 WINDOW=64 SIZE=100 IDLE_SECONDS=10)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedLoop, type LoopResult } from '../lib/closed-loop.ts';
import { cpuSeconds } from '../lib/proc.ts';
import { startPeer, startStunnerd, type Server as Relay } from '../lib/servers.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LOAD = {
  size: Number(process.env.SIZE ?? 100),
  flows: Number(process.env.FLOWS ?? 4),
  window: Number(process.env.WINDOW ?? 64),
  seconds: Number(process.env.SECONDS ?? 8),
};
const INTERVAL_MS = 1000;
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 10);

/** Whatever OTEL_* the invoking shell has must not leak into either variant. */
const NO_OTEL: NodeJS.ProcessEnv = Object.fromEntries(Object.keys(process.env)
  .filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]));

/** An OTLP/HTTP sink: counts what arrives, answers 200, keeps nothing. */
class Sink {
  requests = 0;
  bytes = 0;
  protobuf = 0;
  readonly server: Server = createServer((req, res) => {
    if ((req.headers['content-type'] ?? '').startsWith('application/x-protobuf')) this.protobuf++;
    req.on('data', (c: Buffer) => (this.bytes += c.length));
    req.on('end', () => {
      this.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/metrics`;
  }
}

/** Scrapes `url` every INTERVAL_MS as Prometheus would (gzip) until stopped; counts good scrapes. */
function scrapeEvery(url: string): { stop(): Promise<{ ok: number; failed: number; latencyMs: number[] }> } {
  let ok = 0;
  let failed = 0;
  const latencyMs: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
        // fetch undoes the gzip; the check is that the gateway families are really there.
        const body = await res.text();
        if (res.status === 200 && body.includes('stunner_cluster_packets_total')) ok++;
        else failed++;
      } catch {
        failed++;
      }
      latencyMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL_MS - (performance.now() - t0))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed, latencyMs };
    },
  };
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface OnRun extends LoopResult {
  readonly scrapes: number;
  readonly scrapeFailures: number;
  readonly pushes: number;
  readonly pushBytes: number;
}

async function runOff(peerPort: number): Promise<LoopResult> {
  const relay = await startStunnerd({ env: NO_OTEL });
  try {
    return await closedLoop('turn', relay.pid, relay.port, peerPort, LOAD);
  } finally {
    await relay.stop();
  }
}

/** stunnerd with its metrics endpoint on a free port and an OTLP push to `sinkUrl`, both every INTERVAL_MS. */
async function startTelemetryOn(sinkUrl: string): Promise<{ relay: Relay; metricsUrl: string }> {
  const metricsPort = await freeTcpPort();
  const relay = await startStunnerd({
    admin: { metrics_endpoint: `http://127.0.0.1:${metricsPort}/metrics` },
    env: { ...NO_OTEL, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: sinkUrl, OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS) },
  });
  return { relay, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function runOn(peerPort: number, sink: Sink, sinkUrl: string): Promise<OnRun> {
  const { relay, metricsUrl } = await startTelemetryOn(sinkUrl);
  const before = { requests: sink.requests, bytes: sink.bytes };
  const scraper = scrapeEvery(metricsUrl);
  try {
    const r = await closedLoop('turn', relay.pid, relay.port, peerPort, LOAD);
    const s = await scraper.stop();
    return { ...r, scrapes: s.ok, scrapeFailures: s.failed, pushes: sink.requests - before.requests,
      pushBytes: sink.bytes - before.bytes };
  } finally {
    await scraper.stop();
    await relay.stop();
  }
}

/** CPU seconds per second of an idle stunnerd (no traffic) over IDLE_SECONDS, after a settling second. */
async function idleCpu(variant: 'on' | 'off', sinkUrl: string): Promise<number> {
  const { relay, metricsUrl } = variant === 'on'
    ? await startTelemetryOn(sinkUrl) : { relay: await startStunnerd({ env: NO_OTEL }), metricsUrl: undefined };
  const scraper = metricsUrl === undefined ? undefined : scrapeEvery(metricsUrl);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const c0 = cpuSeconds(relay.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    return (cpuSeconds(relay.pid) - c0) / ((performance.now() - t0) / 1000);
  } finally {
    await scraper?.stop();
    await relay.stop();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x: number, d = 1): string => x.toFixed(d);

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    console.error('overhead bench: hard time limit reached');
    process.exit(2);
  }, (ROUNDS * 2 * (LOAD.seconds + 40) + 60) * 1000);
  hardStop.unref();
  console.log(`# telemetry overhead — node ${process.version}, ${new Date().toISOString()}`);
  console.log(`closed loop: ${LOAD.flows} flows x ${LOAD.window} in flight, ${LOAD.size} B ChannelData, turnutils_peer echo, `
    + `${LOAD.seconds} s per run, ${ROUNDS} rounds alternating (ABBA order); on = /metrics scraped every ${INTERVAL_MS} ms `
    + `+ OTLP/protobuf push every ${INTERVAL_MS} ms to a discarding sink`);
  const sink = new Sink();
  const sinkUrl = await sink.start();
  const peer = await startPeer();
  const off: LoopResult[] = [];
  const on: OnRun[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      // ABBA: a drift in machine load over the run hits both variants alike.
      const order = i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const variant of order) {
        if (variant === 'off') off.push(await runOff(peer.port));
        else on.push(await runOn(peer.port, sink, sinkUrl));
        const r = variant === 'off' ? off.at(-1)! : on.at(-1)!;
        const extra = variant === 'on'
          ? `  scrapes=${on.at(-1)!.scrapes} (failed ${on.at(-1)!.scrapeFailures}) pushes=${on.at(-1)!.pushes}` : '';
        console.log(`round ${i + 1} ${variant.padEnd(3)} pps=${f(r.pps, 0)} cpu_us_per_msg=${f(r.cpuUsPerMsg, 2)} `
          + `cpu=${f(r.cpuPct, 0)}% loss=${f(r.lossPct, 3)}%${extra}`);
      }
    }
  } finally {
    await peer.stop();
    sink.server.close();
  }
  const row = (name: string, rs: readonly LoopResult[]): void => console.log(`${name.padEnd(14)} `
    + `pps=${f(median(rs.map((r) => r.pps)), 0)} cpu_us_per_msg=${f(median(rs.map((r) => r.cpuUsPerMsg)), 2)} `
    + `cpu=${f(median(rs.map((r) => r.cpuPct)), 0)}%  runs: ${rs.map((r) => f(r.cpuUsPerMsg, 2)).join(' ')}`);
  console.log(`\n## relay CPU per echoed message, median of ${ROUNDS}`);
  row('telemetry off', off);
  row('telemetry on', on);
  const ratio = median(on.map((r) => r.cpuUsPerMsg)) / median(off.map((r) => r.cpuUsPerMsg));
  const paired = median(on.map((r, i) => r.cpuUsPerMsg / off[i].cpuUsPerMsg));
  console.log(`telemetry on: ${f(median(on.map((r) => r.scrapes)), 0)} scrapes and ${f(median(on.map((r) => r.pushes)), 0)} `
    + `OTLP requests per run (${f(median(on.map((r) => r.pushBytes / Math.max(1, r.pushes))) / 1024, 1)} KiB each); `
    + `scrape failures ${on.reduce((a, r) => a + r.scrapeFailures, 0)}; protobuf requests ${sink.protobuf}/${sink.requests}`);
  const pct = (ratio - 1) * 100;
  console.log(`overhead cpu_us_per_msg: ${pct >= 0 ? '+' : ''}${f(pct)}% (median on / median off; paired per round `
    + `${paired >= 1 ? '+' : ''}${f((paired - 1) * 100)}%) — target <= 3%: ${pct <= 3 ? 'met' : 'NOT met'}`);

  // The fixed cost, measured where nothing else moves: idle gateways, alternating, two runs each.
  const idle: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (const variant of ['off', 'on', 'on', 'off'] as const) idle[variant].push(await idleCpu(variant, sinkUrl));
  const cost = median(idle.on) - median(idle.off);
  const busy = median(off.map((r) => r.cpuPct)) / 100;
  console.log(`\n## idle stunnerd, CPU per second over ${IDLE_SECONDS} s (runs: off ${idle.off.map((x) => f(x * 1000)).join(' ')} ms/s, `
    + `on ${idle.on.map((x) => f(x * 1000)).join(' ')} ms/s)`);
  console.log(`telemetry fixed cost: ${f(cost * 1000)} ms CPU per second = ${f((100 * cost) / busy, 2)}% of the relay's CPU at full load `
    + `(${f(busy * 100, 0)}% of a core)`);
}

await main();
