// Many flows at media rates, the load users have: hundreds of flows at 50 packets per second each, so that
// nearly every datagram wakes the server on its own. Every figure stands next to coturn started in the same
// invocation:
//   rtp       turnutils_uclient, 200 and 500 sessions x 50 msg/s (-z 20) x 160 B, channels, turnutils_peer
//             echo: echoed messages, lost, server CPU per echoed message, uclient's average RTT, and the RTT of
//             a probe running meanwhile (bench/tools/rtp-probe.c: 4 more TURN flows at 50 msg/s): average,
//             p50, p99. The probe's own floor (no relay; the bare Node relay) is printed with it. Servers
//             alternate from run to run.
//   capacity  the most flows at 50 msg/s x 160 B each that keep loss <= 0.1 %, stepping up, for coturn,
//             stunnerd with 1 and 2 workers and the bare Node relay. The load is rtp-probe's (all flows start
//             together, one client process); its CPU and the echo peer's are printed (same 2 cores).
//   scaling   one offered load beyond what one worker carries: echoed msg/s and CPU per message, 1 vs 2
//             workers (coturn and the bare Node relay for reference).
//   floor     the same paced load (200 and 500 flows) through the bare Node relay (bench/baseline/
//             node-udp-relay.mjs, no TURN logic), stunnerd and coturn: relay CPU per message and RTT.
//             uclient cannot drive the bare relay, which speaks no TURN; rtp-probe drives all of them.
// Usage: sh bin/node.sh bench/many-flows.ts [--quick] [--sections rtp,capacity,scaling,floor] [--rounds N]
// Needs coturn (turnserver, turnutils_uclient, turnutils_peer) and gcc. Every run stops by itself (uclient
// under `timeout`, the probe after its window); servers bind 127.0.0.1 only and are stopped by PID.
// stunnerd is started with an explicit --udp-thread-num N.
import { parseArgs } from 'node:util';
import { startBareRelay, startCoturn, startPeer, startStunnerd, WorkersUnavailableError, type Server } from './lib/servers.ts';
import { uclientFleet, type FleetResult } from './lib/uclient-fleet.ts';
import { dropsSince, socketDrops } from './lib/udp-drops.ts';
import { probeLoad, probeRun, type ProbeOptions, type ProbeResult } from './lib/rtp-probe.ts';

export const SECTIONS = ['rtp', 'capacity', 'scaling', 'floor'] as const;
export type Section = (typeof SECTIONS)[number];

export interface ManyFlowsOptions {
  readonly quick: boolean;
  readonly sections: readonly Section[];
  /** Runs per server in the rtp section (median reported). */
  readonly rounds: number;
}

export const SIZE = 160;
export const INTERVAL_MS = 20;
export const PPS = 1000 / INTERVAL_MS;
export const PROBE = { flows: 4, pps: PPS, size: SIZE };
// Sessions per uclient process: uclient sets its sessions up one at a time, so more processes set up faster,
// while each process adds a 1 ms timer of its own.
const PER_PROCESS = 50;
// Every client shares 127.0.0.1, which stunnerd's per-IP budget of 401 answers (admin.limits.unauthenticated_rate)
// would take for one address flooding it when a run sets up hundreds of allocations within a second or two.
const STUNNERD_ADMIN = { limits: { unauthenticated_rate: 0 } };

export interface Target {
  readonly label: string;
  start(): Promise<Server>;
}
export const COTURN: Target = { label: 'coturn', start: startCoturn };
export const stunnerd = (workers: number): Target => ({
  label: `stunnerd, ${workers} worker${workers > 1 ? 's' : ''}`,
  start: () => startStunnerd({ workers, admin: STUNNERD_ADMIN }),
});

const commands = new Map<string, string>();

