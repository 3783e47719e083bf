// ConfigWatch (-w) when the file goes away: reported once after it has stayed missing, not for an editor's
// delete-then-write, and its return reported with whether the content changed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigWatch, fileDigest } from '../../src/daemon/config-watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ConfigWatch: a missing file reported once, its return with or without a change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-watch-'));
  const file = join(dir, 'stunnerd.yaml');
  writeFileSync(file, 'a: 1\n');
  const events: string[] = [];
  const watch = new ConfigWatch(file, () => events.push('change'), {
    debounceMs: 20, pollMs: 50, missingMs: 300,
    onMissing: () => events.push('missing'),
    onBack: (changed) => events.push(`back ${changed}`),
  });
  try {
    watch.prime(await fileDigest(file));
    await sleep(150);
    assert.deepEqual(events, []);

    // Deleted, then written within the grace period (an editor's save): a change, never "missing".
    rmSync(file);
    await sleep(100);
    writeFileSync(file, 'a: 2\n');
    await sleep(500);
    assert.deepEqual(events, ['change']);

    // Deleted for good: reported once, however many polls find it missing.
    rmSync(file);
    await sleep(1000);
    assert.deepEqual(events, ['change', 'missing']);

    // Back as it was: no change.
    writeFileSync(file, 'a: 2\n');
    await sleep(300);
    assert.deepEqual(events, ['change', 'missing', 'back false']);

    // Gone and back different: reported, then the change.
    rmSync(file);
    await sleep(600);
    writeFileSync(file, 'a: 3\n');
    await sleep(300);
    assert.deepEqual(events, ['change', 'missing', 'back false', 'missing', 'back true', 'change']);
  } finally {
    watch.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
