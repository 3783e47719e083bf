// stunnerd between hosts: client, gateway, media server and a host outside every cluster, each a network
// namespace (support/topology.ts). The client reaches the gateway at 10.77.1.1 and gets a relay address on the
// media side (10.77.2.1: a wildcard listener advertises an interface address, not the one clients use).
// Needs root: `npm run test:netns`.
import { strict as assert } from 'node:assert';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTopology, type Topology } from './support/topology.ts';
import type { ProbeRequest, ProbeResult } from './support/turn-probe.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PORT = 3478;
const children: ChildProcess[] = [];
let topo: Topology;
let echoPort: number;
let dir: string;

/** Starts `cmd` in namespace `ns` and resolves with the first stdout line matching `ready`. */
async function startIn(ns: string, cmd: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.join(' ')}: no ${ready} in 20 s: ${out}`)), 20_000);
    const on = (d: Buffer) => {
      out += d;
      const m = ready.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (c) => reject(new Error(`${cmd.join(' ')} exited ${c}: ${out}`)));
  });
  return { child, match };
}

function probe(r: Omit<ProbeRequest, 'port' | 'count'> & { count?: number }): ProbeResult {
  const out = execFileSync('ip', ['netns', 'exec', topo.client.ns, process.execPath, 'test-netns/support/turn-probe.ts',
    JSON.stringify({ port: PORT, count: 20, ...r })], { cwd: ROOT, timeout: 60_000 }).toString();
  return JSON.parse(out.trim().split('\n').at(-1)!) as ProbeResult;
}

before(async () => {
  topo = createTopology();
  dir = mkdtempSync(join(tmpdir(), 'stunner-netns-'));
  const config = join(dir, 'stunnerd.yaml');
  writeFileSync(config, `version: v1
