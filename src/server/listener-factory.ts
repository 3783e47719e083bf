// Builds a listener of any protocol with its relays: UDP relays for every allocation, plus TCP relays
// (RFC 6062) on the stream transports. Every listener closes its relay allocators when it closes.
import type { ListenerConfig } from '../config/types.ts';
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { TurnServer } from '../turn/turn-server.ts';
import { DtlsListener } from './dtls-listener.ts';
import type { SharedRelays } from '../shared/dataplane-state.ts';
import type { FlowDirectory } from './flow-directory.ts';
import { GatewayError } from './gateway-error.ts';
import type { ListenerRuntime } from './listener-runtime.ts';
import { planRelayAddresses } from './relay-address.ts';
import type { StreamLimits } from './stream-limits.ts';
import { StreamListener } from './stream-listener.ts';
import { NetTcpRelayAllocator } from './tcp-relay.ts';
import { UdpListener } from './udp-listener.ts';
import { UdpRelayAllocator } from './udp-relay.ts';

export interface ListenerDeps {
  readonly stats: ListenerStats;
  readonly server: TurnServer;
  readonly admission: PeerAdmission;
  readonly onError: (err: Error) => void;
  /** Connection limits of the TCP, TLS and DTLS listeners (the defaults when absent). */
  readonly limits?: StreamLimits;
  /** Bind with SO_REUSEPORT, next to the same listener in other dataplane workers. */
  readonly reusePort?: boolean;
  /** Flows held by other dataplane workers (TURN-UDP; absent in a single-threaded gateway). */
  readonly flows?: FlowDirectory;
  /** TURN-UDP with reusePort: a connected socket per client with an allocation (udp-listener.ts; default true). */
  readonly clientSockets?: boolean;
  /** Relay port pools (and reservations) shared by every dataplane worker; the listener's own when absent. */
  readonly sharedRelays?: SharedRelays;
}

/** The listener for `l`, not yet listening. Throws GatewayError ERR_LISTENER_PROTOCOL for an unknown protocol. */
export function createListener(l: ListenerConfig, deps: ListenerDeps): ListenerRuntime {
  const plan = planRelayAddresses(l.address);
  const range = { minPort: l.min_relay_port, maxPort: l.max_relay_port };
  const udpRelays = () => new UdpRelayAllocator({ plan, ...range, onError: deps.onError, ...deps.sharedRelays?.udp });
  switch (l.protocol) {
    case 'TURN-UDP':
      return new UdpListener({ config: l, relays: udpRelays(), ...deps });
    case 'TURN-DTLS':
      return new DtlsListener({ config: l, relays: udpRelays(), ...deps });
    case 'TURN-TCP':
    case 'TURN-TLS':
      return new StreamListener({
        config: l, relays: udpRelays(),
        tcpRelays: new NetTcpRelayAllocator({ plan, ...range, onError: deps.onError, ...deps.sharedRelays?.tcp }),
        ...deps,
      });
    default:
      throw new GatewayError('ERR_LISTENER_PROTOCOL', `listener ${l.name}: protocol ${l.protocol} is not supported yet`);
  }
}
