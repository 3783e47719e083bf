// A socket of one client's own: bound to a listener's address and port with SO_REUSEPORT, then connected to
// the client, so that the kernel delivers that client's datagrams to it alone (udp-listener.ts, "client
// sockets"; dtls-server.ts, connected associations).
//
// Between bind and connect the socket is an ordinary member of the listener's reuseport group, and the kernel
// may hand it datagrams of any source; connect() does not take them off its queue. So its 'message' listener
// is there from the start, and it sorts each datagram by source: the client's go to `own`, every other goes to
// `other`, the handler of the listener's shared socket, as if it had arrived there. None is lost in the window,
// and none is taken for the client's.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { ipLiteralLookup } from './ip-literal-lookup.ts';

export interface ClientSocketOptions {
  /** The listener's bound address and port. */
  readonly address: string;
  readonly port: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** A datagram from the client, once connected and until closed. */
  readonly own: (msg: Buffer, rinfo: RemoteInfo) => void;
  /** Any other datagram: from other sources (received in the window between bind and connect), and the
   *  client's before the socket is connected or after it is closed. */
  readonly other: (msg: Buffer, rinfo: RemoteInfo) => void;
  /** Once connected: true keeps the socket (errors go to onError from then on); false closes it. */
  readonly connected: (socket: ClientSocket) => boolean;
  readonly onError: (err: Error) => void;
}

export class ClientSocket {
  readonly socket: Socket;
  /** Between `connected` returning true and close(): the client's datagrams go to `own`. */
  #live = false;

  /** Opens the socket; if binding or connecting fails, it is closed and `connected` is never called. */
  constructor(o: ClientSocketOptions) {
    const { remoteAddress, remotePort, own, other } = o;
    const s = createSocket({ type: isIP(o.address) === 6 ? 'udp6' : 'udp4', reusePort: true, lookup: ipLiteralLookup });
    this.socket = s;
    s.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (this.#live && rinfo.port === remotePort && rinfo.address === remoteAddress) own(msg, rinfo);
      else other(msg, rinfo);
    });
    const give = (): void => this.close();
    s.once('error', give);
    s.bind(o.port, o.address, () => {
      s.connect(remotePort, remoteAddress, () => {
        if (!o.connected(this)) return give();
        this.#live = true;
        s.off('error', give);
        s.on('error', o.onError);
      });
    });
  }

  /**
   * From now on every datagram goes to `other`. Datagrams may still sit in the socket's queue: it closes after
   * the event loop's next poll phase has read them (and sent what was just sent on it). One setImmediate is not
   * enough: called from a 'message' callback, it runs before the loop polls again.
   */
  close(): void {
    this.#live = false;
    setImmediate(() => setImmediate(() => {
      try {
        this.socket.close();
      } catch {
        // closed already
      }
    }));
  }
}