/** Starts `t`, runs `f` against it, stops it; the error instead when stunnerd has no --udp-thread-num. */
async function withServer<T>(t: Target, f: (s: Server) => Promise<T>): Promise<T | WorkersUnavailableError> {
  let s: Server;
  try {
    s = await t.start();
  } catch (err) {
    if (err instanceof WorkersUnavailableError) return err;
    throw err;
  }
  if (s.command !== undefined) commands.set(t.label.replace(/, \d+ workers?$/, ''), s.command.replace(/--udp-thread-num \d+/, '--udp-thread-num N'));
  try {
    return await f(s);
  } finally {
    await s.stop();
  }
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const pct = (x: number, d = 2) => `${f(x, d)} %`;
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');
export function median(xs: readonly number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}
export const isErr = (x: unknown): x is WorkersUnavailableError => x instanceof WorkersUnavailableError;

function header(title: string, command: string, notes: string[] = []): void {
  console.log(`\n## ${title}\n\nprinted by: \`${command}\` (also part of \`npm run bench\`)${notes.map((n) => `\n${n}`).join('')}\n`);
}

export function table(head: string[], rows: string[][]): void {
  console.log(`| ${head.join(' | ')} |`);
  console.log(`| ${head.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

function printCommands(): void {
  for (const [name, cmd] of commands) console.log(`${name}: \`${cmd}\``);
}

// ---- rtp --------------------------------------------------------------------------------------------

export interface RtpRun {
  readonly fleet: FleetResult;
  readonly probe: ProbeResult;
  /** The probe sent while every uclient session was sending. */
  readonly probeUnderLoad: boolean;
  /** Server CPU µs per echoed message (uclient's and the probe's), over the whole run, set-up included. */
  readonly cpuUsPerMsg: number;
  /** The same over the window in which every uclient session sends. */
  readonly steadyCpuUsPerMsg: number;
}

export async function rtpRun(s: Server, peerPort: number, sessions: number, messages: number, probeSeconds: number): Promise<RtpRun> {
  const probe = probeRun(s.pid, { mode: 'turn', port: s.port, peerPort, ...PROBE, seconds: probeSeconds, waitForGo: true });
  await probe.ready;
  let underLoad = false;
  // Every session sends from 6 s after its process set up (uclient's 1-6 s stagger) until it has sent its
  // messages; the probe starts sending then (1 s of warm-up before its window).
  const fleet = await uclientFleet({
    port: s.port, serverPid: s.pid, peerPort, sessions, size: SIZE, messages, intervalMs: INTERVAL_MS,
    perProcess: PER_PROCESS, timeoutS: 60 + (messages * INTERVAL_MS) / 1000,
    onConnected: () => setTimeout(() => {
      underLoad = true;
      probe.go();
    }, 5500),
  });
  probe.go(); // a load that never finished setting up: the probe still ends, its row is marked
  const p = await probe.result;
  return {
    fleet, probe: p, probeUnderLoad: underLoad, cpuUsPerMsg: (fleet.serverCpuS * 1e6) / (fleet.recv + p.recv),
    steadyCpuUsPerMsg: (fleet.steadyServerCpuS * 1e6) / ((fleet.pps + PROBE.flows * PROBE.pps) * fleet.steadyS),
  };
}

async function rtpSection(o: ManyFlowsOptions, peerPort: number): Promise<void> {
  const loads = o.quick ? [200] : [200, 500];
  const messages = o.quick ? 600 : 750;
  const probeSeconds = o.quick ? 4 : 6;
  const targets = [COTURN, stunnerd(1), stunnerd(2)];
  // The probe's floor: the same 4 flows with no relay, and through the bare Node relay, no other load from this benchmark.
  const floorOpts = { peerPort, ...PROBE, seconds: probeSeconds };
  const direct = await probeLoad(0, { mode: 'direct', port: peerPort, ...floorOpts });
  const bareRelay = await startBareRelay(peerPort);
  let bare: ProbeResult;
  try {
    bare = await probeLoad(bareRelay.pid, { mode: 'bare', port: bareRelay.port, ...floorOpts });
  } finally {
    await bareRelay.stop();
  }

  const runs = new Map<string, (RtpRun | WorkersUnavailableError)[]>();
  const repeated: string[] = [];
  for (const sessions of loads) {
    // The repeated runs go to the first load, the one the targets are set at.
    for (let round = 0; round < (sessions === loads[0] ? o.rounds : 1); round++) {
      // Rotate the order so that no server always runs first.
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        const key = `${sessions}/${t.label}`;
        const run = () => withServer(t, (s) => rtpRun(s, peerPort, sessions, messages, probeSeconds));
        let r = await run();
        // A uclient process that fails (it exits when a session cannot be set up) leaves the run short: once more.
        if (!isErr(r) && r.fleet.failed > 0) {
          repeated.push(`${sessions} sessions, ${t.label}: ${r.fleet.errors.join('; ')}`);
          r = await run();
        }
        runs.set(key, [...(runs.get(key) ?? []), r]);
      }
    }
  }

  header(`RTP-like load: turnutils_uclient sessions × ${PPS} msg/s (-z ${INTERVAL_MS}) × ${SIZE} B, channels, turnutils_peer echo`,
    `sh bin/node.sh bench/many-flows.ts --sections rtp${o.quick ? ' --quick' : ''} --rounds ${o.rounds}`, [
      `Each session sends ${messages} messages; median of ${o.rounds} run(s) per row at ${loads[0]} sessions, one run ` +
      `at more, servers alternated. ` +
      `Server CPU is user+sys of the server process per echoed message, over the whole uclient run (set-up included, ` +
      `as issue 11 measured it) and over the seconds in which every session sends (steady state). ` +
      `RTT: uclient's average (its clock ticks in ms, so it mostly counts the echoes that crossed a tick) and ` +
      `rtp-probe's (${PROBE.flows} more TURN flows × ${PROBE.pps} msg/s, ${probeSeconds} s while every session sends, ` +
      `timed with CLOCK_MONOTONIC; the probe itself adds its floor below).`,
    ]);
  const rows: string[][] = [];
  const summary: string[] = [];
  for (const sessions of loads) {
    const med = (label: string, pick: (r: RtpRun) => number) =>
      median((runs.get(`${sessions}/${label}`) ?? []).filter((r): r is RtpRun => !isErr(r)).map(pick));
    const cot = { cpu: med('coturn', (r) => r.cpuUsPerMsg), steady: med('coturn', (r) => r.steadyCpuUsPerMsg), avg: med('coturn', (r) => r.probe.avgUs), p99: med('coturn', (r) => r.probe.p99Us) };
    for (const t of targets) {
      const rs = runs.get(`${sessions}/${t.label}`) ?? [];
      const err = rs.find(isErr);
      if (err !== undefined) {
        rows.push([String(sessions), t.label, 'workers: flag not available yet', '', '', '', '', '', '', '', '', '']);
        continue;
      }
      const ok = rs.filter((r): r is RtpRun => !isErr(r));
      const m = (pick: (r: RtpRun) => number) => median(ok.map(pick));
      const cpu = m((r) => r.cpuUsPerMsg);
      const avg = m((r) => r.probe.avgUs);
      const p99 = m((r) => r.probe.p99Us);
      const flags = ok.some((r) => !r.probeUnderLoad) ? ' (probe not under load in a run)' : '';
      const failed = ok.reduce((a, r) => a + r.fleet.failed, 0);
      rows.push([
        String(sessions), t.label + (failed > 0 ? ` (${failed} uclient process(es) failed)` : ''),
        int(m((r) => r.fleet.recv)), `${int(m((r) => r.fleet.lost))} (${pct(m((r) => r.fleet.lossPct), 3)})`,
        f(cpu, 1), t === COTURN ? '1' : ratio(cpu, cot.cpu),
        `${f(m((r) => r.steadyCpuUsPerMsg), 1)} (${t === COTURN ? '1' : ratio(m((r) => r.steadyCpuUsPerMsg), cot.steady)})`,
        f(m((r) => r.fleet.rttMs), 3),
        `${f(avg / 1000, 3)} / ${f(m((r) => r.probe.p50Us) / 1000, 3)} / ${f(p99 / 1000, 3)}${flags}`,
        t === COTURN ? '1 / 1' : `${ratio(avg, cot.avg)} / ${ratio(p99, cot.p99)}`,
        f(m((r) => r.fleet.clientCpuS), 1),
        ok.map((r) => f(r.cpuUsPerMsg, 1)).join(', '),
      ]);
      if (t !== COTURN && sessions === loads[0]) {
        summary.push(`${t.label}: CPU per message ${ratio(cpu, cot.cpu)} coturn's (target ≤ 1.5×: ${cpu / cot.cpu <= 1.5 ? 'met' : 'not met'}); ` +
          `average RTT uclient ${f(m((r) => r.fleet.rttMs), 3)} ms, probe ${f(avg / 1000, 3)} ms ` +
          `(target ≤ 0.1 ms: ${m((r) => r.fleet.rttMs) <= 0.1 ? 'met' : 'not met'} by uclient's figure, ` +
          `${avg / 1000 <= 0.1 ? 'met' : 'not met'} by the probe's, whose floor through the bare Node relay is ${f(bare.avgUs / 1000, 3)} ms)`);
      }
    }
  }
  table(['sessions', 'server', 'echoed', 'lost', 'server CPU µs/msg', 'CPU × coturn', 'steady-state µs/msg (× coturn)', 'uclient avg RTT ms',
    'probe RTT avg / p50 / p99 ms', 'probe RTT × coturn (avg / p99)', 'uclient CPU s', 'CPU µs/msg per run'], rows);
  console.log(`\nprobe floor (${PROBE.flows} flows × ${PROBE.pps} msg/s, no other load from this benchmark): ` +
    `no relay (straight to turnutils_peer) avg ${f(direct.avgUs / 1000, 3)} / p50 ${f(direct.p50Us / 1000, 3)} / p99 ${f(direct.p99Us / 1000, 3)} ms; ` +
    `through the bare Node relay avg ${f(bare.avgUs / 1000, 3)} / p50 ${f(bare.p50Us / 1000, 3)} / p99 ${f(bare.p99Us / 1000, 3)} ms`);
  if (repeated.length > 0) console.log(`runs repeated after a uclient process failed: ${repeated.join(' | ')}`);
  console.log(`targets at ${loads[0]} sessions: ${summary.join('; ')}`);
  printCommands();
}

