// Upstream stunnerd v1.2.1 (pion/turn, Go) next to ours and coturn at RTP-like load, in one invocation:
//   rtp       turnutils_uclient sessions × 50 msg/s (-z 20) × 160 B over channels to turnutils_peer, with
//             bench/tools/rtp-probe.c's 4 more flows timing their echoes (bench/many-flows.ts's rtp run): server
//             CPU per echoed message, uclient's average RTT, the probe's RTT.
//   capacity  the most flows at 50 msg/s × 160 B each that keep loss ≤ 0.1 % (rtp-probe, all flows at once,
//             stepping up; a run over is repeated once, as in many-flows).
// Servers: coturn (one relay thread per CPU), stunnerd with 1 and 2 workers, upstream stunnerd with
// --udp-thread-num 1 and 2: N SO_REUSEPORT listener sockets, each with a readloop (upstream's default, 0, is one
// plain socket: no multithreading of the listener). Go runs those readloops and one per relay socket on every CPU
// whatever N is. Ratios against coturn, and ours against upstream at the same thread count.
// Upstream binds every interface, so this runs inside .ci/netns.sh (run outside one, it runs itself again inside);
// it needs upstream built by .ci/go-tools.sh, coturn (turnserver, turnutils_uclient, turnutils_peer) and gcc.
// Usage: sh bin/node.sh bench/upstream.ts [--quick] [--rounds N]
// (section 6 of npm run bench, --skip-upstream: about 5 minutes, 2 with --quick)
import { parseArgs } from 'node:util';
import {
  COTURN, INTERVAL_MS, isErr, median, paced, passes, PPS, PROBE, rtpRun, SIZE, stunnerd, table, turnTarget,
  type Paced, type RtpRun, type Target,
} from './many-flows.ts';
import { startPeer, type Server } from './lib/servers.ts';
import { reexecInNetns } from './lib/netns.ts';
import {
  requireUpstream, startUpstreamStunnerd, upstreamStunnerdBinary, UpstreamUnavailableError,
} from './lib/upstream-stunnerd.ts';

export interface UpstreamBenchOptions {
  readonly quick: boolean;
  /** Runs per server of the rtp load (median reported). */
  readonly rounds: number;
}

/** What the section takes, for the suite's hard stop (minutes, measured on the 2-core machine, with margin). */
export const UPSTREAM_MINUTES = { full: 5.5, quick: 2.5 } as const;

const commands = new Map<string, string>();
/** Records how `t` was started, for the report. */
const recorded = (t: Target): Target => ({
  label: t.label,
  start: async () => {
    const s = await t.start();
    if (s.command !== undefined) commands.set(t.label, s.command);
    return s;
  },
});
const upstream = (threads: number): Target => ({
  label: `upstream stunnerd, -u ${threads}`, start: () => startUpstreamStunnerd(threads),
});
const OURS = [stunnerd(1), stunnerd(2)].map(recorded);
const UPSTREAM = [upstream(1), upstream(2)].map(recorded);
const COTURN_T = recorded(COTURN);
const TARGETS = [COTURN_T, OURS[0], UPSTREAM[0], OURS[1], UPSTREAM[1]];
/** Ours -> upstream at the same thread count. */
const COUNTERPART = new Map(OURS.map((t, i) => [t.label, UPSTREAM[i].label]));

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');

async function withServer<T>(t: Target, run: (s: Server) => Promise<T>): Promise<T> {
  const s = await t.start();
  try {
    return await run(s);
  } finally {
    await s.stop();
  }
}

