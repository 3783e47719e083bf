// Where datagrams were dropped: the kernel's per-socket count of receive-buffer overflows (/proc/net/udp
// "drops"), by local port, so a run can say whether the server's listening socket, the echo peer or another
// socket (a relay or client socket) overflowed.
import { readFileSync } from 'node:fs';

export type DropSnapshot = ReadonlyMap<number, number>;

/** Drops so far of every IPv4 UDP socket, summed by local port. */
export function udpDrops(): DropSnapshot {
  const byPort = new Map<number, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1].split(':')[1], 16);
    byPort.set(port, (byPort.get(port) ?? 0) + Number(f[12]));
  }
  return byPort;
}

/** Drops between two snapshots at each of `ports`, and at every other socket together. */
export function dropsBetween(a: DropSnapshot, b: DropSnapshot, ports: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const named = new Set(Object.values(ports));
  for (const [name, port] of Object.entries(ports)) out[name] = (b.get(port) ?? 0) - (a.get(port) ?? 0);
  let other = 0;
  // A socket closed between the snapshots takes its count with it; one opened after starts from 0.
  for (const [port, n] of b) if (!named.has(port)) other += Math.max(0, n - (a.get(port) ?? 0));
  out.other = other;
  return out;
}
