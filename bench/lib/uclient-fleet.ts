// Many turnutils_uclient sessions at once: the sessions are split over several uclient processes started
// together, because one uclient sets its sessions up one after another, a few round trips and pauses each.
// Every session allocates, binds a channel to the echo peer and sends `messages` messages of `size` bytes
// every `intervalMs` (-z), starting 1-6 s after its process finished setting up (uclient's own stagger).
// Reports the totals, the steady-state echo rate, uclient's average RTT (1 ms resolution), and the CPU of the
// server and of the uclient processes, over the whole run and over the window in which every session sends.
// Every process is bounded by `timeoutS`.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpuSeconds } from './proc.ts';
import { treeCpuSeconds } from './proc-tree.ts';
import type { UclientRunOptions } from './uclient-load.ts';

export interface FleetOptions extends UclientRunOptions {
  /** Sessions per uclient process. */
  readonly perProcess?: number;
  /** Called once every process has set its sessions up (they start sending 1-6 s later). */
  readonly onConnected?: () => void;
}

export interface FleetResult {
  readonly processes: number;
  readonly sent: number;
  readonly recv: number;
  readonly lost: number;
  readonly lossPct: number;
  /** Echoed messages per second while every session was sending (sum over the processes). */
  readonly pps: number;
  /** uclient's "Average round trip delay" over all echoes, ms (its clock has 1 ms resolution). */
  readonly rttMs: number;
  readonly serverCpuS: number;
  /** Server CPU microseconds per echoed message, over the whole run (set-up included). */
  readonly cpuUsPerMsg: number;
  /** CPU seconds of all the uclient processes. */
  readonly clientCpuS: number;
  readonly wallS: number;
  /** Set-up time of the slowest process, s. */
  readonly connectS: number;
  /** Processes that did not end by themselves or exited with an error (their counts up to then are included). */
  readonly failed: number;
  /** Why, one line per failed process. */
  readonly errors: readonly string[];
  /** Length of the window in which every session was sending, s (NaN for a run too short to have one). */
  readonly steadyS: number;
  /** Server and uclient CPU seconds in that window. */
  readonly steadyServerCpuS: number;
  readonly steadyClientCpuS: number;
}

interface One {
  sent: number;
  recv: number;
  rttMs: number;
  pps: number;
  cpuS: number;
  connectS: number;
  ok: boolean;
  /** Why a process failed: its exit status and last lines. */
  error: string;
}

/** Parses one uclient's output (its per-second statistics lines and summary), then bash's `times`. */
function parse(out: string, rc: number, sendingS: number): One {
  const samples: { t: number; s: number; r: number }[] = [];
  let sent = 0;
  let recv = 0;
  for (const m of out.matchAll(/^(\d+): : start_mclient: msz=\d+, tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/gm)) {
    samples.push({ t: Number(m[1]), s: Number(m[2]), r: Number(m[3]) });
  }
  const fin = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(out);
  if (fin !== null) [sent, recv] = [Number(fin[1]), Number(fin[2])];
  else if (samples.length > 0) [sent, recv] = [samples.at(-1)!.s, samples.at(-1)!.r];
  const rtt = /Average round trip delay ([0-9.]+) ms/.exec(out);
  const connect = /Total connect time is (\d+)/.exec(out);
  const connectS = connect === null ? NaN : Number(connect[1]);
  // Steady state: the seconds in which every session is sending (each starts 1-6 s after set-up, when the
  // statistics lines begin, and sends for `sendingS`), a second of margin each side; for runs too short for
  // that, from the first second with traffic to the last one still sending. (uclient's log clock is not
  // reliable during set-up, so times count from the first statistics line.)
  const rate = (a: number, b: number) => (a >= 0 && b > a ? (samples[b].r - samples[a].r) / (samples[b].t - samples[a].t) : NaN);
  const s0 = samples.length > 0 ? samples[0].t : 0;
  let a = samples.findIndex((x) => x.t >= s0 + 7);
  let b = samples.findLastIndex((x) => x.t <= s0 + sendingS);
  if (!(b - a >= 2)) {
    a = samples.findIndex((x) => x.s > 0);
    b = -1;
    for (let i = Math.max(a, 0); i < samples.length; i++) if (samples[i].s < sent) b = i;
  }
  const pps = rate(a, b);
  // bash `times`: the shell's own line, then its children's (uclient, reaped through `timeout`).
  const times = [...out.matchAll(/^(\d+)m([0-9.]+)s (\d+)m([0-9.]+)s$/gm)].at(-1);
  const cpuS = times === undefined ? NaN
    : Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
  return {
    sent, recv, pps, cpuS, rttMs: rtt === null ? NaN : Number(rtt[1]), connectS,
    ok: rc === 0 && fin !== null,
    error: rc === 0 && fin !== null ? '' : `exit ${rc === 124 ? '124 (timed out)' : rc}: ${out.trim().split('\n').filter((l) => !/^\d+m[0-9.]+s \d+m[0-9.]+s$/.test(l)).slice(-3).join(' / ')}`,
  };
}

