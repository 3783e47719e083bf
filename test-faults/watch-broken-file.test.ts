// The watched config file (-w) broken under a running stunnerd: replaced by garbage, truncated to nothing,
// deleted. The running config stays and keeps relaying the allocation held across all of it; garbage and an
// empty file are rejected reloads, counted (stunner_config_reloads_total{result="failure"}) and logged with the
// file and what is wrong; a deleted file is a failed reload too, counted and logged once however long it stays
// away (a ConfigMap update swaps a symlink and never passes through it); a good file back then applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEchoPeer } from '../test/helpers/udp-echo.ts';
import {
  baseConfig, freePorts, PASS, sleep, startDaemon, tempDir, USER, waitUntil, writeConfig, type Daemon,
} from '../test/ops/support/daemon.ts';
import { RelayProbe } from '../test/ops/support/relay-probe.ts';
import { valueOf } from '../test/ops/support/samples.ts';

async function reloads(d: Daemon): Promise<{ success: number; failure: number }> {
  const s = await d.samples();
  return {
    success: valueOf(s, 'stunner_config_reloads_total', { result: 'success' }) ?? -1,
    failure: valueOf(s, 'stunner_config_reloads_total', { result: 'failure' }) ?? -1,
  };
}

async function expectReloads(d: Daemon, want: { success: number; failure: number }): Promise<void> {
  await waitUntil(`reloads ${JSON.stringify(want)}`, async () => {
    const r = await reloads(d);
    return r.success === want.success && r.failure === want.failure;
  }, 15_000, d);
}

const rejections = (d: Daemon): string[] => d.output().split('\n').filter((l) => l.includes('config rejected'));

test('-w: the config file replaced by garbage, truncated, deleted: the running config stays, failures counted and logged',
  async () => {
    const file = join(tempDir('watch-broken'), 'stunnerd.yaml');
    const ports = await freePorts();
    const config = baseConfig(ports, 'all:WARN,stunnerd:INFO');
    writeConfig(file, config);
    const peer = await startEchoPeer();
    const d = await startDaemon({ args: ['-c', file, '-w'], healthPort: ports.health, metricsPort: ports.metrics, readyTimeoutMs: 60_000 });
    const held = await RelayProbe.open({ port: ports.turn, peerPort: peer.port, username: USER, password: PASS });
    const stream = held.stream(20);
    try {
      await expectReloads(d, { success: 0, failure: 0 });

      // 1. Garbage: binary noise that is not YAML.
      writeConfig(file, '\u0000\u0001{[: ::: \u00ff\n\t- ]]\n');
      await expectReloads(d, { success: 0, failure: 1 });
      assert.equal(rejections(d).length, 1);
      assert.ok(rejections(d)[0].includes(file), rejections(d)[0]);
      assert.match(rejections(d)[0], /invalid YAML|ERR_CONFIG/);

      // 2. YAML, but not a config: a field of the wrong type, named in the log.
      writeConfig(file, { ...config, listeners: [{ ...config.listeners[0], port: 'eighty' }] });
      await expectReloads(d, { success: 0, failure: 2 });
      assert.match(rejections(d)[1], /listeners\[0\]\.port/);

      // 3. Truncated to nothing.
      writeConfig(file, '');
      await expectReloads(d, { success: 0, failure: 3 });
      assert.match(rejections(d)[2], /empty config/);
      process.stdout.write(rejections(d).map((l) => `# ${l.slice(0, 200)}\n`).join(''));

      // 4. Deleted: one failure, one log line, however many polls (every 5 s) find it missing.
      rmSync(file);
      await expectReloads(d, { success: 0, failure: 4 });
      await sleep(6000);
      await expectReloads(d, { success: 0, failure: 4 });
      const missing = d.output().split('\n').filter((l) => l.includes('config file missing'));
      assert.equal(missing.length, 1, missing.join('\n'));
      assert.ok(missing[0].includes(file), missing[0]);
      process.stdout.write(`# ${missing[0].slice(0, 200)}\n`);
      assert.equal(await held.echo(), true);

      let status = await d.status();
      assert.equal(status.status, 'READY');
      assert.equal(status.configGeneration, 1);
      assert.equal(await d.value('stunner_config_last_reload_successful'), 0);

      // 5. A good file back: applied.
      writeConfig(file, { ...config, admin: { ...config.admin, name: 'restored' } });
      await d.waitGeneration(2);
      await expectReloads(d, { success: 1, failure: 4 });
      assert.match(d.output(), /config file back/);
      status = await d.status();
      assert.equal(status.name, 'restored');
      assert.equal(await d.value('stunner_config_last_reload_successful'), 1);

      const { sent, echoed } = await stream.stop();
      process.stdout.write(`# held allocation across the broken files: ${echoed}/${sent} echoed\n`);
      assert.ok(sent > 200, `sent ${sent}`);
      assert.equal(echoed, sent, 'no loss on the held allocation');
    } finally {
      await stream.stop();
      held.close();
      await d.kill();
      await peer.close();
    }
  });
