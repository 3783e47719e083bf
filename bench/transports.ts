// Relay cost per client transport, stunnerd next to coturn in the same run: the same turnutils_uclient load
// (bench/tools/uclient-load.sh, channels through coturn's UDP echo peer) over UDP, TCP, TLS and DTLS against
// each server; prints echoed messages/s, the server's CPU µs per echoed message, and stunnerd/coturn ratios.
//
// Usage: node bench/transports.ts [--transports udp,tcp,tls,dtls] [--sessions 40] [--messages 1000]
//          [--interval-ms 1] [--size 100] [--timeout 20]
// Every uclient run is bounded by --timeout seconds; servers bind 127.0.0.1 only and are stopped by PID.
// TLS "lost" at high rates is mostly uclient's counting: it takes one TLS read for one message, so frames that
// share a TLS record are counted once (stunnerd sends one record per frame). The TLS row then also compares CPU
// per message sent, which credits each server with every message.
// Needs coturn (turnserver, turnutils_uclient, turnutils_peer) and openssl. From another script:
// `import { runTransportBench } from './transports.ts'` returns the rows.
import { parseArgs } from 'node:util';
import { startCoturn, startPeer, startStunnerd, type Server } from './lib/servers.ts';
import { uclientLoad, type UclientLoad } from './lib/uclient-load.ts';

export type Transport = 'udp' | 'tcp' | 'tls' | 'dtls';

export interface TransportBenchOptions {
  readonly transports: readonly Transport[];
  readonly sessions: number;
  readonly messages: number;
  readonly intervalMs: number;
  readonly size: number;
  readonly timeoutS: number;
}

export interface TransportRow {
  readonly transport: Transport;
  readonly stunnerd: UclientLoad;
  readonly coturn: UclientLoad;
  /** stunnerd / coturn */
  readonly ppsRatio: number;
  readonly cpuRatio: number;
}

export const DEFAULTS: TransportBenchOptions = {
  transports: ['udp', 'tcp', 'tls', 'dtls'], sessions: 40, messages: 1000, intervalMs: 1, size: 100, timeoutS: 20,
};

export async function runTransportBench(o: TransportBenchOptions = DEFAULTS): Promise<TransportRow[]> {
  const peer = await startPeer();
  // stunnerd with one worker, stated on the command line (the flag's default is one per CPU).
  const servers = { stunnerd: await startStunnerd({ allTransports: true, workers: 1 }), coturn: await startCoturn({ allTransports: true }) };
  const rows: TransportRow[] = [];
  try {
    for (const transport of o.transports) {
      const load = (s: Server) => uclientLoad({
        port: transport === 'tls' || transport === 'dtls' ? s.tlsPort! : s.port, serverPid: s.pid,
        peerPort: peer.port, sessions: o.sessions, size: o.size, messages: o.messages, intervalMs: o.intervalMs,
        transport, timeoutS: o.timeoutS,
      });
      const stunnerd = await load(servers.stunnerd);
      const coturn = await load(servers.coturn);
      rows.push({
        transport, stunnerd, coturn, ppsRatio: stunnerd.pps / coturn.pps, cpuRatio: stunnerd.cpuUsPerMsg / coturn.cpuUsPerMsg,
      });
    }
  } finally {
    await servers.stunnerd.stop();
    await servers.coturn.stop();
    await peer.stop();
  }
  return rows;
}

export function formatRows(rows: readonly TransportRow[]): string {
  const lines = ['transport  server     echoed/s   lost   CPU µs/msg   (stunnerd/coturn: echoed/s, CPU µs/msg)'];
  const fmt = (t: string, name: string, r: UclientLoad) =>
    `${t.padEnd(10)} ${name.padEnd(9)} ${r.pps.toFixed(0).padStart(9)} ${String(r.lost).padStart(6)} ${r.cpuUsPerMsg.toFixed(1).padStart(12)}`;
  for (const row of rows) {
    lines.push(fmt(row.transport, 'stunnerd', row.stunnerd));
    lines.push(fmt(row.transport, 'coturn', row.coturn));
    lines.push(`${row.transport.padEnd(10)} ratio     ${row.ppsRatio.toFixed(2).padStart(9)}        ${row.cpuRatio.toFixed(2).padStart(12)}`);
  }
  const tls = rows.find((r) => r.transport === 'tls');
  if (tls !== undefined && (tls.stunnerd.lost > 0 || tls.coturn.lost > 0)) {
    // uclient counts one message per TLS read: a server that puts several frames in one record is undercounted,
    // and its CPU per counted message overstated. Per message sent, the two are compared on the same count.
    const perSent = (r: UclientLoad) => (r.serverCpuS * 1e6) / r.sent;
    lines.push(`(tls lost: uclient counts one message per TLS read; CPU µs per message sent: `
      + `stunnerd ${perSent(tls.stunnerd).toFixed(1)}, coturn ${perSent(tls.coturn).toFixed(1)}, `
      + `ratio ${(perSent(tls.stunnerd) / perSent(tls.coturn)).toFixed(2)})`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      transports: { type: 'string' }, sessions: { type: 'string' }, messages: { type: 'string' },
      'interval-ms': { type: 'string' }, size: { type: 'string' }, timeout: { type: 'string' },
    },
  });
  const opts: TransportBenchOptions = {
    transports: (values.transports?.split(',') as Transport[] | undefined) ?? DEFAULTS.transports,
    sessions: Number(values.sessions ?? DEFAULTS.sessions),
    messages: Number(values.messages ?? DEFAULTS.messages),
    intervalMs: Number(values['interval-ms'] ?? DEFAULTS.intervalMs),
    size: Number(values.size ?? DEFAULTS.size),
    timeoutS: Number(values.timeout ?? DEFAULTS.timeoutS),
  };
  console.log(`uclient: ${opts.sessions} sessions x ${opts.messages} messages of ${opts.size} B, -z ${opts.intervalMs} ms, through turnutils_peer`);
  const rows = await runTransportBench(opts);
  console.log(formatRows(rows));
  console.log(JSON.stringify(rows.map((r) => ({
    transport: r.transport, stunnerd: { pps: r.stunnerd.pps, lost: r.stunnerd.lost, cpuUsPerMsg: r.stunnerd.cpuUsPerMsg },
    coturn: { pps: r.coturn.pps, lost: r.coturn.lost, cpuUsPerMsg: r.coturn.cpuUsPerMsg },
    ppsRatio: r.ppsRatio, cpuRatio: r.cpuRatio,
  }))));
}
