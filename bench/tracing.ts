// What tracing costs stunnerd at RTP-like load. The same turnutils_uclient loads run through stunnerd with
// tracing off (no OTEL_* at all) and on (OTEL_TRACES_SAMPLER=always_on, OTLP http/protobuf to
// bench/lib/otlp-sink.ts, a receiver in a process of its own that counts requests and bytes and answers 200),
// a fresh stunnerd per run, off and on alternating, the order swapped every round; ratios are paired per round:
//   steady  sessions × 50 msg/s (-z 20) × 160 B over channels to turnutils_peer, as in bench/many-flows.ts:
//           server CPU per echoed message over the whole run (set-up and teardown included) and over the
//           seconds in which every session sends, loss, uclient's average RTT; coturn once at the same load.
//   churn   many short uclient sessions (a few messages each): server CPU per allocation made, everything of
//           its life included (the 401 round, Allocate, Refresh, CreatePermission, ChannelBind, the messages,
//           the deletion), and what the sink received next to the spans stunnerd made (its answered requests
//           and ended allocations, read from its own /metrics after the run).
// Spans are made per answered request and per ended allocation, never per packet, so the steady figure should
// not move and the churn figure carries the cost. The batch span processor exports every second here
// (OTEL_BSP_SCHEDULE_DELAY) and each run's CPU is read after that much more, so the export is counted. Both
// variants have the metrics endpoint, scraped once before and once after the measured run only.
// Usage: sh bin/node.sh bench/tracing.ts [--quick] [--rounds N (churn, 3)] [--steady-rounds N (2)]
// (also a section of npm run bench: about 3.5 minutes, under 1 with --quick)
// Needs coturn (turnserver, turnutils_uclient, turnutils_peer). Every uclient runs under `timeout`; servers
// bind 127.0.0.1 only and are stopped by PID.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TurnClient } from '../src/client/turn-client.ts';
import { startOtlpSink, type OtlpSink } from './lib/otlp-sink.ts';
import { cpuSeconds } from './lib/proc.ts';
import { startCoturn, startPeer, startStunnerd, type Server } from './lib/servers.ts';
import { uclientFleet, type FleetResult } from './lib/uclient-fleet.ts';

export interface TracingBenchOptions {
  readonly quick: boolean;
  /** Off/on pairs of the churn load (medians reported). */
  readonly rounds: number;
  /** Off/on pairs of the steady load: each takes half a minute, so fewer by default. */
  readonly steadyRounds: number;
}

interface Load {
  readonly sessions: number;
  readonly messages: number;
  /** Sessions per uclient process: uclient sets its sessions up one after another. */
  readonly perProcess: number;
}

const SIZE = 160;
const INTERVAL_MS = 20;
const PPS = 1000 / INTERVAL_MS;
const BSP_DELAY_MS = 1000;
/** After the last uclient ends: the batch processor's last export lands in the run's CPU. */
const SETTLE_MS = BSP_DELAY_MS + 500;
const WARM_UP_ALLOCATIONS = 20;
const LOADS: Record<'full' | 'quick', { steady: Load; churn: Load }> = {
  full: { steady: { sessions: 200, messages: 600, perProcess: 20 }, churn: { sessions: 400, messages: 5, perProcess: 20 } },
  quick: { steady: { sessions: 100, messages: 150, perProcess: 10 }, churn: { sessions: 100, messages: 5, perProcess: 10 } },
};

/** Whatever OTEL_* the invoking shell has must not leak into either variant. */
const NO_OTEL: NodeJS.ProcessEnv = Object.fromEntries(Object.keys(process.env)
  .filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]));

type Variant = 'off' | 'on';
const VARIANT_LABEL: Record<Variant, string> = { off: 'stunnerd, tracing off', on: 'stunnerd, tracing on (always_on)' };

