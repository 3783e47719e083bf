// The -w watch against the ways a config file really changes under a running stunnerd: an atomic save
// (temp file renamed over it) and the symlink swap kubelet does for a mounted ConfigMap
// (`stunnerd.yaml -> ..data/stunnerd.yaml`, `..data -> ..<timestamp>/`, `..data` replaced by a rename).
// Every change is picked up, several in a row; identical content and unrelated files are not reloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  baseConfig, freePorts, replaceConfig, sleep, startDaemon, tempDir, writeConfig, type Daemon, type Ports, type RawConfig,
} from './support/daemon.ts';

const named = (ports: Ports, name: string): RawConfig => {
  const c = baseConfig(ports, 'all:WARN,stunnerd:INFO');
  return { ...c, admin: { ...c.admin, name } };
};

async function expectReloads(d: Daemon, success: number): Promise<void> {
  assert.equal(await d.value('stunner_config_reloads_total', { result: 'success' }), success);
  assert.equal(await d.value('stunner_config_reloads_total', { result: 'failure' }), 0);
}

test('a config replaced by rename, three times in a row, is reloaded each time', async () => {
  const dir = tempDir('rename');
  const file = join(dir, 'stunnerd.yaml');
  const ports = await freePorts();
  writeConfig(file, named(ports, 'v1'));
  const d = await startDaemon({ args: ['-c', file, '-w'], healthPort: ports.health, metricsPort: ports.metrics });
  try {
    const latencies: number[] = [];
    for (let v = 2; v <= 4; v++) {
      replaceConfig(file, named(ports, `v${v}`));
      latencies.push(await d.waitGeneration(v));
      assert.equal((await d.status()).name, `v${v}`);
    }
    await expectReloads(d, 3);

    // Same bytes again, and a file of its own next to it: nothing to reload.
    replaceConfig(file, named(ports, 'v4'));
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    await sleep(800);
    assert.equal((await d.status()).configGeneration, 4);
    await expectReloads(d, 3);
    process.stdout.write(`# rename reload latencies (ms): ${latencies.join(' ')}\n`);
  } finally {
    await d.kill();
  }
});

/** A directory laid out as kubelet mounts a ConfigMap volume. */
class ConfigMapVolume {
  readonly dir: string;
  #version = 0;

  constructor(dir: string, content: string) {
    this.dir = dir;
    const first = this.#writeVersion(content);
    symlinkSync(first, join(dir, '..data'));
    symlinkSync(join('..data', 'stunnerd.yaml'), join(dir, 'stunnerd.yaml'));
  }

  get file(): string {
    return join(this.dir, 'stunnerd.yaml');
  }

  #writeVersion(content: string): string {
    const name = `..2026_11_26_00_00_0${++this.#version}.00000000${this.#version}`;
    mkdirSync(join(this.dir, name));
    writeFileSync(join(this.dir, name, 'stunnerd.yaml'), content);
    return name;
  }

  /** kubelet's AtomicWriter: new timestamped dir, `..data_tmp` link to it, renamed over `..data`, old dir removed. */
  swap(content: string): void {
    const old = `..2026_11_26_00_00_0${this.#version}.00000000${this.#version}`;
    const next = this.#writeVersion(content);
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    rmSync(join(this.dir, old), { recursive: true });
  }
}

test('a Kubernetes ConfigMap symlink swap of ..data is picked up, swap after swap', async () => {
  const ports = await freePorts();
  const volume = new ConfigMapVolume(tempDir('configmap'), stringify(named(ports, 'cm-1')));
  const d = await startDaemon({ args: ['-c', volume.file, '-w'], healthPort: ports.health, metricsPort: ports.metrics });
  try {
    assert.equal((await d.status()).name, 'cm-1');
    const latencies: number[] = [];
    for (let v = 2; v <= 4; v++) {
      volume.swap(stringify(named(ports, `cm-${v}`)));
      latencies.push(await d.waitGeneration(v));
      assert.equal((await d.status()).name, `cm-${v}`);
    }
    await expectReloads(d, 3);

    // Two swaps back to back: whatever is coalesced, the last content is what runs.
    volume.swap(stringify(named(ports, 'cm-5')));
    volume.swap(stringify(named(ports, 'cm-6')));
    await d.waitGeneration(5);
    await sleep(800);
    const s = await d.status();
    assert.equal(s.name, 'cm-6');
    assert.ok(s.configGeneration === 5 || s.configGeneration === 6, `generation ${s.configGeneration}`);
    assert.equal(await d.value('stunner_config_reloads_total', { result: 'failure' }), 0);
    process.stdout.write(`# configmap swap reload latencies (ms): ${latencies.join(' ')}\n`);
  } finally {
    await d.kill();
  }
});
