// A browser call through a graceful shutdown, as Kubernetes drives it: stunnerd gets SIGTERM while headless
// Chromium sends video through it. /ready turns 503, the call goes on without a lost packet, a new call gets no
// relay (486), and when the call hangs up (Chromium deletes its allocations) the process exits 0 by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Chromium } from '../helpers/chromium.ts';
import { HANG_UP, startCall, VIDEO, type Video } from '../helpers/browser-call.ts';
import { baseConfig, freePorts, PASS, startDaemon, tempDir, USER, waitUntil, writeConfig } from './support/daemon.ts';

test('a Chromium video call rides out a SIGTERM drain; the process exits 0 once the call hangs up',
  { timeout: 120_000 }, async () => {
    const ports = await freePorts();
    const file = join(tempDir('chromium-drain'), 'config.yaml');
    writeConfig(file, baseConfig(ports, 'all:WARN,stunnerd:INFO'));
    const d = await startDaemon({ args: ['-c', file], healthPort: ports.health, metricsPort: ports.metrics });
    const browser = await Chromium.launch();
    try {
      const call = await browser.newPage();
      await call.evaluate(startCall(`turn:127.0.0.1:${ports.turn}?transport=udp`, USER, PASS));
      let video: Video = await call.evaluate<Video>(VIDEO);
      await waitUntil('30 frames decoded', async () => (video = await call.evaluate<Video>(VIDEO)).frames >= 30, 20_000, d);
      const atSigterm = video;

      d.signal('SIGTERM');
      await waitUntil('/ready 503', async () => (await fetch(`${d.healthUrl}/ready`)).status === 503, 10_000, d);
      await new Promise((r) => setTimeout(r, 3000));
      const during = await call.evaluate<Video>(VIDEO);
      assert.equal(during.ice, 'connected');
      assert.ok(during.frames >= atSigterm.frames + 45, `frames ${atSigterm.frames} -> ${during.frames}`);
      assert.equal(during.lost, 0);

      // A new call while draining: its Allocates are refused (486), so it gets no relay and no video.
      const late = await browser.newPage();
      await late.evaluate(startCall(`turn:127.0.0.1:${ports.turn}?transport=udp`, USER, PASS));
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await late.evaluate<Video>(VIDEO)).frames, 0);
      await late.evaluate(HANG_UP);
      assert.ok((await d.value('stunner_requests_total', { name: 'udp', method: 'allocate', code: '486' }) ?? 0) >= 2);
      assert.equal(d.alive(), true, 'the drain waits for the call');

      // Hanging up deletes the call's allocations (Refresh with LIFETIME 0): the drain is over.
      await call.evaluate(HANG_UP);
      const exit = await Promise.race([d.exit, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
      assert.ok(exit !== undefined, `stunnerd still draining 15 s after the hang-up:\n${d.output().slice(-2000)}`);
      assert.deepEqual([exit.code, exit.signal], [0, null]);
      assert.match(d.output(), /drained remaining=0/);
    } finally {
      await browser.close();
      await d.kill();
    }
  });
