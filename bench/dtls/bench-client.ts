// The load side of bench/dtls/dtls-bench.ts, run in its own process so its CPU is not the server's.
// Usage: node bench/dtls/bench-client.ts <handshakes|echo|udp-echo> <port> <seconds> [concurrency] [window] [size]
// Prints `ready` when its flows are set up (echo modes), then one JSON line: { count, seconds, cpuUs,
// errors }, counting from `ready`. Talks to 127.0.0.1 only and stops by itself.

import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { DtlsClient } from 'werift-dtls/lib/dtls/src/index.js';
import { RecordProtection } from '../../src/server/dtls/record-protection.ts';
import type { TrafficKeys } from '../../src/server/dtls/record-protection.ts';

const [mode, portArg, secondsArg, concurrencyArg = '4', windowArg = '32', sizeArg = '100'] = process.argv.slice(2);
const port = Number(portArg);
const seconds = Number(secondsArg);
const concurrency = Number(concurrencyArg);
const window = Number(windowArg);
const payload = Buffer.alloc(Number(sizeArg), 0x61);

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

/** One werift client handshake on a fresh socket; resolves with the client and its socket. */
async function handshake(): Promise<{ client: DtlsClient; socket: Socket }> {
  const socket = await bound();
  const transport = {
    type: 'udp',
    address: socket.address(),
    closed: false,
    onData: (_d: Buffer): void => undefined,
    send: async (d: Buffer): Promise<void> => {
      socket.send(d, port, '127.0.0.1');
    },
    close: async (): Promise<void> => undefined,
  };
  socket.on('message', (m: Buffer) => transport.onData(m));
  const client = new DtlsClient({ transport, extendedMasterSecret: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('handshake timeout')), 10_000);
    client.onConnect.subscribe(() => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  return { client, socket };
}

/** The client's view of the record keys: it writes with the client keys and reads with the server's. */
function clientKeys(client: DtlsClient): TrafficKeys {
  const c = client.cipher.cipher as unknown as { clientWriteKey: Buffer; serverWriteKey: Buffer; clientNonce: Buffer; serverNonce: Buffer };
  return {
    algorithm: 'aes-128-gcm',
    clientWriteKey: c.serverWriteKey,
    serverWriteKey: c.clientWriteKey,
    clientSalt: c.serverNonce.subarray(0, 4),
    serverSalt: c.clientNonce.subarray(0, 4),
  };
}

async function runHandshakes(deadline: number): Promise<{ count: number; errors: number }> {
  let count = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        try {
          const { socket } = await handshake();
          socket.close();
          count++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { count, errors };
}

async function runEcho(encrypted: boolean): Promise<{ count: number; errors: number }> {
  let count = 0;
  const flows = await Promise.all(
    Array.from({ length: concurrency }, async () => {
      if (!encrypted) return { socket: await bound(), protection: undefined };
      const { client, socket } = await handshake();
      socket.removeAllListeners('message');
      // werift's own client already used low epoch-1 numbers; start well above them.
      return { socket, protection: new RecordProtection(clientKeys(client), 1, 1000) };
    }),
  );
  // Measure the echo alone, not the handshakes before it.
  const deadline = Date.now() + seconds * 1000;
  t0 = performance.now();
  cpu0 = process.cpuUsage();
  process.stdout.write('ready\n');
  await Promise.all(
    flows.map(
      ({ socket, protection }) =>
        new Promise<void>((resolve) => {
          const send = (): void => {
            socket.send(protection === undefined ? payload : protection.seal(23, payload), port, '127.0.0.1');
          };
          socket.on('message', (m: Buffer) => {
            if (protection !== undefined && protection.open(m, 0) === undefined) return;
            count++;
            if (Date.now() < deadline) send();
            else resolve();
          });
          for (let i = 0; i < window; i++) send();
          // Lost datagrams shrink the window; stop at the deadline whatever is in flight.
          setTimeout(resolve, deadline - Date.now() + 200);
        }),
    ),
  );
  for (const f of flows) f.socket.close();
  return { count, errors: 0 };
}

let t0 = performance.now();
let cpu0 = process.cpuUsage();
let result: { count: number; errors: number };
if (mode === 'handshakes') {
  result = await runHandshakes(Date.now() + seconds * 1000);
} else {
  result = await runEcho(mode === 'echo');
}
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ ...result, seconds: (performance.now() - t0) / 1000, cpuUs: cpu.user + cpu.system })}\n`);
process.exit(0);
