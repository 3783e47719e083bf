// SIGKILL under load, then a restart with the same config: every relay port of the listener's range is held by
// an allocation streaming to an echo peer when the process is killed. The new process is ready again, its
// /status is clean (no allocation, generation 1, counters from zero), and the whole relay port range can be
// allocated again at once: nothing of the killed process is left holding a port. The range full again, one more
// Allocate is answered 508 and counted, and the allocations holding the range relay on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { TurnClient } from '../src/client/turn-client.ts';
import { freeUdpPort } from '../test/helpers/process.ts';
import { startEchoPeer } from '../test/helpers/udp-echo.ts';
import { allocateOutcome } from '../test/ops/support/allocate.ts';
import { baseConfig, freePorts, PASS, startDaemon, tempDir, USER, writeConfig } from '../test/ops/support/daemon.ts';
import { RelayProbe, type Stream } from '../test/ops/support/relay-probe.ts';

const RANGE = 8;

async function bindable(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The first of RANGE consecutive UDP ports free on 127.0.0.1 now. */
async function freeRange(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freeUdpPort();
    if (p + RANGE > 65536) continue;
    let ok = true;
    for (let q = p + 1; q < p + RANGE && ok; q++) ok = await bindable(q);
    if (ok) return p;
  }
  throw new Error(`no ${RANGE} consecutive free UDP ports`);
}

test('SIGKILL with the whole relay port range streaming; the restarted process is ready, clean, and gets every port back',
  async () => {
    const file = join(tempDir('sigkill'), 'config.yaml');
    const ports = await freePorts();
    const min = await freeRange();
    const c = baseConfig(ports, 'all:WARN,stunnerd:INFO');
    writeConfig(file, { ...c, listeners: [{ ...c.listeners[0], min_relay_port: min, max_relay_port: min + RANGE - 1 }] });
    const peer = await startEchoPeer();
    const start = () => startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics, readyTimeoutMs: 60_000 });
    const open = async (): Promise<RelayProbe[]> => {
      const probes: RelayProbe[] = [];
      for (let i = 0; i < RANGE; i++) {
        probes.push(await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS }));
      }
      return probes;
    };
    let d = await start();
    let probes: RelayProbe[] = [];
    try {
      probes = await open();
      const streams: Stream[] = probes.map((p) => p.stream(5));
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await d.status()).allocations, RANGE);
      d.signal('SIGKILL');
      const exit = await d.exit;
      assert.equal(exit.signal, 'SIGKILL');
      const results = await Promise.all(streams.map((s) => s.stop()));
      const sent = results.reduce((n, r) => n + r.sent, 0);
      const echoed = results.reduce((n, r) => n + r.echoed, 0);
      assert.ok(echoed > 0 && echoed < sent, `killed mid-stream: ${echoed}/${sent}`);
      for (const p of probes) p.close();

      const t0 = performance.now();
      d = await start();
      const readyMs = Math.round(performance.now() - t0);
      const status = await d.status();
      assert.equal(status.status, 'READY');
      assert.equal(status.allocations, 0);
      assert.equal(status.configGeneration, 1);
      assert.equal(await d.value('stunner_requests_total', { name: 'udp', method: 'allocate', code: '200' }) ?? 0, 0);

      // The whole range again (RANGE allocations in a range of RANGE ports: every port of it), each relaying;
      // one more is refused, so the range and nothing else is what bounds them.
      probes = await open();
      for (const p of probes) assert.equal(await p.echo(), true);
      assert.equal((await d.status()).allocations, RANGE);
      const extra = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: ports.turn, username: USER,
        password: PASS, rtoMs: 250 });
      try {
        assert.equal(await allocateOutcome(extra), 508);
      } finally {
        extra.close();
      }
      assert.equal(await d.value('stunner_requests_total', { name: 'udp', method: 'allocate', code: '508' }), 1);
      for (const p of probes) assert.equal(await p.echo(), true, 'the range full, its allocations relay on');
      process.stdout.write(`# killed with ${RANGE} allocations streaming (${echoed}/${sent} echoed before the kill); ` +
        `ready again in ${readyMs} ms, all ${RANGE} relay ports allocated again\n`);
    } finally {
      for (const p of probes) p.close();
      await d.kill();
      await peer.close();
    }
  });
