// The keys of the shared tables (user ids, client IPs) as a 64-bit hash in two 32-bit halves. The hash is
// keyed by a seed each table draws at random, so nobody can choose keys that collide, or that crowd one probe
// window of a table and make it refuse a victim's key.
import { randomBytes } from 'node:crypto';

/** Writes the hash of `s` under `seed` to out[0] (high) and out[1] (low); never both 0 (0, 0 marks empty). */
export function hashKey(s: string, seed: number, out: Int32Array): void {
  let high = seed ^ 0x811c9dc5;
  let low = Math.imul(seed, 0x9e3779b1) ^ 0x27d4eb2f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    high = Math.imul(high ^ c, 0x01000193);
    low = Math.imul(low ^ c, 0x5bd1e995);
    low ^= low >>> 15;
  }
  high = mix(high ^ s.length);
  low = mix(low ^ high);
  out[0] = high;
  out[1] = high === 0 && low === 0 ? 1 : low;
}

/** A random seed for a new table. */
export function newSeed(): number {
  return randomBytes(4).readInt32LE(0);
}

/** MurmurHash3's finaliser: every input bit reaches every output bit. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
