// The command line parses as spf13/pflag parses upstream stunnerd's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, type FlagSpec } from '../../src/cmd/pflag.ts';

const SPECS: FlagSpec[] = [
  { name: 'config', short: 'c', type: 'string' },
  { name: 'watch', short: 'w', type: 'bool' },
  { name: 'dry-run', short: 'd', type: 'bool' },
  { name: 'udp-thread-num', short: 'u', type: 'int' },
  { name: 'as-group', type: 'stringArray' },
];

const parse = (...argv: string[]) => {
  const r = parseFlags(argv, SPECS);
  return { ...Object.fromEntries(r.values), _: r.positionals };
};

describe('parseFlags', () => {
  it('long and short forms with values', () => {
    const want = { config: 'x', _: [] };
    for (const argv of [['--config', 'x'], ['--config=x'], ['-c', 'x'], ['-cx'], ['-c=x']]) assert.deepEqual(parse(...argv), want);
  });
  it("the operator's argv: -w --udp-thread-num=16", () => {
    assert.deepEqual(parse('-w', '--udp-thread-num=16'), { watch: true, 'udp-thread-num': 16, _: [] });
    assert.deepEqual(parse('-u16'), { 'udp-thread-num': 16, _: [] });
    assert.deepEqual(parse('-u', '0x10'), { 'udp-thread-num': 16, _: [] });
  });
  it('booleans: --flag, --flag=false, strconv.ParseBool spellings, grouped shorthands', () => {
    assert.deepEqual(parse('--watch=false', '-d=T'), { watch: false, 'dry-run': true, _: [] });
    assert.deepEqual(parse('-wd'), { watch: true, 'dry-run': true, _: [] });
    assert.deepEqual(parse('-wdc', 'f'), { watch: true, 'dry-run': true, config: 'f', _: [] });
    assert.throws(() => parse('--watch=yes'), /invalid argument "yes"/);
  });
  it('positionals anywhere, -- ends the flags, repeated string arrays collect', () => {
    assert.deepEqual(parse('turn://a:b@h:1', '-w', '--', '-c'), { watch: true, _: ['turn://a:b@h:1', '-c'] });
    assert.deepEqual(parse('--as-group', 'a', '--as-group=b'), { 'as-group': ['a', 'b'], _: [] });
  });
  it('errors name the flag', () => {
    assert.throws(() => parse('--frobnicate'), /unknown flag: --frobnicate/);
    assert.throws(() => parse('-x'), /unknown shorthand flag: 'x' in -x/);
    assert.throws(() => parse('--config'), /flag needs an argument: --config/);
    assert.throws(() => parse('-u', 'many'), /invalid argument "many" for "-u"/);
  });
});
