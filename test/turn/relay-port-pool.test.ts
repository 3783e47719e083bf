// RelayPortPool, the one port picker of UDP and TCP relays: any/even/pair picks inside the range, a full range,
// per-family state, and a range changed while relays hold ports of the old one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RelayPortPool } from '../../src/server/port-pool.ts';

function picks(pool: RelayPortPool, family: 4 | 6, kind: 'any' | 'even' | 'pair', n = 200): Set<number | undefined> {
  const out = new Set<number | undefined>();
  for (let i = 0; i < n; i++) out.add(pool.pick(family, kind));
  return out;
}

describe('RelayPortPool', () => {
  it('no range (0..0, or every unprivileged port): port 0, the kernel picks; never full', () => {
    for (const [min, max] of [[0, 0], [1, 65535], [1024, 65535]]) {
      const pool = new RelayPortPool(min, max);
      assert.equal(pool.ranged, false);
      assert.equal(pool.pick(4, 'pair'), 0);
      pool.take(4, 40000);
      assert.equal(pool.full(4), false);
    }
  });

  it('picks only free ports of the range', () => {
    const pool = new RelayPortPool(40000, 40009);
    pool.take(4, 40003);
    const got = picks(pool, 4, 'any');
    for (const p of got) assert.ok(p !== undefined && p >= 40000 && p <= 40009 && p !== 40003, `picked ${p}`);
    assert.ok(got.size > 1, 'a random start, not always the same port');
  });

  it('even: only even ports; pair: an even port whose next port is free and in the range', () => {
    const pool = new RelayPortPool(40001, 40006);
    assert.deepEqual([...picks(pool, 4, 'even')].sort(), [40002, 40004, 40006]);
    // 40006 has no 40007 in the range; 40003 taken rules out 40002.
    pool.take(4, 40003);
    assert.deepEqual([...picks(pool, 4, 'pair')], [40004]);
    pool.take(4, 40005);
    assert.deepEqual([...picks(pool, 4, 'pair')], [undefined]);
    assert.deepEqual([...picks(pool, 4, 'even')].sort(), [40002, 40004, 40006]);
  });

  it('a full range picks nothing; each family has its own ports', () => {
    const pool = new RelayPortPool(40000, 40001);
    pool.take(4, 40000);
    assert.equal(pool.pick(4), 40001);
    pool.take(4, 40001);
    assert.equal(pool.full(4), true);
    assert.equal(pool.pick(4), undefined);
    assert.equal(pool.full(6), false);
    assert.ok([40000, 40001].includes(pool.pick(6)!));
    pool.release(4, 40000);
    assert.equal(pool.full(4), false);
    assert.equal(pool.pick(4), 40000);
  });

  it('taking or releasing a port twice changes nothing', () => {
    const pool = new RelayPortPool(40000, 40001);
    pool.take(4, 40000);
    pool.take(4, 40000);
    pool.release(4, 40001);
    assert.equal(pool.pick(4), 40001);
    pool.release(4, 40000);
    pool.release(4, 40000);
    pool.take(4, 40001);
    assert.equal(pool.full(4), false);
    assert.equal(pool.pick(4), 40000);
  });

  it('setRange applies to picks from now on; ports of the old range released later keep the count right', () => {
    const pool = new RelayPortPool(40000, 40001);
    pool.take(4, 40000);
    pool.take(4, 40001);
    assert.equal(pool.full(4), true);
    pool.setRange(50000, 50000);
    assert.equal(pool.full(4), false, 'the old relays do not fill the new range');
    assert.equal(pool.pick(4), 50000);
    pool.take(4, 50000);
    assert.equal(pool.full(4), true);
    pool.release(4, 40000);
    assert.equal(pool.full(4), true, 'a port outside the range released does not free the range');
    assert.equal(pool.pick(4), undefined);
    pool.release(4, 50000);
    assert.equal(pool.pick(4), 50000);
    // Back to a range that overlaps ports still held: they count again.
    pool.setRange(40000, 40001);
    assert.equal(pool.pick(4), 40000);
    pool.take(4, 40000);
    assert.equal(pool.full(4), true);
    // From a range to none and back.
    pool.setRange(0, 0);
    assert.equal(pool.pick(4), 0);
    pool.take(4, 45000);
    pool.setRange(45000, 45000);
    assert.equal(pool.full(4), true);
  });
});
