// Where datagrams were dropped: the kernel's per-socket count of receive-buffer overflows (/proc/net/udp and
// /proc/net/udp6 "drops"), summed over the UDP sockets a process holds, so a run can say whether the relay (its
// listening and relay sockets) or the echo peer overflowed. Sockets of other processes on the machine do not count.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Drops so far of each IPv4 UDP socket `pid` holds, by socket inode (empty for a process gone). */
export function socketDrops(pid: number): Map<string, number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m !== null) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return new Map();
  }
  const drops = new Map<string, number>();
  // udp6 too: a Go server's wildcard sockets (upstream stunnerd's `:port`) are dual-stack IPv6 sockets.
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && inodes.has(f[9])) drops.set(f[9], Number(f[12]));
    }
  }
  return drops;
}

/** Drops between two snapshots of one process (a socket opened meanwhile counts from 0). */
export function dropsSince(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const [inode, d] of after) n += Math.max(0, d - (before.get(inode) ?? 0));
  return n;
}