// ---- the paced load (capacity, scaling, floor) ----------------------------------------------------

export interface ProbeTarget {
  readonly label: string;
  readonly mode: ProbeOptions['mode'];
  start(peerPort: number): Promise<Server>;
}
const DIRECT: ProbeTarget = {
  label: 'no relay (straight to turnutils_peer)', mode: 'direct',
  start: async (peerPort) => ({ pid: 0, port: peerPort, stop: async () => {} }),
};
const BARE: ProbeTarget = { label: 'bare Node relay', mode: 'bare', start: (peerPort) => startBareRelay(peerPort) };
/** The bare relay on two SO_REUSEPORT threads: the floor for stunnerd with two workers. */
const BARE2: ProbeTarget = { label: 'bare Node relay, 2 threads', mode: 'bare', start: (peerPort) => startBareRelay(peerPort, 2) };
export const turnTarget = (t: Target): ProbeTarget => ({ label: t.label, mode: 'turn', start: () => t.start() });
const P_COTURN = turnTarget(COTURN);
const pStunnerd = (workers: number) => turnTarget(stunnerd(workers));

export interface Paced extends ProbeResult {
  /** Receive-buffer overflows in the run at the relay's sockets and at the echo peer's. */
  readonly drops: Record<string, number>;
}

/** `flows` flows × 50 msg/s × 160 B from rtp-probe through `t` (a fresh server) to the echo peer. */
export async function paced(t: ProbeTarget, peer: Server, flows: number, seconds: number): Promise<Paced | WorkersUnavailableError> {
  return withServer({ label: t.label, start: () => t.start(peer.port) }, async (s) => {
    const pids: Record<string, number> = t.mode === 'direct' ? { peer: peer.pid } : { relay: s.pid, peer: peer.pid };
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, socketDrops(pid)]));
    const r = await probeLoad(s.pid, { mode: t.mode, port: s.port, peerPort: peer.port, peerPid: peer.pid, flows, pps: PPS, size: SIZE, seconds });
    const drops = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, dropsSince(before[k], socketDrops(pid))]));
    return { ...r, drops };
  });
}

