// ICE attributes (RFC 8445 §16.1) a STUN server meets in Binding requests: PRIORITY (32 bits),
// USE-CANDIDATE (empty), ICE-CONTROLLED and ICE-CONTROLLING (64-bit tie-breakers).
import { Attr } from '../constants.ts';
import type { AttributeCodec } from './codec.ts';
import { DontFragment, Lifetime } from './numeric.ts';

export const Priority: AttributeCodec<number> = { ...Lifetime, type: Attr.PRIORITY, name: 'PRIORITY' };
export const UseCandidate: AttributeCodec<true> = { ...DontFragment, type: Attr.USE_CANDIDATE, name: 'USE-CANDIDATE' };

function tieBreaker(type: number, name: string): AttributeCodec<bigint> {
  return {
    type,
    name,
    decode: (v) => (v.length === 8 ? Buffer.from(v.buffer, v.byteOffset, 8).readBigUInt64BE(0) : undefined),
    encode: (n) => {
      if (n < 0n || n > 0xffffffffffffffffn) return undefined;
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(n);
      return b;
    },
  };
}

export const IceControlled = tieBreaker(Attr.ICE_CONTROLLED, 'ICE-CONTROLLED');
export const IceControlling = tieBreaker(Attr.ICE_CONTROLLING, 'ICE-CONTROLLING');
