// Peers that misbehave, seen from an allocation that also relays to a good peer, and from a second allocation.
// - A closed port on the peer host (ICMP port unreachable on loopback), one datagram a millisecond over a channel:
//   with a relay port range outside the kernel's ephemeral ports the channel's peer link (a socket connected to
//   the peer, src/server/udp-relay-socket.ts) hears each ICMP error, counted in stunner_peer_unreachable_total{icmp="port_unreachable"}
//   and passed on to the client in a Data indication with an ICMP attribute (3/3); the datagrams count as relayed too
//   (stunner_cluster_packets_total tx: they left), nothing is logged, the good peer of the same allocation and
//   another allocation go on.
// - A peer that stops reading (a stopped process with a 4 KiB receive buffer) blasted through the relay: on
//   loopback the kernel drops at the peer's full receive buffer (Udp RcvbufErrors in /proc/net/snmp), not with
//   EAGAIN/ENOBUFS at stunnerd's relay socket; stunnerd relays every datagram it received (cluster tx equals
//   listener rx), does not crash, its RSS stays bounded, and the other allocation's echoes come back meanwhile.
// - A congested link to a peer (an htb class of 1 Mbit/s on loopback in front of its port): the relay socket's
//   kernel send buffer fills and the kernel answers EAGAIN; beyond 64 sends waiting in user space stunnerd drops
//   and counts (stunner_send_dropped_packets_total{to="peer"}) instead of queueing without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ephemeralPortRange, freeUdpPort, run } from '../test/helpers/process.ts';
import { startEchoPeer } from '../test/helpers/udp-echo.ts';
import { baseConfig, freePorts, PASS, sleep, startDaemon, tempDir, USER, writeConfig, type Daemon } from '../test/ops/support/daemon.ts';
import { RelayProbe } from '../test/ops/support/relay-probe.ts';

