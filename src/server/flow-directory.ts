// With several dataplane workers, a client's datagrams may arrive at a worker other than the one holding its
// allocation (the kernel's SO_REUSEPORT mapping changes when a worker restarts). A listener records the flows
// it holds allocations for, and hands a datagram it has no allocation for to the directory first, which
// forwards it to the owner (src/dataplane). A single-threaded gateway has no directory.

export interface FlowDirectory {
  /** This worker holds an allocation for the client's 5-tuple at `listener`. */
  claim(listener: string, address: string, port: number): void;
  /** It does no more. */
  release(listener: string, address: string, port: number): void;
  /**
   * Sends a datagram that found no allocation here to the worker that owns its flow; false when no other
   * worker owns it and it is handled here.
   */
  forward(listener: string, msg: Buffer, address: string, port: number): boolean;
}
