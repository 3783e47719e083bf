// Fuzzing of every parser of the codec: random bytes and mutated valid messages through decodeStun (datagram
// and stream mode), every attribute codec directly and through get/getAll, both integrity verifiers,
// decodeChannelData and the StreamFramer. Asserts no throw, values in range, views inside the input, and
// no read outside the input, shown two ways:
//  - the same bytes decoded from an exactly-sized buffer and from a view inside a larger buffer filled with
//    sentinel bytes give identical results (a read past the view through .buffer would see the sentinel);
//  - every 16th case runs on a Proxy that throws on any index outside the view (an indexed read past the end
//    of a typed array returns undefined, which arithmetic turns into 0 silently).
// FUZZ_CASES (default 100000) and FUZZ_SEED (default random, printed) replay a run.
import { test } from 'node:test';
import { Prng, seedFrom } from './prng.ts';
import { CHANNEL_DATA_SEEDS, STUN_SEEDS } from './fuzz-corpus.ts';
import { mutate, randomInput } from './fuzz-mutate.ts';
import { exercise, guard } from './fuzz-check.ts';
import { checkFramer } from './fuzz-framer.ts';

const CASES = Number(process.env.FUZZ_CASES ?? 100_000);
const WRONG_KEY = Buffer.from('not the key');

function exactlySized(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

function inSentinel(bytes: Uint8Array, sentinel: number): Uint8Array {
  const big = new Uint8Array(bytes.length + 64).fill(sentinel);
  big.set(bytes, 32);
  return big.subarray(32, 32 + bytes.length);
}

test(`fuzz: ${CASES} random and mutated inputs through every parser`, (t) => {
  if (!Number.isInteger(CASES) || CASES < 0) throw new Error('FUZZ_CASES must be a non-negative integer');
  const seed = seedFrom('FUZZ_SEED');
  t.diagnostic(`FUZZ_SEED=${seed} FUZZ_CASES=${CASES}`);
  const rng = new Prng(seed);
  for (let i = 0; i < CASES; i++) {
    let input: Uint8Array;
    let keys: Uint8Array[] = [WRONG_KEY];
    const kind = rng.int(8);
    if (kind === 0) {
      input = randomInput(rng);
    } else if (kind === 1) {
      input = mutate(rng.pick(CHANNEL_DATA_SEEDS), WRONG_KEY, rng);
    } else {
      const s = rng.pick(STUN_SEEDS);
      input = mutate(s.bytes, s.key, rng);
      // The right key always; a wrong one now and then (each verification costs an HMAC).
      keys = i % 4 === 0 ? [s.key, WRONG_KEY] : [s.key];
    }
    try {
      const exact = exactlySized(input);
      const allText = i % 4 === 0;
      const digest = exercise(exact, keys, { allText, guarded: false, reference: true });
      const sentinel = rng.pick([0x00, 0xff, 0x21, rng.int(256)]);
      if (exercise(inSentinel(input, sentinel), keys, { allText, guarded: false, reference: false }) !== digest) {
        throw new Error(`results differ when the input sits among 0x${sentinel.toString(16)} bytes`);
      }
      if (i % 16 === 0 && exercise(guard(exact), keys, { allText, guarded: true, reference: false }) !== digest) throw new Error('results differ on a guarded view');
      checkFramer(input, rng);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new Error(`FUZZ_SEED=${seed} case ${i}: ${reason}\ninput: ${Buffer.from(input).toString('hex')}`, { cause: e });
    }
  }
});