async function rtpSection(o: UpstreamBenchOptions, peerPort: number): Promise<Map<string, RtpRun[]>> {
  const sessions = o.quick ? 60 : 200;
  const messages = o.quick ? 250 : 500;
  const probeSeconds = o.quick ? 2 : 4;
  const runs = new Map<string, RtpRun[]>();
  const repeated: string[] = [];
  for (let round = 0; round < o.rounds; round++) {
    // The order rotates from round to round, so that no server always runs first.
    for (let i = 0; i < TARGETS.length; i++) {
      const t = TARGETS[(i + round) % TARGETS.length];
      const run = () => withServer(t, (s) => rtpRun(s, peerPort, sessions, messages, probeSeconds));
      let r = await run();
      // A uclient process that fails (it exits when a session cannot be set up) leaves the run short: once more.
      if (r.fleet.failed > 0) {
        repeated.push(`${t.label}: ${r.fleet.errors.join('; ')}`);
        r = await run();
      }
      runs.set(t.label, [...(runs.get(t.label) ?? []), r]);
    }
  }

  console.log(`\n## Upstream stunnerd, RTP-like load: ${sessions} turnutils_uclient sessions × ${PPS} msg/s (-z ${INTERVAL_MS}) × ` +
    `${SIZE} B, channels, turnutils_peer echo\n\nprinted by: \`sh bin/node.sh bench/upstream.ts` +
    `${o.quick ? ' --quick' : ''} --rounds ${o.rounds}\` (also part of \`npm run bench\`)\n` +
    `Each session sends ${messages} messages; median of ${o.rounds} run(s) per server, the servers in turn. Server CPU: user+sys ` +
    `of the server process (every thread) per echoed message over the whole uclient run, set-up included, and over the ` +
    `seconds in which every session sends (steady). RTT: uclient's average (1 ms clock) and rtp-probe's (${PROBE.flows} more ` +
    `flows × ${PROBE.pps} msg/s, ${probeSeconds} s while every session sends, CLOCK_MONOTONIC).\n`);
  const m = (label: string, pick: (r: RtpRun) => number) => median((runs.get(label) ?? []).map(pick));
  const cpu = (label: string) => m(label, (r) => r.cpuUsPerMsg);
  const probeAvg = (label: string) => m(label, (r) => r.probe.avgUs);
  const rows = TARGETS.map((t) => {
    const other = COUNTERPART.get(t.label);
    const rs = runs.get(t.label) ?? [];
    const failed = rs.reduce((acc, r) => acc + r.fleet.failed, 0);
    return [
      t.label + (failed > 0 ? ` (${failed} uclient process(es) failed)` : ''),
      `${int(m(t.label, (r) => r.fleet.recv))} (${int(m(t.label, (r) => r.fleet.lost))})`,
      f(cpu(t.label)), t === COTURN_T ? '1' : ratio(cpu(t.label), cpu(COTURN_T.label)),
      other === undefined ? '—' : ratio(cpu(t.label), cpu(other)),
      f(m(t.label, (r) => r.steadyCpuUsPerMsg)),
      f(m(t.label, (r) => r.fleet.rttMs), 3),
      `${f(probeAvg(t.label) / 1000, 3)} / ${f(m(t.label, (r) => r.probe.p99Us) / 1000, 3)}` +
        (rs.some((r) => !r.probeUnderLoad) ? ' (probe not under load in a run)' : ''),
      t === COTURN_T ? '1' : ratio(probeAvg(t.label), probeAvg(COTURN_T.label)),
      other === undefined ? '—' : ratio(probeAvg(t.label), probeAvg(other)),
      rs.map((r) => f(r.cpuUsPerMsg)).join(', '),
    ];
  });
  table(['server', 'echoed (lost)', 'CPU µs/msg', '× coturn', '× upstream, same threads', 'steady µs/msg', 'uclient avg RTT ms',
    'probe RTT avg / p99 ms', 'probe avg × coturn', 'probe avg × upstream', 'CPU µs/msg per run'], rows);
  if (repeated.length > 0) console.log(`runs repeated after a uclient process failed: ${repeated.join(' | ')}`);
  return runs;
}