function tracingEnv(sink: OtlpSink): NodeJS.ProcessEnv {
  return {
    ...NO_OTEL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${sink.url}/v1/traces`,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: String(BSP_DELAY_MS),
  };
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** What stunnerd says it did, from one scrape of its /metrics after a run. */
interface GatewayCounts {
  /** Allocate requests answered 200. */
  readonly allocations: number;
  /** Allocations ended (each ends in a `turn.allocation` span). */
  readonly ended: number;
  /** Requests answered, Binding excepted (each answered one is a span). */
  readonly requests: number;
}

async function gatewayCounts(metricsUrl: string): Promise<GatewayCounts> {
  const text = await (await fetch(metricsUrl)).text();
  let allocations = 0;
  let requests = 0;
  let ended = 0;
  for (const m of text.matchAll(/^stunner_requests_total\{([^}]*)\} ([0-9.e+]+)/gm)) {
    if (m[1].includes('method="binding"')) continue;
    requests += Number(m[2]);
    if (m[1].includes('method="allocate"') && m[1].includes('code="200"')) allocations += Number(m[2]);
  }
  for (const m of text.matchAll(/^stunner_allocation_duration_seconds_count(?:\{[^}]*\})? ([0-9.e+]+)/gm)) ended += Number(m[1]);
  return { allocations, ended, requests };
}

function minus(a: GatewayCounts, b: GatewayCounts): GatewayCounts {
  return { allocations: a.allocations - b.allocations, ended: a.ended - b.ended, requests: a.requests - b.requests };
}

interface Run {
  readonly fleet: FleetResult;
  /** Server CPU from just before the first uclient started to SETTLE_MS after the last one ended. */
  readonly cpuS: number;
  readonly cpuUsPerMsg: number;
  /** Over the seconds in which every session sends (NaN when the run is too short to have them). */
  readonly steadyUsPerMsg: number;
  readonly gateway: GatewayCounts | undefined;
  readonly sinkRequests: number;
  readonly sinkBytes: number;
}

/** A few allocations before the measured run, so that neither variant's figure carries first-use costs (JIT, the
 *  exporter's first request): a running gateway has paid them long before. With tracing on, until their spans
 *  have reached the sink. */
async function warmUp(port: number, peerPort: number, sink: OtlpSink | undefined): Promise<void> {
  const before = (await sink?.counts())?.requests ?? 0;
  for (let i = 0; i < WARM_UP_ALLOCATIONS; i++) {
    const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: 'test', password: 'test' });
    try {
      await c.allocate();
      await c.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: peerPort });
      await c.refresh(0);
    } finally {
      c.close();
    }
  }
  if (sink === undefined) return;
  for (let waited = 0; waited < 2 * SETTLE_MS && (await sink.counts()).requests === before; waited += 50) await sleep(50);
}

interface Started {
  readonly server: Server;
  /** stunnerd's, which is warmed up and asked for its counts; none for coturn. */
  readonly metricsUrl?: string;
  readonly traced?: boolean;
}

async function run({ server, metricsUrl, traced }: Started, sink: OtlpSink, peerPort: number, load: Load): Promise<Run> {
  if (metricsUrl !== undefined) await warmUp(server.port, peerPort, traced ? sink : undefined);
  const before = metricsUrl === undefined ? undefined : await gatewayCounts(metricsUrl);
  const s0 = await sink.counts();
  const c0 = cpuSeconds(server.pid);
  const fleet = await uclientFleet({
    port: server.port, serverPid: server.pid, peerPort, sessions: load.sessions, size: SIZE, messages: load.messages,
    intervalMs: INTERVAL_MS, perProcess: load.perProcess, timeoutS: 60 + (load.messages * INTERVAL_MS) / 1000,
  });
  await sleep(SETTLE_MS);
  const cpuS = cpuSeconds(server.pid) - c0;
  const s1 = await sink.counts();
  return {
    fleet, cpuS, cpuUsPerMsg: (cpuS * 1e6) / fleet.recv,
    steadyUsPerMsg: (fleet.steadyServerCpuS * 1e6) / (fleet.pps * fleet.steadyS),
    gateway: metricsUrl === undefined ? undefined : minus(await gatewayCounts(metricsUrl), before!),
    sinkRequests: s1.requests - s0.requests, sinkBytes: s1.bytes - s0.bytes,
  };
}

const commands = new Map<string, string>();
const repeated: string[] = [];

/** One run against a fresh server; once more when a uclient process failed (it leaves the run short). */
async function runOnce(name: string, start: () => Promise<Started>, sink: OtlpSink, peerPort: number, load: Load): Promise<Run> {
  for (let attempt = 0; ; attempt++) {
    const started = await start();
    if (started.server.command !== undefined) commands.set(name.replace(/, tracing .*/, ''), started.server.command);
    let r: Run;
    try {
      r = await run(started, sink, peerPort, load);
    } finally {
      await started.server.stop();
    }
    if (r.fleet.failed === 0 || attempt === 1) return r;
    repeated.push(`${name}, ${load.sessions} sessions: ${r.fleet.errors.join('; ')}`);
  }
}

function startVariant(v: Variant, sink: OtlpSink): () => Promise<Started> {
  return async () => {
    const metricsUrl = `http://127.0.0.1:${await freeTcpPort()}/metrics`;
    // Every client shares 127.0.0.1: without this, the per-IP budget of 401 answers would refuse set-ups.
    const server = await startStunnerd({
      admin: { limits: { unauthenticated_rate: 0 }, metrics_endpoint: metricsUrl },
      env: v === 'on' ? tracingEnv(sink) : NO_OTEL,
    });
    return { server, metricsUrl, traced: v === 'on' };
  };
}

