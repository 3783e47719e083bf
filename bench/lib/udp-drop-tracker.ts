// Where datagrams were dropped at a full receive buffer, over a long run with sockets coming and going (udp-drops.ts
// compares two snapshots of one process): per socket, the kernel counts them in the last column of
// /proc/net/udp and udp6 (this network namespace's). Polled every few seconds, each socket's count is put on the
// process that holds it (stunnerd, the echo peer) or, for any other socket, on the load generators; the namespace's
// total (Udp RcvbufErrors of /proc/net/snmp) also holds the drops of sockets that closed between two polls. So a
// lost echo can be told from a gateway that could not keep up or from a load generator that could not, when
// they share the machine's cores.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const OTHERS = 'load generators';

function rcvbufErrors(): number {
  const rows = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = rows[0].split(/\s+/);
  return Number(rows[1].split(/\s+/)[names.indexOf('RcvbufErrors')]);
}

export class UdpDropTracker {
  readonly #owners: ReadonlyMap<string, number>;
  /** Drops last seen per socket inode. */
  readonly #seen = new Map<string, number>();
  readonly #byOwner = new Map<string, number>();
  readonly #total0 = rcvbufErrors();

  /** `owners`: a name per process id whose sockets are told apart. */
  constructor(owners: Readonly<Record<string, number>>) {
    this.#owners = new Map(Object.entries(owners));
    for (const name of [...this.#owners.keys(), OTHERS]) this.#byOwner.set(name, 0);
    this.poll();
  }

  poll(): void {
    const ownerOf = new Map<string, string>();
    for (const [name, pid] of this.#owners) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // gone
      }
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) ownerOf.set(m[1], name);
        } catch {
          // closed meanwhile
        }
      }
    }
    const first = this.#seen.size === 0;
    for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
      const lines = readFileSync(file, 'utf8').split('\n').slice(1);
      for (const line of lines) {
        const f = line.trim().split(/\s+/);
        if (f.length < 13) continue;
        const inode = f[9];
        const drops = Number(f[12]);
        const before = this.#seen.get(inode) ?? (first ? drops : 0);
        this.#seen.set(inode, drops);
        if (drops > before) {
          const owner = ownerOf.get(inode) ?? OTHERS;
          this.#byOwner.set(owner, this.#byOwner.get(owner)! + drops - before);
        }
      }
    }
  }

  /** "stunnerd 0, peer 12, load generators 3 (kernel total 15)" since the tracker was made. */
  summary(): string {
    const parts = [...this.#byOwner].map(([name, n]) => `${name} ${n}`);
    return `${parts.join(', ')} (the namespace's total, closed sockets included: ${rcvbufErrors() - this.#total0})`;
  }
}
