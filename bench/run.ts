// The benchmark suite (npm run bench): every number next to a baseline measured in the same invocation.
//  1. Relay ceiling: the same closed-loop ChannelData echo load through the bare Node relay and stunnerd;
//     relay CPU per echoed message and the ratio (target: stunnerd <= 1.25 x bare Node).
//  2. coturn's turnutils_uclient driving stunnerd and coturn at the same offered load: echoed msg/s,
//     server CPU per message, and the ratio.
//  3. Idle allocations held open: stunnerd RSS per allocation (target: <= 10 KiB).
//  4. Per client transport (UDP, TCP, TLS, DTLS): stunnerd next to coturn under the same uclient load
//     (bench/transports.ts).
//  5. Many flows at media rates (bench/many-flows.ts): RTP-like uclient load with RTT percentiles, capacity
//     at loss <= 0.1 %, 1 vs 2 workers, and the bare Node relay's floor, next to coturn.
//  6. Upstream stunnerd v1.2.1 (bench/upstream.ts) with --udp-thread-num 1 and 2 next to stunnerd with 1 and 2
//     workers and coturn at RTP-like load: server CPU per echoed message, RTT, capacity at loss <= 0.1 %.
//  7. Tracing (bench/tracing.ts): stunnerd with tracing off vs on (always_on, OTLP to a receiving sink) under
//     RTP-like uclient load (server CPU per echoed message, loss, RTT; coturn for reference) and under session
//     churn (server CPU per allocation, spans made and bytes received).
// Usage: npm run bench [-- --quick] [--skip-idle] [--skip-transports] [--skip-many-flows] [--skip-upstream] [--skip-tracing]
// Upstream stunnerd binds every interface, so unless --skip-upstream the suite runs itself again inside a network
// namespace of its own (.ci/netns.sh); the other servers bind 127.0.0.1 only. Section 6 needs upstream built by
// `bash .ci/go-tools.sh`: without it the suite stops at once (or pass --skip-upstream).
// Bounded in time: a hard stop at 25 minutes; sections 6 and 7 are skipped, saying so, when it is too near.
// stunnerd runs with --udp-thread-num 1 unless a section says otherwise.
import { parseArgs } from 'node:util';
import { closedLoop, type LoopResult } from './lib/closed-loop.ts';
import { startBareRelay, startCoturn, startPeer, startStunnerd } from './lib/servers.ts';
import { uclientLoad, type UclientLoad } from './lib/uclient-load.ts';
import { idleAllocations } from './idle-allocations.ts';
import { DEFAULTS as TRANSPORT_DEFAULTS, formatRows, runTransportBench } from './transports.ts';
import { runManyFlows, SECTIONS as MANY_FLOWS_SECTIONS } from './many-flows.ts';
import { runTracingBench } from './tracing.ts';
import { runUpstreamBench, UPSTREAM_MINUTES } from './upstream.ts';
import { reexecInNetns } from './lib/netns.ts';
import { upstreamStunnerdBinary, UpstreamUnavailableError } from './lib/upstream-stunnerd.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' }, 'skip-idle': { type: 'boolean' }, 'skip-transports': { type: 'boolean' },
    'skip-many-flows': { type: 'boolean' }, 'skip-upstream': { type: 'boolean' }, 'skip-tracing': { type: 'boolean' },
  },
});
const quick = values.quick ?? false;
// Section 6 cannot run without upstream built: say so now, not twenty minutes in; then into a network namespace.
if (!values['skip-upstream']) {
  try {
    upstreamStunnerdBinary();
  } catch (err) {
    if (!(err instanceof UpstreamUnavailableError)) throw err;
    console.error(`bench: ${err.message} (or pass --skip-upstream)`);
    process.exit(1);
  }
  reexecInNetns();
}
const started = performance.now();
const hardStop = setTimeout(() => {
  console.error('bench: hard time limit reached');
  process.exit(2);
}, 25 * 60_000);
hardStop.unref();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number, d = 1) => x.toFixed(d);

console.log(`# stunnerd benchmarks — node ${process.version}, ${new Date().toISOString()}`);

