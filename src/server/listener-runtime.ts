// What the gateway holds for every listener, whatever its transport.
import type { ListenerConfig } from '../config/types.ts';
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import type { ListenerContext } from '../turn/listener-context.ts';

export interface ListenerRuntime extends ListenerContext {
  config: ListenerConfig;
  admission: PeerAdmission;
  listen(): Promise<void>;
  /** The bound address (port 0 in the config resolves here). */
  readonly address: { address: string; port: number };
  close(): Promise<void>;
  /** TLS and DTLS listeners: new handshakes use this certificate and key, no connection is dropped. Throws
   *  an error with `code` and `field` and keeps the old pair when they are unusable. */
  updateCredentials?(cert: string, key: string): void;
  /** TURN-UDP: a datagram another dataplane worker received for a client this listener holds (flow-directory.ts). */
  receiveForwarded?(msg: Buffer, rinfo: { address: string; port: number }): void;
}
