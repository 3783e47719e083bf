// Memory held per idle allocation: opens N allocations (each with a permission and a channel, as a WebRTC
// client keeps them) against a stunnerd process and reports its RSS growth per allocation, measured as
// the slope between N/5 and N allocations so that one-time costs (JIT, first heap growth) cancel out.
// Usage: node bench/idle-allocations.ts [N=5000]   (also called by bench/run.ts)
import { setTimeout as sleep } from 'node:timers/promises';
import { TurnClient } from '../src/client/turn-client.ts';
import { rssBytes } from './lib/proc.ts';
import { startStunnerd, startPeer } from './lib/servers.ts';

export interface IdleResult {
  readonly allocations: number;
  readonly rssBeforeMiB: number;
  readonly rssAtFifthMiB: number;
  readonly rssAfterMiB: number;
  readonly kibPerAllocation: number;
}

export async function idleAllocations(n: number): Promise<IdleResult> {
  const server = await startStunnerd();
  const peer = await startPeer();
  const clients: TurnClient[] = [];
  try {
    await sleep(1000);
    const before = rssBytes(server.pid);
    let atFifth = NaN;
    const peerAddr = { family: 4 as const, address: '127.0.0.1', port: peer.port };
    // A few at a time, so the server is not flooded with handshakes.
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, async () => {
        const c = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: server.port, username: 'test', password: 'test' });
        await c.allocate();
        await c.channelBind(0x4000, peerAddr);
        return c;
      }));
      clients.push(...batch);
      if (Number.isNaN(atFifth) && clients.length >= n / 5) {
        await sleep(2000);
        atFifth = rssBytes(server.pid);
      }
    }
    await sleep(3000);
    const after = rssBytes(server.pid);
    const fifth = Math.ceil(n / 5 / 50) * 50;
    return {
      allocations: clients.length,
      rssBeforeMiB: before / 2 ** 20,
      rssAtFifthMiB: atFifth / 2 ** 20,
      rssAfterMiB: after / 2 ** 20,
      kibPerAllocation: (after - atFifth) / 1024 / (clients.length - fifth),
    };
  } finally {
    for (const c of clients) c.close();
    await server.stop();
    await peer.stop();
  }
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 5000);
  const r = await idleAllocations(n);
  console.log(`idle allocations=${r.allocations} rss_before=${r.rssBeforeMiB.toFixed(1)}MiB ` +
    `rss_at_${n / 5}=${r.rssAtFifthMiB.toFixed(1)}MiB ` +
    `rss_after=${r.rssAfterMiB.toFixed(1)}MiB per_allocation=${r.kibPerAllocation.toFixed(2)}KiB`);
}