admin: {name: netns, loglevel: "all:WARN,stunnerd:INFO", healthcheck_endpoint: ""}
auth: {type: static, realm: netns.example.org, credentials: {username: user1, password: pass1}}
listeners: [{name: udp, protocol: TURN-UDP, address: "::", port: ${PORT}, public_address: 203.0.113.7, routes: [media]}]
clusters: [{name: media, type: STATIC, endpoints: [10.77.2.0/24, "fd77:2::/64"]}]
`);
  await startIn(topo.gateway, [process.execPath, 'src/cmd/stunnerd.ts', '-c', config], /stunnerd running/);
  const echo = await startIn(topo.media.ns, [process.execPath, 'test-netns/support/udp-echo.ts'], /ready (\d+)/);
  echoPort = Number(echo.match[1]);
  // The outside host answers too: a refused peer is refused by the gateway, not unreachable.
  await startIn(topo.outside.ns, [process.execPath, 'test-netns/support/udp-echo.ts', String(echoPort)], /ready/);
});

after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    }
  }
  topo?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('a client on another host relays to the media server through a relay address that is not the listener address', () => {
  const r = probe({ server: topo.client.gw4, peers: [{ family: 4, address: topo.media.v4, port: echoPort }], size: 160 });
  assert.deepEqual(r.relayed.map((a) => a.address), [topo.media.gw4]);
  assert.notEqual(r.relayed[0].address, topo.client.gw4);
  assert.deepEqual(r.mapped, { family: 4, address: topo.client.v4, port: r.mapped?.port });
  assert.deepEqual(r.peers, [{ echoed: 20, intact: 20 }]);
});

test('a peer outside every cluster, on a host the gateway reaches, is refused with 403', () => {
  const r = probe({
    server: topo.client.gw4, size: 160,
    peers: [{ family: 4, address: topo.outside.v4, port: echoPort }, { family: 4, address: topo.media.v4, port: echoPort }],
  });
  assert.deepEqual(r.peers, [{ code: 403, echoed: 0, intact: 0 }, { echoed: 20, intact: 20 }]);
});

test('MTU-sized datagrams: the largest ChannelData a 1500-byte link carries, both ways, v4 and v6', () => {
  // 1500 - 20 (IPv4) - 8 (UDP) - 4 (ChannelData header) = 1468; over IPv6, 40 bytes of header: 1448.
  const v4 = probe({ server: topo.client.gw4, peers: [{ family: 4, address: topo.media.v4, port: echoPort }], size: 1468 });
  assert.deepEqual(v4.peers, [{ echoed: 20, intact: 20 }]);
  const v6 = probe({ server: topo.client.gw6, family: 6, peers: [{ family: 6, address: topo.media.v6, port: echoPort }], size: 1448 });
  assert.deepEqual(v6.peers, [{ echoed: 20, intact: 20 }]);
});

test('IPv6: a v6 client gets a v6 relay address and relays to a v6 peer; a v6 peer outside the clusters gets 403', () => {
  const r = probe({
    server: topo.client.gw6, family: 6, size: 160,
    peers: [{ family: 6, address: topo.media.v6, port: echoPort }, { family: 6, address: topo.outside.v6, port: echoPort }],
  });
  assert.deepEqual(r.relayed.map((a) => a.address), [topo.media.gw6]);
  assert.equal(r.mapped?.address, topo.client.v6);
  assert.deepEqual(r.peers, [{ echoed: 20, intact: 20 }, { code: 403, echoed: 0, intact: 0 }]);
});

test('RFC 6156: a v4 client asks REQUESTED-ADDRESS-FAMILY IPv6 and relays to a v6 peer', () => {
  const r = probe({ server: topo.client.gw4, family: 6, peers: [{ family: 6, address: topo.media.v6, port: echoPort }], size: 160 });
  assert.deepEqual(r.relayed.map((a) => a.address), [topo.media.gw6]);
  assert.deepEqual(r.mapped, { family: 4, address: topo.client.v4, port: r.mapped?.port });
  assert.deepEqual(r.peers, [{ echoed: 20, intact: 20 }]);
});

test('RFC 6156 dual allocation: ADDITIONAL-ADDRESS-FAMILY gives a v4 and a v6 relay address, both relaying', () => {
  const r = probe({
    server: topo.client.gw4, additionalFamily: true, size: 160,
    peers: [{ family: 4, address: topo.media.v4, port: echoPort }, { family: 6, address: topo.media.v6, port: echoPort }],
  });
  assert.deepEqual(r.relayed.map((a) => a.address).sort(), [topo.media.gw4, topo.media.gw6].sort());
  assert.deepEqual(r.peers, [{ echoed: 20, intact: 20 }, { echoed: 20, intact: 20 }]);
});

test('a lossy link (5 % loss each way, 50 ms delay) between client and gateway: turnutils_uclient completes, losses counted', async () => {
  // tc netem is not available on every CI kernel (sch_netem); the link is emulated in the client's namespace.
  const link = await startIn(topo.client.ns, [process.execPath, 'test-netns/support/lossy-link.ts', topo.client.gw4, String(PORT), '0.05', '50'],
    /ready (\d+)/);
  const sessions = 4;
  const messages = 250;
  const out = execFileSync('ip', ['netns', 'exec', topo.client.ns, 'timeout', '120', 'turnutils_uclient', '-u', 'user1', '-w', 'pass1',
    '-p', link.match[1], '-m', String(sessions), '-n', String(messages), '-l', '160', '-z', '20', '-c',
    '-e', topo.media.v4, '-r', String(echoPort), '127.0.0.1'], { cwd: ROOT, timeout: 130_000 }).toString();
  const fin = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(out);
  assert.ok(fin !== null, out.slice(-500));
  const [sent, recv] = [Number(fin[1]), Number(fin[2])];
  const lossPct = (100 * (sent - recv)) / sent;
  console.log(`# lossy link: uclient sent ${sent}, echoed ${recv}, lost ${lossPct.toFixed(1)} %`);
  assert.equal(sent, sessions * messages);
  // Two crossings of the 5 % link: about 9.75 % of the echoes lost.
  assert.ok(lossPct > 3 && lossPct < 20, `loss ${lossPct} %`);
});
