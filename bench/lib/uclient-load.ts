// coturn's turnutils_uclient load (bench/tools/uclient-load.sh) against a TURN server, parsed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './servers.ts';

export interface UclientLoad {
  readonly pps: number;
  readonly sent: number;
  readonly recv: number;
  readonly lost: number;
  readonly serverCpuS: number;
  /** Server CPU microseconds per echoed message. */
  readonly cpuUsPerMsg: number;
  readonly line: string;
}

/** A uclient load through turnutils_peer at `peerPort`: sessions × messages of `size` B, one per intervalMs. */
export interface UclientRunOptions {
  readonly port: number;
  readonly serverPid: number;
  readonly peerPort: number;
  readonly sessions: number;
  readonly size: number;
  readonly messages: number;
  readonly intervalMs: number;
  /** Each uclient process is bounded by it. */
  readonly timeoutS?: number;
}

export interface UclientLoadOptions extends UclientRunOptions {
  readonly transport?: 'udp' | 'tcp' | 'tls' | 'dtls';
}

export function uclientLoad(o: UclientLoadOptions): Promise<UclientLoad> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(ROOT, 'bench/tools/uclient-load.sh'), '127.0.0.1', String(o.port), 'test', 'test',
      String(o.sessions), String(o.size), String(o.messages)], {
      env: {
        ...process.env, MODE: 'peer', PEER: `127.0.0.1:${o.peerPort}`, INTERVAL_MS: String(o.intervalMs),
        TRANSPORT: o.transport ?? 'udp', SERVER_PID: String(o.serverPid), TIMEOUT: String(o.timeoutS ?? 90),
      },
    }, (err, stdout) => {
      if (err) return reject(err);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      const num = (k: string) => Number(new RegExp(`\\b${k}=([0-9.]+)`).exec(line)?.[1] ?? NaN);
      const recv = num('recv');
      const cpu = num('server_cpu_s');
      resolve({ pps: num('pps'), sent: num('sent'), recv, lost: num('lost'), serverCpuS: cpu,
        cpuUsPerMsg: (cpu * 1e6) / recv, line });
    });
  });
}