function median(xs: readonly number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');
const bold = (x: string) => (x === '—' ? x : `**${x}**`);
const kib = (bytes: number) => `${int(bytes / 1024)} KiB`;

function table(head: string[], rows: string[][]): void {
  console.log(`| ${head.join(' | ')} |`);
  console.log(`| ${head.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

/** Spans stunnerd made in a run: its answered requests (Binding aside) and its ended allocations. */
const spansMade = (r: Run) => (r.gateway === undefined ? NaN : r.gateway.requests + r.gateway.ended);

/** Spans made and what the sink received (medians); for tracing off, that the sink received nothing. */
function spansCell(v: Variant, rs: readonly Run[]): string {
  const requests = int(median(rs.map((r) => r.sinkRequests)));
  const bytes = median(rs.map((r) => r.sinkBytes));
  if (v === 'off') return `none; sink: ${requests} requests, ${int(bytes)} B`;
  const spans = median(rs.map(spansMade));
  return `${int(spans)}; sink: ${requests} requests, ${kib(bytes)} (${int(bytes / spans)} B per span)`;
}

/** on/off per round (each pair ran back to back), median and each. */
function paired(off: readonly Run[], on: readonly Run[], pick: (r: Run) => number): { median: number; each: number[] } {
  const each = on.map((r, i) => pick(r) / pick(off[i]));
  return { median: median(each), each };
}

export async function runTracingBench(o: TracingBenchOptions): Promise<void> {
  const loads = o.quick ? LOADS.quick : LOADS.full;
  const t0 = performance.now();
  const sink = await startOtlpSink();
  const peer = await startPeer();
  const steady: Record<Variant, Run[]> = { off: [], on: [] };
  const churn: Record<Variant, Run[]> = { off: [], on: [] };
  let coturn: Run | undefined;
  try {
    for (let round = 0; round < Math.max(o.rounds, o.steadyRounds); round++) {
      // Swapped every round: a drift in the machine's load hits both variants alike.
      const order: Variant[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      if (round < o.steadyRounds) for (const v of order) steady[v].push(await runOnce(VARIANT_LABEL[v], startVariant(v, sink), sink, peer.port, loads.steady));
      if (round === 0 && !o.quick) {
        coturn = await runOnce('coturn', async () => ({ server: await startCoturn() }), sink, peer.port, loads.steady);
      }
      if (round < o.rounds) for (const v of order) churn[v].push(await runOnce(VARIANT_LABEL[v], startVariant(v, sink), sink, peer.port, loads.churn));
    }
  } finally {
    await peer.stop();
    await sink.stop();
  }

  const s = loads.steady;
  const c = loads.churn;
  console.log(`\n## Tracing: stunnerd with tracing off vs on (always_on, OTLP http/protobuf to a receiving sink)

printed by: \`sh bin/node.sh bench/tracing.ts${o.quick ? ' --quick' : ''} --rounds ${o.rounds} --steady-rounds ${o.steadyRounds}\` (also part of \`npm run bench\`)
On: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=<sink>/v1/traces OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf ` +
    `OTEL_TRACES_SAMPLER=always_on OTEL_BSP_SCHEDULE_DELAY=${BSP_DELAY_MS}; off: no OTEL_* variable. The sink ` +
    `(bench/lib/otlp-sink.ts) is a process of its own that answers 200 and counts requests and bytes. A fresh stunnerd ` +
    `per run (--udp-thread-num 1, ${WARM_UP_ALLOCATIONS} allocations made and deleted first, not counted, and their spans exported), off and on back ` +
    `to back, the order swapped each round; median of ${o.steadyRounds} round(s) of the steady load and ${o.rounds} of the churn; "× off" is the median of the per-round ` +
    `ratios. Server CPU: the stunnerd process's user+sys from /proc, from just before the first uclient starts to ` +
    `${SETTLE_MS / 1000} s after the last one ends (the last export included). Spans made: stunnerd's answered requests ` +
    `(stunner_requests_total) and ended allocations, from its /metrics (on in both variants, scraped before and after ` +
    `the run only). uclient's RTT clock ticks in ms.
`);

  console.log(`### RTP-like steady load: ${s.sessions} turnutils_uclient sessions × ${PPS} msg/s (-z ${INTERVAL_MS}) × ${SIZE} B, ` +
    `${s.messages} messages each, channels, turnutils_peer echo
Server CPU per echoed message over the whole run (set-up and teardown, hence spans, included) and over the seconds in ` +
    `which every session sends (no request, no span: the relay alone).
`);
  const steadyRatio = paired(steady.off, steady.on, (r) => r.cpuUsPerMsg);
  const windowRatio = paired(steady.off, steady.on, (r) => r.steadyUsPerMsg);
  const steadyRow = (label: string, rs: readonly Run[], ratio: string, window: string, spans: string): string[] => {
    const m = (pick: (r: Run) => number) => median(rs.map(pick));
    const failed = rs.reduce((a, r) => a + r.fleet.failed, 0);
    return [
      label + (failed > 0 ? ` (${failed} uclient process(es) failed)` : ''),
      `${int(m((r) => r.fleet.recv))} (${int(m((r) => r.fleet.lost))}, ${f(m((r) => r.fleet.lossPct), 3)} %)`,
      f(m((r) => r.fleet.rttMs), 3), f(m((r) => r.cpuUsPerMsg), 2), ratio, `${f(m((r) => r.steadyUsPerMsg), 2)} (${window})`,
      spans, rs.map((r) => `${f(r.cpuUsPerMsg, 2)} / ${f(r.steadyUsPerMsg, 2)} / ${f(r.fleet.rttMs, 3)}`).join(', '),
    ];
  };
  const steadyRows = [
    steadyRow(VARIANT_LABEL.off, steady.off, '1', '1', spansCell('off', steady.off)),
    steadyRow(VARIANT_LABEL.on, steady.on, bold(times(steadyRatio.median)), bold(times(windowRatio.median)),
      spansCell('on', steady.on)),
  ];
  if (coturn !== undefined) {
    steadyRows.push(steadyRow('coturn (reference, 1 run)', [coturn],
      times(coturn.cpuUsPerMsg / median(steady.off.map((r) => r.cpuUsPerMsg))),
      times(coturn.steadyUsPerMsg / median(steady.off.map((r) => r.steadyUsPerMsg))), '—'));
  } else {
    steadyRows.push(['coturn', 'not run with --quick', '', '', '', '', '', '']);
  }
  table(['server', 'echoed (lost)', 'uclient avg RTT ms', 'server CPU µs/msg', '× off', 'steady-state µs/msg (× off)',
    'spans made; received', 'per run: µs/msg / steady-state / RTT ms'], steadyRows);

  console.log(`\n### Session churn: ${c.sessions} turnutils_uclient sessions × ${c.messages} messages (-z ${INTERVAL_MS}, ` +
    `${SIZE} B), ${c.perProcess} per uclient process
Server CPU per allocation made: the whole run over stunnerd's count of Allocates answered 200 (uclient makes two per ` +
    `session and deletes one of them at its end, the other would expire later: "ended").
`);
  const perAllocation = (r: Run) => (r.cpuS * 1e6) / (r.gateway?.allocations ?? NaN);
  const churnRatio = paired(churn.off, churn.on, perAllocation);
  const churnRow = (v: Variant, rs: readonly Run[], ratio: string): string[] => {
    const m = (pick: (r: Run) => number) => median(rs.map(pick));
    const failed = rs.reduce((a, r) => a + r.fleet.failed, 0);
    return [
      VARIANT_LABEL[v] + (failed > 0 ? ` (${failed} uclient process(es) failed)` : ''),
      `${int(m((r) => r.gateway?.allocations ?? NaN))} (${int(m((r) => r.gateway?.ended ?? NaN))})`,
      int(m((r) => r.gateway?.requests ?? NaN)), f(m((r) => r.cpuS), 2), f(m(perAllocation), 0), ratio,
      spansCell(v, rs), rs.map((r) => f(perAllocation(r), 0)).join(', '),
    ];
  };
  table(['server', 'allocations made (ended)', 'answered requests', 'server CPU s', 'server CPU µs per allocation', '× off',
    'spans made; received', 'µs per allocation per run'],
  [churnRow('off', churn.off, '1'), churnRow('on', churn.on, bold(times(churnRatio.median)))]);

  // The added CPU, per allocation and per span, paired per round.
  const added = median(churn.on.map((r, i) => perAllocation(r) - perAllocation(churn.off[i])));
  const perSpan = median(churn.on.map((r, i) => ((r.cpuS - churn.off[i].cpuS) * 1e6) / spansMade(r)));
  console.log(`
tracing on / off, per round: steady load, CPU per echoed message ${times(steadyRatio.median)} over the whole run ` +
    `(rounds: ${steadyRatio.each.map(times).join(', ')}), ${times(windowRatio.median)} while every session sends ` +
    `(rounds: ${windowRatio.each.map(times).join(', ')}); churn, CPU per allocation ${times(churnRatio.median)} ` +
    `(rounds: ${churnRatio.each.map(times).join(', ')}): +${f(added, 0)} µs per allocation, ${f(perSpan, 0)} µs per span made`);
  if (repeated.length > 0) console.log(`runs repeated after a uclient process failed: ${repeated.join(' | ')}`);
  for (const [name, cmd] of commands) console.log(`${name}: \`${cmd}\``);
  console.log(`(tracing: ${f((performance.now() - t0) / 1000, 0)} s)`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, 'steady-rounds': { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const hardStop = setTimeout(() => {
    console.error('tracing bench: hard time limit reached');
    process.exit(2);
  }, 10 * 60_000);
  hardStop.unref();
  console.log(`# tracing cost — node ${process.version}, ${new Date().toISOString()}`);
  await runTracingBench({
    quick, rounds: Number(values.rounds ?? (quick ? 1 : 3)), steadyRounds: Number(values['steady-rounds'] ?? (quick ? 1 : 2)),
  });
}
