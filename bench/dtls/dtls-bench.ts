// DTLS server benchmark: handshakes/s (RSA-2048 and ECDSA P-256 certificates) and echoed messages/s
// with the server's CPU µs per message, against a bare node:dgram echo measured in the same run.
// Usage: node bench/dtls/dtls-bench.ts [--seconds N] (default 5 per phase; about 5 N seconds in all).
// Loopback only; every phase stops by itself. Needs the openssl CLI for the test certificates.

import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DtlsServer } from '../../src/server/dtls/dtls-server.ts';
import type { DtlsAssociation } from '../../src/server/dtls/dtls-server.ts';

const secondsFlag = process.argv.indexOf('--seconds');
const SECONDS = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 5;
const CLIENT = join(import.meta.dirname, 'bench-client.ts');

interface ClientResult {
  count: number;
  errors: number;
  seconds: number;
  cpuUs: number;
}

function makeCert(kind: 'rsa' | 'ec'): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dtls-bench-'));
  const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=bench'], {
    stdio: 'ignore',
  });
  return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
}

/** Runs the client process; the server's CPU is measured from its `ready` line (or its start) to its result. */
async function runClient(args: string[]): Promise<{ client: ClientResult; serverCpuUs: number }> {
  const child = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let cpu0 = process.cpuUsage();
  let result: ClientResult | undefined;
  let serverCpuUs = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'ready') {
      cpu0 = process.cpuUsage();
    } else if (line.startsWith('{')) {
      const cpu = process.cpuUsage(cpu0);
      serverCpuUs = cpu.user + cpu.system;
      result = JSON.parse(line) as ClientResult;
    }
  }
  if (result === undefined) throw new Error(`bench client ${args[0]} printed no result`);
  return { client: result, serverCpuUs };
}

async function benchHandshakes(kind: 'rsa' | 'ec'): Promise<string> {
  const { cert, key } = makeCert(kind);
  const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert, key, idleTimeoutMs: 2000 });
  server.on('association', (a: DtlsAssociation) => a.on('message', () => undefined));
  const { client, serverCpuUs } = await runClient(['handshakes', String(server.address().port), String(SECONDS), '4']);
  await server.close();
  const rate = client.count / client.seconds;
  return `handshakes ${kind === 'rsa' ? 'RSA-2048  ' : 'ECDSA-P256'}: ${client.count} in ${client.seconds.toFixed(1)} s = ${rate.toFixed(0)}/s; server CPU ${(serverCpuUs / client.count / 1000).toFixed(2)} ms per handshake; client errors ${client.errors}`;
}

async function benchEcho(): Promise<{ line: string; usPerMessage: number; rate: number }> {
  const { cert, key } = makeCert('ec');
  const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0 }, { cert, key });
  let echoed = 0;
  server.on('association', (a: DtlsAssociation) =>
    a.on('message', (m: Buffer) => {
      echoed++;
      a.send(m);
    }),
  );
  const { client, serverCpuUs } = await runClient(['echo', String(server.address().port), String(SECONDS), '4', '32', '100']);
  await server.close();
  const rate = client.count / client.seconds;
  const usPerMessage = serverCpuUs / echoed;
  return {
    rate,
    usPerMessage,
    line: `DTLS echo (100 B, 4 associations, window 32): ${rate.toFixed(0)} msg/s at the client; server echoed ${echoed}; server CPU ${usPerMessage.toFixed(1)} µs per echoed message (decrypt + encrypt + 2 syscalls)`,
  };
}

async function benchUdpBaseline(): Promise<{ line: string; usPerMessage: number; rate: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  let echoed = 0;
  socket.on('message', (m: Buffer, r) => {
    echoed++;
    socket.send(m, r.port, r.address);
  });
  const { client, serverCpuUs } = await runClient(['udp-echo', String(socket.address().port), String(SECONDS), '4', '32', '100']);
  socket.close();
  const rate = client.count / client.seconds;
  const usPerMessage = serverCpuUs / echoed;
  return {
    rate,
    usPerMessage,
    line: `bare node:dgram echo (same load): ${rate.toFixed(0)} msg/s; server CPU ${usPerMessage.toFixed(1)} µs per echoed message`,
  };
}

console.log(`DTLS server benchmark, ${SECONDS} s per phase, node ${process.version}, loopback`);
console.log(await benchHandshakes('rsa'));
console.log(await benchHandshakes('ec'));
const dtls = await benchEcho();
console.log(dtls.line);
const udp = await benchUdpBaseline();
console.log(udp.line);
console.log(`ratio DTLS/bare: ${(dtls.rate / udp.rate).toFixed(2)}x throughput, ${(dtls.usPerMessage / udp.usPerMessage).toFixed(2)}x server CPU per message`);
