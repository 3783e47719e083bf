// A lossy, slow link in user space, for kernels without sch_netem (`tc qdisc add … netem` answers "Specified qdisc
// kind is unknown" on this CI machine): a UDP forwarder on 127.0.0.1 that gives each client source a socket of its
// own towards TARGET and drops each datagram, either way, with probability LOSS and delays the rest by DELAY_MS.
// Seeded, so a run is repeatable. Prints `ready PORT`. Usage: node lossy-link.ts TARGET_HOST TARGET_PORT LOSS DELAY_MS
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

const [host, port, loss, delayMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
let seed = 0x2545f491;
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const stats = { forwarded: 0, dropped: 0 };
const pass = (send: () => void) => {
  if (random() < loss) {
    stats.dropped++;
    return;
  }
  stats.forwarded++;
  setTimeout(send, delayMs);
};

const front = createSocket('udp4');
const upstream = new Map<string, Socket>();
front.on('message', (msg, from) => {
  const key = `${from.address}:${from.port}`;
  let up = upstream.get(key);
  if (up === undefined) {
    const s = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    s.on('message', (back) => pass(() => front.send(back, from.port, from.address)));
    s.connect(port, host);
    upstream.set(key, (up = s));
  }
  const u = up;
  pass(() => u.send(msg));
});
front.bind(0, '127.0.0.1', () => console.log(`ready ${front.address().port}`));
process.on('SIGTERM', () => {
  console.log(`forwarded ${stats.forwarded} dropped ${stats.dropped}`);
  process.exit(0);
});