const cores = (r: Paced, cpuS: number) => f(cpuS / r.secs, 2);
const dropText = (r: Paced) => Object.entries(r.drops).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${int(n)}`).join(', ') || 'none';
export const passes = (r: Paced) => r.lossPct <= 0.1;

interface PacedMedian extends Paced {
  /** Relay CPU µs per message of each run. */
  readonly cpuRuns: readonly number[];
}

/** `rounds` runs of each target at the same load, the order rotating from round to round; field-wise medians. */
async function pacedRounds(targets: readonly ProbeTarget[], peer: Server, flows: number, seconds: number, rounds: number):
  Promise<Map<string, PacedMedian | WorkersUnavailableError>> {
  const runs = new Map<string, Paced[] | WorkersUnavailableError>();
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round) % targets.length];
      const done = runs.get(t.label);
      if (isErr(done)) continue;
      const r = await paced(t, peer, flows, seconds);
      runs.set(t.label, isErr(r) ? r : [...(done ?? []), r]);
    }
  }
  const out = new Map<string, PacedMedian | WorkersUnavailableError>();
  for (const [label, rs] of runs) {
    if (isErr(rs)) {
      out.set(label, rs);
      continue;
    }
    const med = Object.fromEntries(Object.keys(rs[0]).map((k) => [k, k === 'drops'
      ? Object.fromEntries(Object.keys(rs[0].drops).map((d) => [d, median(rs.map((r) => r.drops[d]))]))
      : median(rs.map((r) => (r as unknown as Record<string, number>)[k]))])) as unknown as Paced;
    out.set(label, { ...med, cpuRuns: rs.map((r) => r.cpuUsPerMsg) });
  }
  return out;
}

async function capacitySection(o: ManyFlowsOptions, peer: Server): Promise<Map<string, { cap: number; over?: number }>> {
  const steps = o.quick ? [200, 400, 600, 800, 1000, 1400, 2000] : [200, 400, 600, 800, 1000, 1200, 1400, 2000, 2800];
  const seconds = o.quick ? 4 : 6;
  const targets = [P_COTURN, pStunnerd(1), pStunnerd(2), BARE];
  const results = new Map<string, { flows: number; r: Paced }[] | WorkersUnavailableError>();
  // Step by step, every relay still in the search at each step, in turn (rotating who goes first), so that
  // they see the same machine; a run over 0.1 % loss is repeated once, and the step fails when both are over
  // (a moment of contention from outside the benchmark fails one run, not the relay).
  let active = targets;
  for (const [i, flows] of steps.entries()) {
    const failed = new Set<ProbeTarget>();
    for (const t of active.slice(i % active.length).concat(active.slice(0, i % active.length))) {
      let r = await paced(t, peer, flows, seconds);
      if (!isErr(r) && !passes(r)) r = await paced(t, peer, flows, seconds);
      if (isErr(r)) {
        results.set(t.label, r);
        failed.add(t);
        continue;
      }
      const done = results.get(t.label);
      results.set(t.label, [...(done === undefined || isErr(done) ? [] : done), { flows, r }]);
      if (!passes(r)) failed.add(t);
    }
    active = active.filter((t) => !failed.has(t));
    if (active.length === 0) break;
  }

  header(`Capacity: the most flows at ${PPS} msg/s × ${SIZE} B each with loss ≤ 0.1 %`,
    `sh bin/node.sh bench/many-flows.ts --sections capacity${o.quick ? ' --quick' : ''}`, [
      `Load: bench/tools/rtp-probe.c, one process, every flow a TURN allocation with a channel to turnutils_peer ` +
      `(ChannelData to the bare Node relay), all flows starting together and spread evenly over time; ${seconds} s ` +
      `window after 1 s of warm-up; a fresh server per run; steps ${steps.join(', ')}, the relays in turn at each ` +
      `step; a run over 0.1 % loss is repeated and the step fails when both are (the loss shown is the second run's). ` +
      `Not uclient: it sets its sessions up one after another, so a thousand sessions need many uclient processes, ` +
      `and under load those finish setting up many seconds apart, so their ` +
      `sending did not overlap and a step would not carry the load it names. Client, echo peer and server share the 2 cores: each one's CPU ` +
      `in the window is shown (in cores), and where the first failing step dropped datagrams (socket receive ` +
      `buffer overflows).`,
    ]);
  const capacity = new Map<string, { cap: number; over?: number }>();
  const rows: string[][] = [];
  for (const t of targets) {
    const r = results.get(t.label);
    if (r === undefined) continue;
    if (isErr(r)) {
      rows.push([t.label, 'workers: flag not available yet', '', '', '', '', '', '']);
      continue;
    }
    const best = r.filter((x) => passes(x.r)).at(-1);
    const over = r.find((x) => !passes(x.r));
    const cap = best?.flows ?? 0;
    capacity.set(t.label, { cap, over: over?.flows });
    const use = (x: { r: Paced } | undefined) =>
      (x === undefined ? '—' : `${cores(x.r, x.r.serverCpuS)} / ${cores(x.r, x.r.clientCpuS)} / ${cores(x.r, x.r.peerCpuS)}`);
    rows.push([
      t.label,
      r.map((x) => `${x.flows}: ${pct(x.r.lossPct, 3)}`).join(', '),
      `**${cap}**${over === undefined ? ' (no step failed)' : ''}`,
      best === undefined ? '—' : int(best.r.pps),
      use(best), use(over), over === undefined ? '—' : dropText(over.r),
      t === P_COTURN ? '1' : ratio(cap, capacity.get(P_COTURN.label)?.cap ?? NaN),
    ]);
  }
  table(['relay', 'flows: loss', 'capacity (flows)', 'echoed msg/s there', 'cores there (relay / probe / peer)',
    'cores at the first step over', 'dropped there', 'capacity × coturn'], rows);
  const one = capacity.get(pStunnerd(1).label);
  const two = capacity.get(pStunnerd(2).label);
  console.log(`
target: capacity with 2 workers ≥ 1.5× that with 1 worker: ${two === undefined || one === undefined
    ? 'workers: flag not available yet' : `${ratio(two.cap, one.cap)} (${two.cap / one.cap >= 1.5 ? 'met' : 'not met'})`}`);
  printCommands();
  return capacity;
}

