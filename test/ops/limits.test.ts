// The limits an operator sets, enforced by the running process and counted where dashboards look:
// admin.user_quota and admin.limits.max_allocations answer 486 (stunner_requests_total{code="486"},
// stunner_dropped_packets_total{reason="quota"}), a relay port range of two ports answers the third
// Allocate 508, and admin.limits.unauthenticated_rate bounds the 401s one source gets (the rest dropped
// as reason="rate_limited"). Each client has its own loopback source address, so the per-IP 401 budget
// of one test does not starve another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { TurnClient } from '../../src/client/turn-client.ts';
import { Method, MessageClass, TRANSPORT_UDP } from '../../src/stun/constants.ts';
import { RequestedTransport } from '../../src/stun/attributes/numeric.ts';
import { ErrorCode } from '../../src/stun/attributes/errors.ts';
import { decodeStun } from '../../src/stun/message.ts';
import { StunWriter } from '../../src/stun/writer.ts';
import { freeUdpPort } from '../helpers/process.ts';
import { baseConfig, freePorts, sleep, startDaemon, tempDir, writeConfig, type Daemon } from './support/daemon.ts';
import { valueOf } from './support/samples.ts';
import { allocateOutcome } from './support/allocate.ts';

const SECRET = 'limits-shared-secret';
const RATE = 5;

/** Two consecutive UDP ports free on 127.0.0.1 now. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freeUdpPort();
    if (p < 65535 && await bindable(p + 1)) return p;
  }
  throw new Error('no two consecutive free UDP ports');
}

async function bindable(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

let nextSource = 10;

/** A TURN REST client of user `user` from its own loopback address. */
async function restClient(port: number, user: string): Promise<TurnClient> {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:${user}`;
  return TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, localAddress: `127.0.0.${nextSource++}`,
    username, password: createHmac('sha1', SECRET).update(username).digest('base64'), rtoMs: 250 });
}

test('user_quota, max_allocations, a two-port relay range and the 401 budget, counted in metrics', async () => {
  const ports = await freePorts();
  const narrowPort = await freeUdpPort();
  const relayMin = await freePortPair();
  const file = join(tempDir('limits'), 'config.yaml');
  const c = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  writeConfig(file, {
    ...c,
    admin: { ...c.admin, user_quota: 2, limits: { max_allocations: 4, unauthenticated_rate: RATE } },
    auth: { type: 'ephemeral', realm: c.auth.realm, credentials: { secret: SECRET } },
    listeners: [...c.listeners, { name: 'narrow', protocol: 'TURN-UDP', address: '127.0.0.1', port: narrowPort,
      min_relay_port: relayMin, max_relay_port: relayMin + 1, routes: ['loopback'] }],
  });
  const d: Daemon = await startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics });
  const clients: TurnClient[] = [];
  const client = async (port: number, user: string) => {
    const cl = await restClient(port, user);
    clients.push(cl);
    return cl;
  };
  const counted = async (name: string) => {
    const s = await d.samples();
    return {
      c486: valueOf(s, 'stunner_requests_total', { name, method: 'allocate', code: '486' }) ?? 0,
      c508: valueOf(s, 'stunner_requests_total', { name, method: 'allocate', code: '508' }) ?? 0,
      quota: valueOf(s, 'stunner_dropped_packets_total', { name, reason: 'quota' }),
    };
  };
  try {
    // user_quota 2: alice's third allocation is refused.
    const alice = [await client(ports.turn, 'alice'), await client(ports.turn, 'alice'), await client(ports.turn, 'alice')];
    assert.deepEqual([await allocateOutcome(alice[0]), await allocateOutcome(alice[1]), await allocateOutcome(alice[2])], [200, 200, 486]);
    assert.deepEqual(await counted('udp'), { c486: 1, c508: 0, quota: 1 });

    // max_allocations 4: bob takes the last two, carol none; one of alice's ends and carol gets it.
    const bob = [await client(ports.turn, 'bob'), await client(ports.turn, 'bob')];
    assert.deepEqual([await allocateOutcome(bob[0]), await allocateOutcome(bob[1])], [200, 200]);
    const carol = await client(ports.turn, 'carol');
    assert.equal(await allocateOutcome(carol), 486);
    assert.deepEqual(await counted('udp'), { c486: 2, c508: 0, quota: 2 });
    assert.equal((await d.status()).allocations, 4);
    await alice[0].refresh(0);
    assert.equal(await allocateOutcome(carol), 200);

    // Everything released, then the two-port listener: two allocations in its range, the third 508.
    for (const cl of [alice[1], bob[0], bob[1], carol]) await cl.refresh(0);
    assert.equal((await d.status()).allocations, 0);
    const relayed: number[] = [];
    for (const user of ['dave', 'erin']) {
      const cl = await client(narrowPort, user);
      relayed.push((await cl.allocate()).relayed[0].port);
    }
    assert.deepEqual(relayed.sort((a, b) => a - b), [relayMin, relayMin + 1]);
    assert.equal(await allocateOutcome(await client(narrowPort, 'frank')), 508);
    assert.deepEqual(await counted('narrow'), { c486: 0, c508: 1, quota: 0 });
  } finally {
    for (const cl of clients) cl.close();
  }

  try {
    // The 401 budget: a burst of unauthenticated Allocates from one source. The bucket holds 2 x rate and
    // refills at rate per second; every request beyond it is dropped without an answer, and counted.
    const before = await d.samples();
    const burst = createSocket('udp4');
    await new Promise<void>((r) => burst.bind(0, '127.0.0.9', r));
    let answers = 0;
    const codes = new Set<number>();
    burst.on('message', (m) => {
      const r = decodeStun(m);
      if (r.ok) {
        answers++;
        codes.add(r.message.get(ErrorCode)?.code ?? 0);
      }
    });
    // 200 requests over about 1.5 s: the first ones drain the bucket, the refill lets a few more through.
    const n = 200;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const req = new StunWriter(Method.allocate, MessageClass.request).add(RequestedTransport, TRANSPORT_UDP).finish();
      await new Promise<void>((r) => burst.send(req, ports.turn, '127.0.0.1', () => r()));
      if (i % 10 === 9) await sleep(75);
    }
    const sendSeconds = (performance.now() - t0) / 1000;
    await sleep(500);
    burst.close();
    const after = await d.samples();
    const delta = (name: string, labels: Record<string, string>) =>
      (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    const received = delta('stunner_listener_packets_total', { name: 'udp', direction: 'rx' });
    // The bucket refills on the daemon's clock: allow it half a second more than the sender's, for a busy machine.
    const limit = 2 * RATE + RATE * (sendSeconds + 0.5);
    assert.deepEqual([...codes], [401]);
    assert.ok(answers > 2 * RATE && answers <= limit, `${answers} answers in ${sendSeconds.toFixed(2)} s (limit ${limit.toFixed(1)})`);
    assert.equal(delta('stunner_requests_total', { name: 'udp', method: 'allocate', code: '401' }), answers);
    assert.ok(received > n * 0.9, `${received} of ${n} requests reached the listener`);
    assert.equal(delta('stunner_dropped_packets_total', { name: 'udp', reason: 'rate_limited' }), received - answers);
    process.stdout.write(`# 401 budget: ${answers} answers, ${received - answers} dropped of ${received} in ${sendSeconds.toFixed(2)} s\n`);
  } finally {
    await d.kill();
  }
});
