// A minimal protobuf reader for tests, independent of the code under test: a message as its fields in wire order
// (number, wire type, value), length-delimited values as bytes to decode further where the schema says so.
export interface Field {
  readonly number: number;
  readonly wire: number;
  /** varint (as bigint), fixed64/fixed32 (raw bytes, little-endian), or the bytes of a length-delimited field. */
  readonly value: bigint | Uint8Array;
}

export function decodeMessage(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const tag = varint();
    const number = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 1) value = buf.subarray(at, (at += 8));
    else if (wire === 5) value = buf.subarray(at, (at += 4));
    else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(at, (at += len));
    } else throw new Error(`wire type ${wire}`);
    if (at > buf.length) throw new Error(`field ${number} runs past the end`);
    fields.push({ number, wire, value });
  }
  return fields;
}

/** The length-delimited fields `number` of `fields`, each decoded as a message. */
export function messages(fields: readonly Field[], number: number): Field[][] {
  return fields.filter((f) => f.number === number && f.wire === 2).map((f) => decodeMessage(f.value as Uint8Array));
}

export function bytesOf(fields: readonly Field[], number: number): Uint8Array | undefined {
  const f = fields.find((x) => x.number === number && x.wire === 2);
  return f?.value as Uint8Array | undefined;
}

export function stringOf(fields: readonly Field[], number: number): string | undefined {
  const b = bytesOf(fields, number);
  return b === undefined ? undefined : new TextDecoder().decode(b);
}

export function doubleOf(fields: readonly Field[], number: number): number | undefined {
  const f = fields.find((x) => x.number === number && x.wire === 1);
  return f === undefined ? undefined : Buffer.from(f.value as Uint8Array).readDoubleLE(0);
}

export function fixed64Of(fields: readonly Field[], number: number): bigint | undefined {
  const f = fields.find((x) => x.number === number && x.wire === 1);
  return f === undefined ? undefined : Buffer.from(f.value as Uint8Array).readBigUInt64LE(0);
}
