// A browser call across a live reload: headless Chromium sends video between two relay-only peers through
// stunnerd (watched with -w) while the file gains a listener and a cluster and the password changes. The call
// goes on without a lost packet; afterwards a new call with the old password fails and one with the new works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Chromium } from '../helpers/chromium.ts';
import { freeUdpPort } from '../helpers/process.ts';
import { HANG_UP, startCall, VIDEO, type Video } from '../helpers/browser-call.ts';
import { baseConfig, freePorts, PASS, startDaemon, tempDir, USER, waitUntil, writeConfig } from './support/daemon.ts';

test('a Chromium video call keeps flowing across a -w reload that adds a listener and changes the password',
  { timeout: 120_000 }, async () => {
    const dir = tempDir('chromium-reload');
    const file = join(dir, 'config.yaml');
    const ports = await freePorts();
    const secondPort = await freeUdpPort();
    const config = baseConfig(ports, 'all:WARN,stunnerd:INFO');
    writeConfig(file, config);
    const d = await startDaemon({ args: ['-c', file, '-w'], healthPort: ports.health, metricsPort: ports.metrics });
    const browser = await Chromium.launch();
    try {
      const page = await browser.newPage();
      await page.evaluate(startCall(`turn:127.0.0.1:${ports.turn}?transport=udp`, USER, PASS));
      let video: Video = await page.evaluate<Video>(VIDEO);
      await waitUntil('30 frames decoded', async () => (video = await page.evaluate<Video>(VIDEO)).frames >= 30, 20_000, d);
      const beforeReload = video;
      const allocations = await d.value('stunner_allocations_active', { name: 'udp' });
      assert.ok((allocations ?? 0) >= 2, `allocations before the reload: ${allocations}`);

      const NEW_PASS = 'rotated-Pa55word-91e2';
      writeConfig(file, {
        ...config,
        auth: { ...config.auth, credentials: { username: USER, password: NEW_PASS } },
        listeners: [
          { ...config.listeners[0], routes: ['loopback', 'more'] },
          { name: 'udp2', protocol: 'TURN-UDP', address: '127.0.0.1', port: secondPort, routes: ['more'] },
        ],
        clusters: [...config.clusters, { name: 'more', type: 'STATIC', endpoints: ['10.0.0.0/8'] }],
      });
      await d.waitGeneration(2);
      assert.equal(await d.value('stunner_config_reloads_total', { result: 'success' }), 1);

      // Three more seconds of video after the reload, on the same allocations.
      await new Promise((r) => setTimeout(r, 3000));
      const after = await page.evaluate<Video>(VIDEO);
      assert.equal(after.ice, 'connected');
      assert.ok(after.frames >= beforeReload.frames + 45, `frames ${beforeReload.frames} -> ${after.frames}`);
      assert.equal(after.lost, 0);
      assert.equal(await d.value('stunner_allocations_active', { name: 'udp' }), allocations, 'an allocation was lost');
      await page.evaluate(HANG_UP);

      // New calls authenticate with the new password only.
      const attempt = async (password: string): Promise<Video> => {
        await page.evaluate(startCall(`turn:127.0.0.1:${ports.turn}?transport=udp`, USER, password));
        await new Promise((r) => setTimeout(r, 4000));
        const v = await page.evaluate<Video>(VIDEO);
        await page.evaluate(HANG_UP);
        return v;
      };
      const old = await attempt(PASS);
      assert.equal(old.frames, 0, 'a call with the old password got video');
      const fresh = await attempt(NEW_PASS);
      assert.equal(fresh.ice, 'connected');
      assert.ok(fresh.frames > 0);
      await page.close();
    } finally {
      await browser.close();
      await d.kill();
    }
  });