async function capacitySection(o: UpstreamBenchOptions, peer: Server): Promise<Map<string, number>> {
  const steps = o.quick ? [300, 600] : [400, 600, 800, 1200, 1600, 2400];
  const seconds = o.quick ? 2 : 3;
  const results = new Map<string, { flows: number; r: Paced }[]>();
  /** A run, repeated once when over 0.1 % loss: the step fails when both are over. */
  const step = async (t: Target, flows: number) => {
    let r = await paced(turnTarget(t), peer, flows, seconds);
    if (!isErr(r) && !passes(r)) r = await paced(turnTarget(t), peer, flows, seconds);
    if (isErr(r)) throw r;
    return r;
  };
  let active = TARGETS;
  // Step by step, every server still in the search at each step, the order rotating.
  for (const [i, flows] of steps.entries()) {
    const failed = new Set<Target>();
    for (const t of active.slice(i % active.length).concat(active.slice(0, i % active.length))) {
      const r = await step(t, flows);
      results.set(t.label, [...(results.get(t.label) ?? []), { flows, r }]);
      if (!passes(r)) failed.add(t);
    }
    active = active.filter((t) => !failed.has(t));
    if (active.length === 0) break;
  }
  // A server that fails the first step gets half of it, so that its row says more than "fewer".
  const below = steps[0] / 2;
  for (const t of TARGETS) {
    const rs = results.get(t.label) ?? [];
    if (rs.length === 1 && !passes(rs[0].r)) results.set(t.label, [{ flows: below, r: await step(t, below) }, ...rs]);
  }

  console.log(`\n## Upstream stunnerd, capacity: the most flows at ${PPS} msg/s × ${SIZE} B each with loss ≤ 0.1 %\n\n` +
    `printed by: \`sh bin/node.sh bench/upstream.ts${o.quick ? ' --quick' : ''}\` (also part of \`npm run bench\`)\n` +
    `rtp-probe, one process, every flow an allocation with a channel to turnutils_peer, all flows at once, spread evenly; ` +
    `${seconds} s window after 1 s of warm-up, a fresh server per run; steps ${steps.join(', ')} (${below} for a server ` +
    `that fails ${steps[0]}), the servers in turn at each step; a run over 0.1 % loss is repeated and the step fails ` +
    `when both are (the loss shown is the second run's). ` +
    `Cores in the window: relay / probe / echo peer (the same 2 cores); where the first step over dropped datagrams ` +
    `(socket receive-buffer overflows).\n`);
  const capacity = new Map<string, number>();
  for (const t of TARGETS) {
    capacity.set(t.label, (results.get(t.label) ?? []).filter((x) => passes(x.r)).at(-1)?.flows ?? 0);
  }
  const rows = TARGETS.map((t) => {
    const rs = results.get(t.label) ?? [];
    const best = rs.filter((x) => passes(x.r)).at(-1);
    const over = rs.find((x) => !passes(x.r));
    const other = COUNTERPART.get(t.label);
    const cap = capacity.get(t.label)!;
    return [
      t.label, rs.map((x) => `${x.flows}: ${f(x.r.lossPct, 3)} %`).join(', '),
      `**${int(cap)}**${rs.every((x) => passes(x.r)) ? ' (no step failed)' : ''}`,
      t === COTURN_T ? '1' : ratio(cap, capacity.get(COTURN_T.label)!),
      other === undefined ? '—' : ratio(cap, capacity.get(other)!),
      best === undefined ? '—' : [best.r.serverCpuS, best.r.clientCpuS, best.r.peerCpuS].map((c) => f(c / best.r.secs, 2)).join(' / '),
      over === undefined ? '—' : Object.entries(over.r.drops).map(([k, n]) => `${k} ${int(n)}`).join(', '),
    ];
  });
  table(['server', 'flows: loss', 'capacity (flows)', '× coturn', '× upstream, same threads', 'cores there (relay / probe / peer)',
    'dropped at the first step over'], rows);
  return capacity;
}

export async function runUpstreamBench(o: UpstreamBenchOptions): Promise<void> {
  requireUpstream();
  const peer = await startPeer();
  try {
    const t0 = performance.now();
    const rtp = await rtpSection(o, peer.port);
    const t1 = performance.now();
    const capacity = await capacitySection(o, peer);
    console.log('');
    for (const [ours, up] of COUNTERPART) {
      const cpu = (label: string) => median((rtp.get(label) ?? []).map((r) => r.cpuUsPerMsg));
      const avg = (label: string) => median((rtp.get(label) ?? []).map((r) => r.probe.avgUs));
      console.log(`${ours} vs ${up}: CPU per message ${ratio(cpu(ours), cpu(up))}, probe RTT ${ratio(avg(ours), avg(up))}, ` +
        `capacity ${ratio(capacity.get(ours)!, capacity.get(up)!)}`);
    }
    for (const [label, cmd] of commands) console.log(`${label}: \`${cmd}\``);
    console.log(`(rtp: ${f((t1 - t0) / 1000, 0)} s, capacity: ${f((performance.now() - t1) / 1000, 0)} s)`);
  } finally {
    await peer.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, rounds: { type: 'string' } } });
  const hardStop = setTimeout(() => {
    console.error('upstream: hard time limit reached');
    process.exit(2);
  }, 15 * 60_000);
  hardStop.unref();
  try {
    upstreamStunnerdBinary();
  } catch (err) {
    if (!(err instanceof UpstreamUnavailableError)) throw err;
    console.error(`upstream: ${err.message}`);
    process.exit(1);
  }
  reexecInNetns();
  console.log(`# upstream stunnerd v1.2.1 next to stunnerd and coturn — node ${process.version}, ${new Date().toISOString()}`);
  await runUpstreamBench({ quick: values.quick ?? false, rounds: Number(values.rounds ?? 1) });
}
