// Builds the TURN-TCP, TURN-TLS and TURN-DTLS listeners with their relays: UDP relays for every allocation,
// plus TCP relays (RFC 6062) on the stream transports.
import type { ListenerConfig } from '../config/types.ts';
import type { PeerAdmission } from '../cluster/peer-admission.ts';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { TurnServer } from '../turn/turn-server.ts';
import { DtlsListener } from './dtls-listener.ts';
import type { ListenerRuntime } from './listener-runtime.ts';
import { planRelayAddresses } from './relay-address.ts';
import type { StreamLimits } from './stream-limits.ts';
import { StreamListener } from './stream-listener.ts';
import { NetTcpRelayAllocator } from './tcp-relay.ts';
import { UdpRelayAllocator } from './udp-relay.ts';

export interface TransportListenerDeps {
  readonly stats: ListenerStats;
  readonly server: TurnServer;
  readonly admission: PeerAdmission;
  readonly onError: (err: Error) => void;
  readonly limits?: StreamLimits;
}

export function createTransportListener(l: ListenerConfig, deps: TransportListenerDeps): ListenerRuntime {
  const plan = planRelayAddresses(l.address);
  const range = { minPort: l.min_relay_port, maxPort: l.max_relay_port };
  const relays = new UdpRelayAllocator({ plan, ...range, onError: deps.onError });
  const common = { config: l, relays, ...deps };
  if (l.protocol === 'TURN-DTLS') return new DtlsListener(common);
  return new StreamListener({ ...common, tcpRelays: new NetTcpRelayAllocator({ plan, ...range, onError: deps.onError }) });
}