async function scalingSection(o: ManyFlowsOptions, peer: Server, oneWorkerOver: number | undefined): Promise<void> {
  // Beyond what one worker carries: its first failing capacity step when that section ran.
  const flows = oneWorkerOver ?? (o.quick ? 800 : 1000);
  const seconds = o.quick ? 4 : 5;
  const targets = [pStunnerd(1), pStunnerd(2), P_COTURN, BARE];
  const runs = await pacedRounds(targets, peer, flows, seconds, o.rounds);
  header(`Scaling: the same offered load, ${flows} flows × ${PPS} msg/s × ${SIZE} B (${int(flows * PPS)} msg/s offered), ` +
    `stunnerd with 1 vs 2 workers`, `sh bin/node.sh bench/many-flows.ts --sections scaling${o.quick ? ' --quick' : ''}`, [
    `rtp-probe as in the capacity section, ${seconds} s window${oneWorkerOver === undefined ? '' : ' (the load is the first capacity step one worker failed)'}; ` +
    `median of ${o.rounds} run(s), the relays in turn; coturn and the bare Node relay for reference.`,
  ]);
  const one = runs.get(pStunnerd(1).label);
  const rows: string[][] = [];
  for (const t of targets) {
    const r = runs.get(t.label)!;
    if (isErr(r)) {
      rows.push([t.label, 'workers: flag not available yet', '', '', '', '', '', '', '']);
      continue;
    }
    rows.push([
      t.label, int(r.pps), pct(r.lossPct, 3), f(r.cpuUsPerMsg, 1),
      `${cores(r, r.serverCpuS)} / ${cores(r, r.clientCpuS)} / ${cores(r, r.peerCpuS)}`,
      `${f(r.avgUs / 1000, 3)} / ${f(r.p99Us / 1000, 3)}`, dropText(r),
      one === undefined || isErr(one) || t.mode !== 'turn' || t === P_COTURN ? '—'
        : `${ratio(r.pps, one.pps)} / ${ratio(r.cpuUsPerMsg, one.cpuUsPerMsg)}`,
      r.cpuRuns.map((x) => f(x, 1)).join(', '),
    ]);
  }
  table(['relay', 'echoed msg/s', 'lost', 'relay CPU µs/msg', 'cores (relay / probe / peer)', 'RTT avg / p99 ms', 'dropped',
    '× 1 worker (msg/s / CPU per msg)', 'CPU µs/msg per run'], rows);
  printCommands();
}

