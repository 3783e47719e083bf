// Four hosts as network namespaces joined by veth pairs (1500-byte MTU), dual-stack, created for a test and always
// removed by it:
//
//   client 10.77.1.2 fd77:1::2 ── 10.77.1.1 fd77:1::1  gateway  10.77.2.1 fd77:2::1 ── 10.77.2.2 fd77:2::2 media
//                                                               10.77.3.1 fd77:3::1 ── 10.77.3.2 fd77:3::2 outside
//
// The gateway's media-side link is made first, so a wildcard listener advertises 10.77.2.1 / fd77:2::1 as its relay
// address while clients reach it at 10.77.1.1. Every host routes through the gateway (no forwarding is enabled:
// traffic between client and media goes through the TURN relay or nowhere). Needs root (ip netns).
import { execFileSync } from 'node:child_process';

export interface Host {
  readonly ns: string;
  readonly v4: string;
  readonly v6: string;
  /** The gateway's address on this host's link. */
  readonly gw4: string;
  readonly gw6: string;
}

export interface Topology {
  readonly gateway: string;
  readonly client: Host;
  readonly media: Host;
  readonly outside: Host;
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTopology(tag = String(process.pid)): Topology {
  const gateway = `stn-gw-${tag}`;
  const made: string[] = [];
  const remove = () => {
    for (const ns of made.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // gone already
      }
    }
  };
  try {
    const ns = (name: string) => {
      ip('netns', 'add', name);
      made.push(name);
      ip('-n', name, 'link', 'set', 'lo', 'up');
      return name;
    };
    ns(gateway);
    const link = (name: string, subnet: number): Host => {
      const host = ns(`stn-${name}-${tag}`);
      const [g, h] = [`g${subnet}`, `h${subnet}`];
      ip('link', 'add', g, 'netns', gateway, 'mtu', '1500', 'type', 'veth', 'peer', 'name', h, 'netns', host, 'mtu', '1500');
      const me = { ns: host, v4: `10.77.${subnet}.2`, v6: `fd77:${subnet}::2`, gw4: `10.77.${subnet}.1`, gw6: `fd77:${subnet}::1` };
      ip('-n', gateway, 'addr', 'add', `${me.gw4}/24`, 'dev', g);
      ip('-n', gateway, '-6', 'addr', 'add', `${me.gw6}/64`, 'dev', g, 'nodad');
      ip('-n', host, 'addr', 'add', `${me.v4}/24`, 'dev', h);
      ip('-n', host, '-6', 'addr', 'add', `${me.v6}/64`, 'dev', h, 'nodad');
      ip('-n', gateway, 'link', 'set', g, 'up');
      ip('-n', host, 'link', 'set', h, 'up');
      ip('-n', host, 'route', 'add', 'default', 'via', me.gw4);
      ip('-n', host, '-6', 'route', 'add', 'default', 'via', me.gw6);
      return me;
    };
    const media = link('media', 2);
    const client = link('client', 1);
    const outside = link('outside', 3);
    return { gateway, client, media, outside, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
