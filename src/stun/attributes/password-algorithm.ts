// RFC 8489 §14.11 PASSWORD-ALGORITHMS and §14.12 PASSWORD-ALGORITHM: algorithm number, parameter length,
// parameters padded to 4 bytes.
import { Attr } from '../constants.ts';
import type { AttributeCodec } from './codec.ts';

export interface PasswordAlgorithmValue {
  /** 0x0001 MD5, 0x0002 SHA-256 */
  readonly algorithm: number;
  readonly parameters: Uint8Array;
}

function decodeList(v: Uint8Array): PasswordAlgorithmValue[] | undefined {
  const out: PasswordAlgorithmValue[] = [];
  let i = 0;
  while (i < v.length) {
    if (i + 4 > v.length) return undefined;
    const algorithm = (v[i] << 8) | v[i + 1];
    const len = (v[i + 2] << 8) | v[i + 3];
    const end = i + 4 + len;
    if (end > v.length) return undefined;
    out.push({ algorithm, parameters: v.subarray(i + 4, end) });
    i = end + ((4 - (len % 4)) % 4);
  }
  return out;
}

function encodeList(list: readonly PasswordAlgorithmValue[]): Uint8Array {
  let size = 0;
  for (const a of list) size += 4 + a.parameters.length + ((4 - (a.parameters.length % 4)) % 4);
  const out = new Uint8Array(size);
  let i = 0;
  for (const a of list) {
    out[i] = a.algorithm >> 8;
    out[i + 1] = a.algorithm & 0xff;
    out[i + 2] = a.parameters.length >> 8;
    out[i + 3] = a.parameters.length & 0xff;
    out.set(a.parameters, i + 4);
    i += 4 + a.parameters.length + ((4 - (a.parameters.length % 4)) % 4);
  }
  return out;
}

export const PasswordAlgorithms: AttributeCodec<readonly PasswordAlgorithmValue[]> = {
  type: Attr.PASSWORD_ALGORITHMS,
  name: 'PASSWORD-ALGORITHMS',
  decode: decodeList,
  encode: encodeList,
};

export const PasswordAlgorithm: AttributeCodec<PasswordAlgorithmValue> = {
  type: Attr.PASSWORD_ALGORITHM,
  name: 'PASSWORD-ALGORITHM',
  decode: (v) => {
    const list = decodeList(v);
    return list?.length === 1 ? list[0] : undefined;
  },
  encode: (a) => encodeList([a]),
};