// 1. Relay ceiling, alternating runs so both see the same machine conditions.
{
  const rounds = quick ? 1 : 3;
  const load = { size: 100, flows: 4, window: 64, seconds: quick ? 4 : 8 };
  const peer = await startPeer();
  const bare: LoopResult[] = [];
  const turn: LoopResult[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const b = await startBareRelay(peer.port);
      bare.push(await closedLoop('bare', b.pid, b.port, peer.port, load));
      await b.stop();
      const s = await startStunnerd();
      turn.push(await closedLoop('turn', s.pid, s.port, peer.port, load));
      await s.stop();
    }
  } finally {
    await peer.stop();
  }
  const row = (name: string, rs: LoopResult[]) => console.log(`${name.padEnd(16)} pps=${f(median(rs.map((r) => r.pps)), 0)} ` +
    `cpu_us_per_msg=${f(median(rs.map((r) => r.cpuUsPerMsg)), 2)} cpu=${f(median(rs.map((r) => r.cpuPct)), 0)}% ` +
    `loss=${f(median(rs.map((r) => r.lossPct)), 3)}%  runs: ${rs.map((r) => f(r.cpuUsPerMsg, 2)).join(' ')}`);
  console.log(`\n## relay ceiling: closed loop, ${load.flows} flows x ${load.window} in flight, ${load.size} B ChannelData, ` +
    `turnutils_peer echo, median of ${rounds}`);
  row('bare node relay', bare);
  row('stunnerd', turn);
  const ratio = median(turn.map((r) => r.cpuUsPerMsg)) / median(bare.map((r) => r.cpuUsPerMsg));
  console.log(`ratio stunnerd/bare cpu_per_msg=${f(ratio, 2)} (target <= 1.25; efficiency ${f(100 / ratio, 0)}% of bare)`);
}

// 2. turnutils_uclient against stunnerd and coturn at the same offered load.
{
  const load = { sessions: 30, size: 100, messages: quick ? 1000 : 3000, intervalMs: 2 };
  const peer = await startPeer();
  const results: Record<string, UclientLoad> = {};
  try {
    for (const [name, start] of [['coturn', startCoturn], ['stunnerd', startStunnerd]] as const) {
      const server = await start();
      try {
        results[name] = await uclientLoad({ port: server.port, serverPid: server.pid, peerPort: peer.port, ...load });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await peer.stop();
  }
  console.log(`\n## turnutils_uclient: ${load.sessions} sessions x ${load.messages} msgs of ${load.size} B every ` +
    `${load.intervalMs} ms (offered ${f(load.sessions * 1000 / load.intervalMs, 0)} msg/s), channels via turnutils_peer`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(16)} pps=${f(r.pps, 0)} lost=${r.lost} cpu_us_per_msg=${f(r.cpuUsPerMsg, 2)} server_cpu_s=${r.serverCpuS}`);
  }
  console.log(`ratio stunnerd/coturn cpu_per_msg=${f(results.stunnerd.cpuUsPerMsg / results.coturn.cpuUsPerMsg, 2)}`);
}

// 3. Idle allocations.
if (!values['skip-idle']) {
  const n = quick ? 1000 : 5000;
  const r = await idleAllocations(n);
  console.log(`\n## idle allocations (each with a channel), stunnerd RSS growth from ${n / 5} to ${n} allocations`);
  console.log(`allocations=${r.allocations} rss_before=${f(r.rssBeforeMiB)}MiB rss_at_${n / 5}=${f(r.rssAtFifthMiB)}MiB ` +
    `rss_after=${f(r.rssAfterMiB)}MiB ` +
    `per_allocation=${f(r.kibPerAllocation, 2)}KiB (target <= 10 KiB)`);
}

// 4. Per client transport.
if (!values['skip-transports']) {
  const o = quick ? { ...TRANSPORT_DEFAULTS, messages: 300 } : TRANSPORT_DEFAULTS;
  console.log(`\n## per transport: turnutils_uclient ${o.sessions} sessions x ${o.messages} msgs of ${o.size} B every ` +
    `${o.intervalMs} ms, stunnerd next to coturn`);
  console.log(formatRows(await runTransportBench(o)));
}

// 5. Many flows at media rates.
if (!values['skip-many-flows']) {
  await runManyFlows({ quick, sections: MANY_FLOWS_SECTIONS, rounds: quick ? 1 : 3 });
}

// 6. Upstream stunnerd: about 5 minutes (2 with --quick); skipped, saying so, when the hard stop would cut it short.
if (!values['skip-upstream']) {
  const leftMin = 25 - (performance.now() - started) / 60_000;
  const needMin = quick ? UPSTREAM_MINUTES.quick : UPSTREAM_MINUTES.full;
  if (leftMin < needMin) {
    console.log(`\n## upstream stunnerd: skipped, ${leftMin.toFixed(1)} min left before the hard stop ` +
      `(run sh bin/node.sh bench/upstream.ts${quick ? ' --quick' : ''})`);
  } else {
    await runUpstreamBench({ quick, rounds: 1 });
  }
}

// 7. Tracing: about 3.5 minutes (under 1 with --quick); skipped, saying so, when the hard stop would cut it short.
if (!values['skip-tracing']) {
  const leftMin = 25 - (performance.now() - started) / 60_000;
  if (leftMin < (quick ? 1.5 : 4.5)) {
    console.log(`\n## tracing: skipped, ${leftMin.toFixed(1)} min left before the hard stop (run sh bin/node.sh bench/tracing.ts)`);
  } else {
    await runTracingBench({ quick, rounds: quick ? 1 : 3, steadyRounds: quick ? 1 : 2 });
  }
}
