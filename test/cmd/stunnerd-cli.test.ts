// The stunnerd command line as a user meets it: help, version, bad configs, bad flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stunnerd } from '../helpers/process.ts';

async function exitOf(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = stunnerd(args);
  const code = await new Promise<number | null>((r) => p.child.on('exit', r));
  return { code, out: p.output() };
}

test('--help and --version', async () => {
  const help = await exitOf(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: stunnerd/);
  const v = await exitOf(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.out, /^stunnerd \d+\.\d+\.\d+ \(node v\d+/);
});

test('a bad config exits non-zero naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stunnerd-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `version: v1
auth: {type: static, credentials: {username: a, password: b}}
listeners: [{name: l, protocol: TURN-UDP, address: 127.0.0.1, port: 70000, routes: []}]
clusters: []
`);
  const r = await exitOf(['-c', file]);
  assert.equal(r.code, 1);
  assert.match(r.out, /listeners\[0\]\.port: must be 1\.\.65535, got 70000/);
});

test('unknown flags and a missing file are reported', async () => {
  const r = await exitOf(['--frobnicate']);
  assert.equal(r.code, 1);
  assert.match(r.out, /frobnicate/);
  const m = await exitOf(['-c', '/nonexistent/stunnerd.yaml']);
  assert.equal(m.code, 1);
  assert.match(m.out, /nonexistent\/stunnerd\.yaml/);
  const l = await exitOf(['-l', 'all:LOUD', 'turn://a:b@127.0.0.1:1']);
  assert.equal(l.code, 1);
  assert.match(l.out, /LOUD/);
});