// uclient processes still running: killed if this process exits first (each is also bounded by its timeout).
// Each bash leads a process group of its own (detached), with `timeout --foreground` and uclient in it (without
// --foreground, timeout moves itself and uclient to another group); the whole group goes.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

export async function uclientFleet(o: FleetOptions): Promise<FleetResult> {
  const per = o.perProcess ?? 100;
  const n = Math.ceil(o.sessions / per);
  const timeoutS = o.timeoutS ?? 120;
  const c0 = cpuSeconds(o.serverPid);
  const t0 = performance.now();
  let connected = 0;
  const pids: number[] = [];
  // CPU over the steady window: from 7 s after the last process finished setting up (every session sends by
  // then) to a second before the first sessions run out of messages.
  const sendingS = (o.messages * o.intervalMs) / 1000;
  const steady = { s: NaN, server: NaN, client: NaN };
  const timers: NodeJS.Timeout[] = [];
  const sampleSteady = () => {
    if (sendingS - 1 - 7 < 2) return;
    // The server may have died meanwhile: then no figure (treeCpuSeconds is 0 for a process gone).
    const sample = () => ({ t: performance.now(), server: treeCpuSeconds(o.serverPid),
      client: pids.reduce((acc, pid) => acc + treeCpuSeconds(pid), 0) });
    let a: ReturnType<typeof sample>;
    timers.push(setTimeout(() => (a = sample()), 7000), setTimeout(() => {
      const b = sample();
      if (b.server > 0) Object.assign(steady, { s: (b.t - a.t) / 1000, server: b.server - a.server, client: b.client - a.client });
    }, (sendingS - 1) * 1000));
  };
  const runs = Array.from({ length: n }, (_, i) => {
    // Sessions split as evenly as the processes allow.
    const m = Math.floor(o.sessions / n) + (i < o.sessions % n ? 1 : 0);
    const args = ['-u', 'test', '-w', 'test', '-p', String(o.port), '-m', String(m), '-l', String(o.size),
      '-n', String(o.messages), '-z', String(o.intervalMs), '-c', '-e', '127.0.0.1', '-r', String(o.peerPort), '127.0.0.1'];
    const child = spawn('bash', ['-c', `timeout --foreground --kill-after=5 ${timeoutS} turnutils_uclient "$@"; rc=$?; times; exit $rc`,
      'uclient', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let seen = false;
    const on = (d: Buffer) => {
      out += d;
      if (!seen && out.includes('Total connect time')) {
        seen = true;
        if (++connected === n) {
          sampleSteady();
          o.onConnected?.();
        }
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    children.add(child);
    pids.push(child.pid!);
    return new Promise<One>((resolve) => child.once('close', (rc) => {
      children.delete(child);
      resolve(parse(out, rc ?? 1, (o.messages * o.intervalMs) / 1000));
    }));
  });
  const ones = await Promise.all(runs);
  for (const t of timers) clearTimeout(t);
  const wallS = (performance.now() - t0) / 1000;
  const serverCpuS = cpuSeconds(o.serverPid) - c0;
  const sum = (k: 'sent' | 'recv' | 'pps' | 'cpuS') => ones.reduce((acc, x) => acc + x[k], 0);
  const sent = sum('sent');
  const recv = sum('recv');
  return {
    processes: n, sent, recv, lost: sent - recv, lossPct: sent > 0 ? (100 * (sent - recv)) / sent : NaN,
    pps: sum('pps'), rttMs: ones.reduce((acc, x) => acc + x.rttMs * x.recv, 0) / recv,
    serverCpuS, cpuUsPerMsg: (serverCpuS * 1e6) / recv, clientCpuS: sum('cpuS'), wallS,
    connectS: Math.max(...ones.map((x) => x.connectS)), failed: ones.filter((x) => !x.ok).length,
    errors: ones.filter((x) => !x.ok).map((x) => x.error),
    steadyS: steady.s, steadyServerCpuS: steady.server, steadyClientCpuS: steady.client,
  };
}