async function floorSection(o: ManyFlowsOptions, peer: Server): Promise<void> {
  const loads = o.quick ? [200] : [200, 500];
  const seconds = 5;
  const targets = [DIRECT, BARE, BARE2, pStunnerd(1), pStunnerd(2), P_COTURN];
  const results = new Map<number, Map<string, PacedMedian | WorkersUnavailableError>>();
  for (const flows of loads) results.set(flows, await pacedRounds(targets, peer, flows, seconds, o.rounds));
  header(`Floor: the same paced load through the bare Node relay, stunnerd and coturn (${PPS} msg/s × ${SIZE} B per flow)`,
    `sh bin/node.sh bench/many-flows.ts --sections floor${o.quick ? ' --quick' : ''}`, [
      `uclient speaks only TURN, so this load comes from bench/tools/rtp-probe.c, which drives all of them: ` +
      `ChannelData on one channel per flow (allocated through the repo's TURN client for stunnerd and coturn), ` +
      `${seconds} s window after 1 s of warm-up, median of ${o.rounds} run(s) with the relays in turn. The bare Node relay (bench/baseline/node-udp-relay.mjs: one socket ` +
      `per flow, no TURN logic; with 2 threads each binds the port with SO_REUSEPORT, as stunnerd's workers do) is where ` +
      `Node itself sets the floor, and each relay is set against the bare relay with as many threads; "no relay" is ` +
      `what the probe and the echo peer cost.`,
    ]);
  const rows: string[][] = [];
  for (const [flows, m] of results) {
    const bare1 = m.get(BARE.label);
    const bare2 = m.get(BARE2.label);
    const cot = m.get(P_COTURN.label);
    for (const t of targets) {
      const r = m.get(t.label)!;
      if (isErr(r)) {
        rows.push([String(flows), t.label, 'workers: flag not available yet', '', '', '', '', '', '', '', '']);
        continue;
      }
      const relay = t.mode !== 'direct';
      const vs = (b: PacedMedian | WorkersUnavailableError | undefined) =>
        (!relay || b === undefined || isErr(b) ? '—' : b === r ? '1' : ratio(r.cpuUsPerMsg, b.cpuUsPerMsg));
      rows.push([
        String(flows), t.label, int(r.pps), pct(r.lossPct, 3), relay ? f(r.cpuUsPerMsg, 1) : '—',
        vs(t === BARE2 || t.label === pStunnerd(2).label ? bare2 : bare1), vs(cot),
        `${f(r.avgUs / 1000, 3)} / ${f(r.p50Us / 1000, 3)} / ${f(r.p99Us / 1000, 3)}`,
        `${relay ? cores(r, r.serverCpuS) : '—'} / ${cores(r, r.clientCpuS)} / ${cores(r, r.peerCpuS)}`, dropText(r),
        relay ? r.cpuRuns.map((x) => f(x, 1)).join(', ') : '—',
      ]);
    }
  }
  table(['flows', 'relay', 'echoed msg/s', 'lost', 'relay CPU µs/msg', 'CPU × bare Node, same threads', 'CPU × coturn',
    'RTT avg / p50 / p99 ms', 'cores (relay / probe / peer)', 'dropped', 'CPU µs/msg per run'], rows);
  printCommands();
}

