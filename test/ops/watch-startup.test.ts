// Regression: with -w, a config changed while stunnerd was starting (after it read the file, before the watch
// existed) was never applied: the watch took the new content as its baseline, so neither an fs event nor the
// 5 s poll saw a difference, and the stale config ran until the next change. In Kubernetes the operator often
// rewrites the ConfigMap right as the pod starts. The process is frozen (SIGSTOP) after its listener started,
// the file is rewritten, and it is let go (SIGCONT): the new config must be running within a few seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stunnerd } from '../helpers/process.ts';
import { baseConfig, freePorts, tempDir, waitUntil, writeConfig, type RawConfig } from './support/daemon.ts';

test('-w: a config rewritten while stunnerd starts is applied', async () => {
  const dir = tempDir('startup');
  const file = join(dir, 'config.yaml');
  const ports = await freePorts();
  const named = (name: string): RawConfig => {
    const c = baseConfig(ports);
    return { ...c, admin: { ...c.admin, name } };
  };
  writeConfig(file, named('first'));
  const p = stunnerd(['-c', file, '-w']);
  try {
    // Logged by the gateway's start, before the daemon returns to set up the watch.
    await p.waitFor('listener started', 20_000);
    p.child.kill('SIGSTOP');
    writeConfig(file, named('second'));
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGCONT');
    const status = async () => (await (await fetch(`http://127.0.0.1:${ports.health}/status`)).json()) as
      { admin: { name: string }; configGeneration: number };
    await waitUntil('the rewritten config running', async () => (await status()).admin.name === 'second', 8000);
    assert.equal((await status()).configGeneration, 2);
    assert.match(p.output(), /config reloaded reason="file changed" generation=2/);
  } finally {
    p.child.kill('SIGCONT');
    await p.stop('SIGKILL');
  }
});