const BAD = 0x4001;
const MiB = 1024 * 1024;

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** The Udp row of /proc/net/snmp (this network namespace's), by field name. */
function udpSnmp(): Record<string, number> {
  const rows = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = rows[0].split(/\s+/).slice(1);
  const values = rows[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

async function traffic(d: Daemon): Promise<{ listenerRx: number; clusterTx: number }> {
  return {
    listenerRx: await d.value('stunner_listener_packets_total', { name: 'udp', direction: 'rx' }) ?? 0,
    clusterTx: await d.value('stunner_cluster_packets_total', { name: 'udp', cluster: 'loopback', direction: 'tx' }) ?? 0,
  };
}

/** Sends `n` datagrams of `size` bytes on `channel`, `batch` at a time, `pauseMs` between batches. */
async function blast(p: RelayProbe, channel: number, n: number, size: number, batch: number, pauseMs: number): Promise<void> {
  const payload = Buffer.alloc(size, 0x5a);
  for (let i = 0; i < n; i += batch) {
    for (let j = i; j < Math.min(n, i + batch); j++) p.client.sendChannel(channel, payload);
    await sleep(pauseMs);
  }
}

async function setup(prefix: string, listener: Record<string, unknown> = {}) {
  const file = join(tempDir(prefix), 'config.yaml');
  const ports = await freePorts();
  const config = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  Object.assign(config.listeners[0], listener);
  writeConfig(file, config);
  const peer = await startEchoPeer();
  const d = await startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics, readyTimeoutMs: 60_000 })
    .catch(async (err: unknown) => {
      await peer.close();
      throw err;
    });
  const open = () => RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
  return { d, peer, open };
}

test('a peer port answering ICMP unreachable: relayed, each ICMP error counted, nothing logged, the good peer and another allocation go on',
  async () => {
    // By default peer links are opened on relay ports no ephemeral bind can be given (src/server/udp-relay.ts,
    // peerLinksFor): a relay port range below the kernel's ip_local_port_range.
    const [low] = ephemeralPortRange();
    const { d, peer, open } = await setup('icmp', { min_relay_port: low - 2000, max_relay_port: low - 1001 });
    const a = await open();
    const b = await open();
    const unreachable = () => d.value('stunner_peer_unreachable_total', { name: 'udp', icmp: 'port_unreachable' });
    // RFC 8656 §11.5: each error counted is passed on to the client, from the closed port, as ICMP 3/3.
    const passedOn: string[] = [];
    a.client.on('icmp', (icmp, peer) => passedOn.push(`${icmp.type}/${icmp.code} from ${peer.address}:${peer.port}`));
    try {
      const closed = await freeUdpPort();
      await a.client.channelBind(BAD, { family: 4, address: '127.0.0.1', port: closed });
      const before = await traffic(d);
      const counted0 = await unreachable() ?? 0;
      const snmp0 = udpSnmp();
      const streamA = a.stream(10);
      const streamB = b.stream(10);
      const N = 2000;
      await blast(a, BAD, N, 200, 1, 1);
      await sleep(500);
      const [ra, rb] = [await streamA.stop(), await streamB.stop()];
      const after = await traffic(d);
      const counted = (await unreachable() ?? 0) - counted0;
      const noPorts = udpSnmp().NoPorts - snmp0.NoPorts;
      process.stdout.write(`# ${N} datagrams to a closed port: ${noPorts} port-unreachable in the kernel, ${counted} counted, ` +
        `${passedOn.length} passed on to the client; ` +
        `good peer ${ra.echoed}/${ra.sent}, other allocation ${rb.echoed}/${rb.sent}\n`);
      // Everything stunnerd received was relayed, the closed port's datagrams included, and the kernel answered
      // those port unreachable. The client's datagrams share the listener socket: on a loaded machine a few may
      // be dropped at its receive buffer before stunnerd sees them (Udp RcvbufErrors), the good peers' too.
      const sent = N + ra.sent + rb.sent;
      const received = after.listenerRx - before.listenerRx;
      assert.ok(received <= sent && received >= sent * 0.95, `received ${received} of ${sent}`);
      assert.equal(after.clusterTx - before.clusterTx, received);
      assert.ok(noPorts >= N * 0.9, `the kernel answered ${noPorts} datagrams port unreachable`);
      // One error per datagram, less those a send in the same turn of the event loop took (udp-relay-socket.ts):
      // a loaded machine sometimes hands stunnerd two of the client's datagrams in one read.
      assert.ok(counted <= noPorts && counted >= N * 0.8, `${counted} of ${noPorts} ICMP errors counted`);
      // Data indications to the client over loopback: a loaded machine may drop a few at its receive buffer.
      assert.ok(passedOn.length <= counted && passedOn.length >= counted * 0.95, `${passedOn.length} of ${counted} passed on`);
      assert.deepEqual(new Set(passedOn), new Set([`3/3 from 127.0.0.1:${closed}`]));
      assert.ok(ra.echoed >= ra.sent * 0.95, 'the good peer of the same allocation');
      assert.ok(rb.echoed >= rb.sent * 0.95, 'the other allocation');
      assert.equal(await b.echo(), true);
      assert.doesNotMatch(d.output(), /ERROR|ECONNREFUSED/);
      assert.equal(await a.echo(), true);
      assert.ok(d.alive());
    } finally {
      a.close();
      b.close();
      await d.kill();
      await peer.close();
    }
  });

test('a peer that stops reading, blasted through the relay: dropped by the kernel at the peer, no crash, memory bounded, another allocation goes on',
  async () => {
    const { d, peer, open } = await setup('blast');
    const sink = run(process.execPath, ['-e', `const s = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 4096 });
      s.bind(0, '127.0.0.1', () => { console.log('port ' + s.address().port); process.kill(process.pid, 'SIGSTOP'); });`]);
    const a = await open();
    const b = await open();
    try {
      await sink.waitFor(/port \d+/);
      const sinkPort = Number(/port (\d+)/.exec(sink.output())![1]);
      await a.client.channelBind(BAD, { family: 4, address: '127.0.0.1', port: sinkPort });
      const before = await traffic(d);
      const snmp0 = udpSnmp();
      const rss0 = rss(d.pid);
      const streamB = b.stream(10);
      const N = 30_000;
      const t0 = performance.now();
      await blast(a, BAD, N, 1200, 100, 10);
      const seconds = (performance.now() - t0) / 1000;
      await sleep(500);
      const rb = await streamB.stop();
      const rss1 = rss(d.pid);
      const after = await traffic(d);
      const snmp1 = udpSnmp();
      const received = after.listenerRx - before.listenerRx;
      const relayed = after.clusterTx - before.clusterTx;
      // Receive-buffer drops: at stunnerd's listener socket (what the client sent and stunnerd never received)
      // and at the stopped peer (the rest).
      const rcvbufDrops = snmp1.RcvbufErrors - snmp0.RcvbufErrors;
      const atPeer = rcvbufDrops - (N + rb.sent - received);
      process.stdout.write(`# ${N} x 1200 B in ${seconds.toFixed(2)} s: stunnerd received ${received}, relayed ${relayed}; ` +
        `kernel receive-buffer drops ${rcvbufDrops} (${atPeer} at the peer), send-buffer errors ${snmp1.SndbufErrors - snmp0.SndbufErrors}; ` +
        `other allocation ${rb.echoed}/${rb.sent}; RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB\n`);
      assert.equal(relayed, received, 'every datagram stunnerd received was relayed');
      // All but a few KiB of what was relayed to the stopped peer was dropped at its receive buffer.
      assert.ok(atPeer >= received - rb.sent - 20, `${atPeer} of ${received} dropped at the stopped peer`);
      assert.ok(rss1 - rss0 < 40 * MiB, `RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
      // The other allocation shares the listener socket: under the blast a few of its echoes may be lost with
      // the blast's own datagrams at that socket's receive buffer, but it goes on, and is whole once it ends.
      assert.ok(rb.echoed >= rb.sent * 0.9, `other allocation ${rb.echoed}/${rb.sent}`);
      assert.equal(await b.echo(), true);
      assert.equal(await a.echo(), true);
      assert.doesNotMatch(d.output(), /ERROR/);
      assert.ok(d.alive());
    } finally {
      a.close();
      b.close();
      sink.child.kill('SIGKILL');
      await d.kill();
      await peer.close();
    }
  });

/** Runs `tc` with `args` (this network namespace's loopback). */
const tc = (...args: string[]): void => {
  execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

test('a congested link to a peer (1 Mbit/s of htb in front of it) blasted through the relay: the send queue stays ' +
  'bounded, every datagram is relayed or counted as a send drop, another allocation goes on', async () => {
  const { d, peer, open } = await setup('congested');
  const slow = await startEchoPeer();
  const a = await open();
  const b = await open();
  // Loopback traffic to the slow peer's port goes through a 1 Mbit/s htb class with a long FIFO: its datagrams
  // wait in the qdisc, charged to the relay socket's send buffer, until the kernel answers EAGAIN and Node.js
  // would queue every later send in user space.
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10');
  try {
    tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit');
    tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '1mbit', 'ceil', '1mbit');
    tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:20', 'handle', '20:', 'pfifo', 'limit', '100000');
    tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dport',
      String(slow.port), '0xffff', 'flowid', '1:20');
    await a.client.channelBind(BAD, { family: 4, address: '127.0.0.1', port: slow.port });
    const peerDrops = () => d.value('stunner_send_dropped_packets_total', { name: 'udp', to: 'peer' }).then((v) => v ?? 0);
    const before = await traffic(d);
    const drops0 = await peerDrops();
    const rss0 = rss(d.pid);
    const streamB = b.stream(10);
    // 20,000 x 200 B in about two seconds: 16 Mbit/s into a 1 Mbit/s link.
    const N = 20_000;
    await blast(a, BAD, N, 200, 100, 10);
    await sleep(500);
    const rb = await streamB.stop();
    const rss1 = rss(d.pid);
    const after = await traffic(d);
    const dropped = await peerDrops() - drops0;
    const received = after.listenerRx - before.listenerRx;
    const relayed = after.clusterTx - before.clusterTx;
    process.stdout.write(`# ${N} x 200 B towards a 1 Mbit/s link: stunnerd received ${received}, relayed ${relayed}, ` +
      `dropped ${dropped} at its full send queue; other allocation ${rb.echoed}/${rb.sent}; ` +
      `RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB\n`);
    assert.equal(relayed + dropped, received, 'every datagram received was relayed or counted as a send drop');
    // The link carries about 600 of these a second, so most were dropped; the kernel's buffer and the bounded queue
    // hold only a few hundred.
    assert.ok(dropped > N / 2, `${dropped} send drops`);
    assert.ok(rss1 - rss0 < 40 * MiB, `RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
    assert.ok(rb.echoed >= rb.sent * 0.9, `other allocation ${rb.echoed}/${rb.sent}`);
    assert.equal(await b.echo(), true);
    assert.doesNotMatch(d.output(), /ERROR/);
    assert.ok(d.alive());
  } finally {
    tc('qdisc', 'del', 'dev', 'lo', 'root');
    a.close();
    b.close();
    await d.kill();
    await peer.close();
    await slow.close();
  }
});

test('a congested link to a client (1 Mbit/s of htb in front of its port) while its peer echoes a blast: every ' +
  'echo is sent or counted as a send drop towards the client, another allocation goes on', async () => {
  const { d, peer, open } = await setup('congested-client');
  const a = await open();
  const b = await open();
  const value = async (name: string, labels: Record<string, string>) => (await d.value(name, labels)) ?? 0;
  const counts = async () => ({
    listenerTx: await value('stunner_listener_packets_total', { name: 'udp', direction: 'tx' }),
    clusterRx: await value('stunner_cluster_packets_total', { name: 'udp', cluster: 'loopback', direction: 'rx' }),
    drops: await value('stunner_send_dropped_packets_total', { name: 'udp', to: 'client' }),
  });
  const clientPort = a.client.transport.localAddress.port;
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10');
  try {
    tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit');
    tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '1mbit', 'ceil', '1mbit');
    tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:20', 'handle', '20:', 'pfifo', 'limit', '100000');
    tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dport',
      String(clientPort), '0xffff', 'flowid', '1:20');
    const before = await counts();
    const streamB = b.stream(10);
    const N = 20_000;
    // The blast goes out at full speed; its echoes come back towards the client's congested port.
    await blast(a, 0x4000, N, 200, 100, 10);
    await sleep(1000);
    const rb = await streamB.stop();
    const after = await counts();
    const fromPeers = after.clusterRx - before.clusterRx;
    const sent = after.listenerTx - before.listenerTx;
    const dropped = after.drops - before.drops;
    process.stdout.write(`# ${N} x 200 B echoed towards a client behind 1 Mbit/s: ${fromPeers} from peers, ${sent} sent to ` +
      `clients, ${dropped} dropped at a full send queue; other allocation ${rb.echoed}/${rb.sent}\n`);
    assert.equal(sent + dropped, fromPeers, 'every datagram from a peer was sent to its client or counted as a send drop');
    assert.ok(dropped > N / 2, `${dropped} send drops`);
    assert.ok(rb.echoed >= rb.sent * 0.9, `other allocation ${rb.echoed}/${rb.sent}`);
    assert.equal(await b.echo(), true);
    assert.ok(d.alive());
  } finally {
    tc('qdisc', 'del', 'dev', 'lo', 'root');
    a.close();
    b.close();
    await d.kill();
    await peer.close();
  }
});
