// The per-IP 401 budget (admin.limits.unauthenticated_rate) against Allocates with bad credentials from one
// address and many source ports, the process running two UDP workers: the kernel spreads the ports over both
// workers (reuseport), and the budget must still be one per address, not one per worker or per port. Meanwhile a
// legitimate user on another address allocates. (test/ops/limits.test.ts covers one source port, one worker.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { TurnClient } from '../../src/client/turn-client.ts';
import { Method, MessageClass, TRANSPORT_UDP } from '../../src/stun/constants.ts';
import { RequestedTransport } from '../../src/stun/attributes/numeric.ts';
import { ErrorCode } from '../../src/stun/attributes/errors.ts';
import { Nonce, Realm, Username } from '../../src/stun/attributes/text.ts';
import { longTermKey } from '../../src/stun/integrity.ts';
import { decodeStun } from '../../src/stun/message.ts';
import { StunWriter } from '../../src/stun/writer.ts';
import { PASS, USER, baseConfig, freePorts, sleep, startDaemon, tempDir, writeConfig } from './support/daemon.ts';
import { valueOf } from './support/samples.ts';

const RATE = 20;
const PORTS = 100;
const ROUNDS = 20;

test(`-u 2: Allocates with bad credentials from ${PORTS} ports of one address get one 401 budget; another address allocates`, async () => {
  const ports = await freePorts();
  const file = join(tempDir('hostile-401'), 'config.yaml');
  const c = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  writeConfig(file, { ...c, admin: { ...c.admin, limits: { unauthenticated_rate: RATE } } });
  const d = await startDaemon({ args: ['-c', file, '--udp-thread-num', '2'], healthPort: ports.health, metricsPort: ports.metrics });
  const sockets: Socket[] = [];
  let legit: TurnClient | undefined;
  try {
    const before = await d.samples();
    let answers = 0;
    const codes = new Set<number>();
    const answeredPorts = new Set<number>();
    for (let i = 0; i < PORTS; i++) {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.20', r));
      s.on('message', (m) => {
        const r = decodeStun(m);
        if (!r.ok) return;
        answers++;
        answeredPorts.add(s.address().port);
        codes.add(r.message.get(ErrorCode)?.code ?? 0);
      });
      sockets.push(s);
    }
    // The challenge (a nonce is good for the address, any port), then requests that name the real user, the realm
    // and that nonce, signed with a wrong password: ROUNDS x PORTS of them over about 2 s.
    const challenged = new Promise<{ realm: string; nonce: string }>((resolve) => sockets[0].once('message', (m) => {
      const r = decodeStun(m);
      if (r.ok) resolve({ realm: r.message.get(Realm)!, nonce: r.message.get(Nonce)! });
    }));
    sockets[0].send(new StunWriter(Method.allocate, MessageClass.request).add(RequestedTransport, TRANSPORT_UDP).finish(),
      ports.turn, '127.0.0.1');
    const { realm, nonce } = await challenged;
    const wrongKey = longTermKey(USER, realm, 'not-the-password');
    const request = () => {
      const id = Buffer.alloc(12);
      randomFillSync(id);
      return new StunWriter(Method.allocate, MessageClass.request, id).add(RequestedTransport, TRANSPORT_UDP)
        .add(Username, USER).add(Realm, realm).add(Nonce, nonce).addMessageIntegrity(wrongKey).finish();
    };
    const t0 = performance.now();
    let legitCode = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.send(request(), ports.turn, '127.0.0.1', () => r()))));
      if (round === ROUNDS / 2) {
        // Mid-flood, a legitimate user from another address: its own first 401 (the challenge), then 200.
        legit = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: ports.turn, localAddress: '127.0.0.21',
          username: USER, password: PASS, rtoMs: 250 });
        legitCode = (await legit.allocate()).relayed.length === 1 ? 200 : 0;
      }
      await sleep(100);
    }
    const sendSeconds = (performance.now() - t0) / 1000;
    await sleep(500);
    const after = await d.samples();
    const delta = (name: string, labels: Record<string, string>) =>
      (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    const sent = ROUNDS * PORTS + 1;
    // The bucket holds 2 x rate and refills at rate per second, on the daemon's clock: half a second of slack.
    const limit = 2 * RATE + RATE * (sendSeconds + 0.5);
    process.stdout.write(`# ${sent} bad Allocates from ${PORTS} ports in ${sendSeconds.toFixed(2)} s: ${answers} answered ` +
      `(to ${answeredPorts.size} ports), budget ${limit.toFixed(0)}\n`);
    assert.equal(legitCode, 200);
    assert.deepEqual([...codes], [401]);
    assert.ok(answers >= 2 * RATE && answers <= limit, `${answers} answers (limit ${limit.toFixed(1)})`);
    // The flood's 401s and the legitimate client's challenge.
    assert.equal(delta('stunner_requests_total', { name: 'udp', method: 'allocate', code: '401' }), answers + 1);
    const received = delta('stunner_listener_packets_total', { name: 'udp', direction: 'rx' });
    assert.ok(received >= sent, `${received} datagrams received, ${sent} sent`);
    assert.ok(delta('stunner_dropped_packets_total', { name: 'udp', reason: 'rate_limited' }) >= sent - answers - 5);
  } finally {
    legit?.close();
    for (const s of sockets) s.close();
    await d.kill();
  }
});
