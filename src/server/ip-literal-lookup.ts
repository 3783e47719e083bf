// The `lookup` of every dgram socket here. Their addresses are always IP literals: listener addresses are
// validated as such (src/config/rules/listener.ts), clients and peers are known by the address the kernel
// reported or by a decoded XOR-PEER-ADDRESS. Node's default lookup takes a literal as it is too, but checks it
// with isIP and answers on the next tick, once per unconnected send: a tick-queue run after every datagram
// handled. This one answers at once.

/** dgram calls it with the socket's family as a number (not the options object @types/node declares). */
export function ipLiteralLookup(address: string, family: unknown,
  callback: (err: null, address: string, family: number) => void): void {
  callback(null, address, family as number);
}
