// The OTLP collector black-holed (the TCP connection accepted, the request never read or answered) and then slow
// (answers after 2 s, past the 1 s export timeout an export interval of 1 s implies), while an allocation relays
// a message every 10 ms. The relay loses nothing; stunnerd's RSS stays bounded and so do the connections it
// leaves hanging on the collector; the failed pushes (one per second) are logged at a limited rate; a slow
// collector still receives the pushes; once it answers again, pushes resume and are answered at once.
// (Collector stopped and restarted: test-stack/collector-outage.test.ts, traces-outage.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEchoPeer } from '../test/helpers/udp-echo.ts';
import { baseConfig, freePorts, PASS, sleep, startDaemon, tempDir, USER, waitUntil, writeConfig } from '../test/ops/support/daemon.ts';
import { RelayProbe } from '../test/ops/support/relay-probe.ts';
import { PUSH_CONCURRENCY } from '../src/telemetry/push.ts';
import { FakeCollector } from './support/fake-collector.ts';

const BLACKHOLE_MS = 20_000;
const SLOW_MS = 8000;
const MiB = 1024 * 1024;

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test('OTLP collector black-holed, then slow: relay lossless, memory and connections bounded, failures logged at a limited rate, pushes resume',
  async () => {
    const file = join(tempDir('otlp-blackhole'), 'config.yaml');
    const ports = await freePorts();
    writeConfig(file, baseConfig(ports, 'all:WARN,stunnerd:INFO'));
    const collector = await FakeCollector.start();
    const peer = await startEchoPeer();
    const d = await startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics, readyTimeoutMs: 60_000,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_TRACES_EXPORTER: 'none' } });
    const held = await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
    const failureLines = () => d.output().split('\n').filter((l) => / WARN .*export (failed|timed out)/.test(l));
    try {
      await waitUntil('a push answered', () => collector.answered >= 2, 10_000, d);
      assert.deepEqual(failureLines(), []);
      const stream = held.stream(10);
      const rss0 = rss(d.pid);

      collector.mode = 'blackhole';
      const received0 = collector.received;
      let maxConnections = 0;
      for (let t = 0; t < BLACKHOLE_MS; t += 500) {
        await sleep(500);
        maxConnections = Math.max(maxConnections, collector.connections);
      }
      const blackholeLines = failureLines().length;
      assert.equal(collector.received, received0, 'nothing got through the black hole');
      // About 20 exports failed; one line per kind of failure per 10 s gets through.
      assert.ok(blackholeLines >= 1 && blackholeLines <= 6, failureLines().join('\n'));
      assert.ok(maxConnections <= 2 * PUSH_CONCURRENCY + 1, `${maxConnections} connections held on the black hole`);

      collector.mode = 'slow';
      collector.delayMs = 2000;
      const answered0 = collector.answered;
      await sleep(SLOW_MS);
      const slowAnswered = collector.answered - answered0;
      assert.ok(slowAnswered >= 2, `${slowAnswered} pushes answered by the slow collector`);
      const rss1 = rss(d.pid);

      collector.mode = 'answer';
      const answered1 = collector.answered;
      await waitUntil('pushes answered again', () => collector.answered >= answered1 + 3, 15_000, d);
      assert.ok(collector.lastBody.includes('stunner_listener_packets_total'), 'the push carries the traffic counters');
      // Answered at once again: no new failure line over the next 3 s.
      await sleep(1500);
      const settled = failureLines().length;
      await sleep(3000);
      assert.equal(failureLines().length, settled, failureLines().join('\n'));

      const { sent, echoed } = await stream.stop();
      const lines = failureLines().length;
      process.stdout.write(`# relay ${echoed}/${sent} echoed; RSS ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB; ` +
        `at most ${maxConnections} connections on the black hole; ${lines} failure lines in ${(BLACKHOLE_MS + SLOW_MS) / 1000} s ` +
        `(${blackholeLines} in the black hole); slow collector answered ${slowAnswered}\n`);
      assert.ok(sent > 1500, `sent ${sent}`);
      assert.equal(echoed, sent, 'no message lost');
      assert.ok(rss1 - rss0 < 40 * MiB, `RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB`);
      assert.ok(lines <= 10, failureLines().join('\n'));
      assert.ok(d.alive());
    } finally {
      held.close();
      await d.kill();
      await peer.close();
      await collector.close();
    }
  });
