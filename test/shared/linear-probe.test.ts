// Backward-shift deletion (src/shared/linear-probe.ts) on a table small enough that probe runs collide and wrap
// around, against a Map as the model; and FlowOwners, the shared table built on it, under random set/delete/
// forgetWorker against the same kind of model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { removeSlot, type ProbeLayout } from '../../src/shared/linear-probe.ts';
import { FlowOwners } from '../../src/dataplane/flow-owners.ts';

/** A 16-slot table of (key, value) with key 0 = empty and the home slot chosen by the test. */
class TinyTable {
  static readonly SLOTS = 16;
  readonly words = new Int32Array(TinyTable.SLOTS * 2);
  readonly homes = new Map<number, number>();
  readonly layout: ProbeLayout = {
    mask: TinyTable.SLOTS - 1, slot0: 0, stride: 2,
    isEmpty: (at) => this.words[at] === 0,
    home: (at) => this.homes.get(this.words[at])!,
    move: (from, to) => {
      this.words[to] = this.words[from];
      this.words[to + 1] = this.words[from + 1];
    },
    clear: (at) => {
      this.words[at] = 0;
      this.words[at + 1] = 0;
    },
  };

  /** The word index of `key`'s slot, or -1, probing from its home as a reader does. */
  find(key: number): number {
    for (let i = this.homes.get(key)!, n = 0; n < TinyTable.SLOTS; i = (i + 1) % TinyTable.SLOTS, n++) {
      if (this.words[i * 2] === key) return i * 2;
      if (this.words[i * 2] === 0) return -1;
    }
    return -1;
  }

  put(key: number, home: number, value: number): void {
    this.homes.set(key, home);
    for (let i = home; ; i = (i + 1) % TinyTable.SLOTS) {
      if (this.words[i * 2] === 0 || this.words[i * 2] === key) {
        this.words[i * 2] = key;
        this.words[i * 2 + 1] = value;
        return;
      }
    }
  }
}

test('backward-shift deletion keeps every remaining key reachable, with collisions and wrap-around', () => {
  let seed = 12345;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 2000; round++) {
    const t = new TinyTable();
    const model = new Map<number, number>();
    let next = 1;
    for (let op = 0; op < 40; op++) {
      if (model.size < 12 && (model.size === 0 || random(3) > 0)) {
        const key = next++;
        // Homes crowd the last slots so runs wrap past the end.
        const home = random(2) === 0 ? 14 + random(2) : random(16);
        t.put(key, home, key * 10);
        model.set(key, key * 10);
      } else {
        const keys = [...model.keys()];
        const key = keys[random(keys.length)];
        const at = t.find(key);
        assert.ok(at >= 0);
        removeSlot(t.layout, at);
        model.delete(key);
      }
      for (const [key, value] of model) {
        const at = t.find(key);
        assert.ok(at >= 0, `round ${round}: key ${key} lost`);
        assert.equal(t.words[at + 1], value);
      }
      assert.equal(t.words.filter((_, i) => i % 2 === 0 && t.words[i] !== 0).length, model.size);
    }
  }
});

test('FlowOwners: set, delete and forgetWorker agree with a model over thousands of flows', () => {
  const owners = new FlowOwners(FlowOwners.createBuffer(), 0);
  const model = new Map<string, number>();
  let seed = 99;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const flow = (i: number) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 1024 + (i % 7) });
  for (let op = 0; op < 20_000; op++) {
    const i = random(3000);
    const { address, port } = flow(i);
    const key = `${address}:${port}`;
    const r = random(10);
    if (r < 6) {
      const worker = random(3);
      assert.equal(owners.set('udp', address, port, worker), true);
      model.set(key, worker);
    } else if (r < 9) {
      const worker = random(3);
      owners.delete('udp', address, port, worker);
      if (model.get(key) === worker) model.delete(key);
    } else if (op % 50 === 0) {
      const worker = random(3);
      owners.forgetWorker(worker);
      for (const [k, w] of model) if (w === worker) model.delete(k);
    }
  }
  assert.equal(owners.size, model.size);
  for (let i = 0; i < 3000; i++) {
    const { address, port } = flow(i);
    assert.equal(owners.owner('udp', address, port), model.get(`${address}:${port}`) ?? -1, `flow ${i}`);
  }
});
