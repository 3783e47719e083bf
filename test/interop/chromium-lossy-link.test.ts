// Chromium's call over TURN-UDP when the link between the browser and the gateway is lossy and slow: 5 % of the
// datagrams dropped each way and the rest delayed 50 ms, by test-netns/support/lossy-link.ts (a user-space
// forwarder: this kernel has no sch_netem). Both relay-only peers reach stunnerd through it, so every RTP packet
// crosses it twice. ICE and the TURN transactions retransmit through the loss, the call connects, and video keeps
// being decoded; the receiver reports the losses, as a user's call over a bad network would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HANG_UP, startCall, VIDEO, type Video } from '../helpers/browser-call.ts';
import { Chromium } from '../helpers/chromium.ts';
import { run, type Proc } from '../helpers/process.ts';
import { PASS, USER, baseConfig, freePorts, startDaemon, tempDir, writeConfig, type Daemon } from '../ops/support/daemon.ts';

const LOSS = 0.05;
const DELAY_MS = 50;

let gw: Daemon;
let link: Proc;
let linkPort = 0;
let browser: Chromium;

before(async () => {
  const ports = await freePorts();
  const file = join(tempDir('chromium-lossy'), 'config.yaml');
  writeConfig(file, baseConfig(ports, 'all:WARN,stunnerd:INFO'));
  gw = await startDaemon({ args: ['-c', file, '-u', '2'], healthPort: ports.health, metricsPort: ports.metrics });
  link = run(process.execPath, ['test-netns/support/lossy-link.ts', '127.0.0.1', String(ports.turn), String(LOSS), String(DELAY_MS)]);
  await link.waitFor(/ready \d+/);
  linkPort = Number(/ready (\d+)/.exec(link.output())![1]);
  browser = await Chromium.launch();
});

after(async () => {
  await browser?.close();
  await link?.stop('SIGTERM');
  await gw?.kill();
});

test(`Chromium WebRTC over TURN-UDP through a lossy link (${LOSS * 100} % each way, ${DELAY_MS} ms): the call connects and video flows`, async () => {
  const page = await browser.newPage();
  try {
    await page.evaluate(startCall(`turn:127.0.0.1:${linkPort}?transport=udp`, USER, PASS));
    // ICE over the lossy link: the checks retransmit; a call that connects at all does within ~10 s.
    const deadline = Date.now() + 20_000;
    let r = await page.evaluate<Video>(VIDEO);
    while (r.ice !== 'connected' && r.ice !== 'completed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await page.evaluate<Video>(VIDEO);
    }
    assert.ok(r.ice === 'connected' || r.ice === 'completed', `ICE ${r.ice}`);
    const first = r;
    await new Promise((resolve) => setTimeout(resolve, 6000));
    r = await page.evaluate<Video>(VIDEO);
    await page.evaluate(HANG_UP);
    const frames = r.frames - first.frames;
    process.stdout.write(`# lossy link: ICE ${r.ice}; in 6 s ${frames} frames decoded, ${r.packets - first.packets} RTP ` +
      `packets received, ${r.lost} lost in all (${r.packets} received)\n`);
    assert.ok(r.ice === 'connected' || r.ice === 'completed', `ICE ${r.ice}`);
    // 30 frames/s painted; with losses recovered (NACK) or concealed, most are decoded.
    assert.ok(frames >= 60, `frames decoded in 6 s: ${frames}`);
    // The link was lossy, and the receiver saw it.
    assert.ok(r.lost > 0, 'no RTP packet reported lost: was the link lossy?');
    assert.ok((await gw.value('stunner_cluster_packets_total', { name: 'udp', cluster: 'loopback', direction: 'tx' }) ?? 0) > r.packets);
  } finally {
    await page.close();
  }
});