export async function runManyFlows(o: ManyFlowsOptions): Promise<void> {
  const peer = await startPeer();
  let oneWorkerOver: number | undefined;
  try {
    for (const s of o.sections) {
      const t0 = performance.now();
      if (s === 'rtp') await rtpSection(o, peer.port);
      if (s === 'capacity') oneWorkerOver = (await capacitySection(o, peer)).get(pStunnerd(1).label)?.over;
      if (s === 'scaling') await scalingSection(o, peer, oneWorkerOver);
      if (s === 'floor') await floorSection(o, peer);
      console.log(`(${s}: ${f((performance.now() - t0) / 1000, 0)} s)`);
    }
  } finally {
    await peer.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, sections: { type: 'string' }, rounds: { type: 'string' } },
  });
  const sections = (values.sections?.split(',') ?? [...SECTIONS]) as Section[];
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`--sections: unknown section "${s}" (expected ${SECTIONS.join(', ')})`);
  const quick = values.quick ?? false;
  const hardStop = setTimeout(() => {
    console.error('many-flows: hard time limit reached');
    process.exit(2);
  }, 30 * 60_000);
  hardStop.unref();
  console.log(`# many flows at media rates — node ${process.version}, ${new Date().toISOString()}`);
  await runManyFlows({ quick, sections, rounds: Number(values.rounds ?? (quick ? 1 : 3)) });
}
