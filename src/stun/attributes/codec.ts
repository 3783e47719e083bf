// The shape every attribute codec has; the table in ./index.ts keys them by numeric type.

export interface AttributeCodec<T> {
  readonly type: number;
  readonly name: string;
  /** `xorKey` is the magic cookie + transaction id. Returns undefined when the value is malformed. */
  decode(value: Uint8Array, xorKey: Uint8Array): T | undefined;
  /** Returns undefined when `value` cannot be encoded (e.g. an address that is not an IP). */
  encode(value: T, xorKey: Uint8Array): Uint8Array | undefined;
}
