// One listener of any protocol with its own TURN core on loopback, built as the gateway builds it but with chosen
// limits (the gateway uses the defaults), for tests of timeouts, caps, backpressure and closing.
import { authenticatorFromConfig } from '../../src/auth/from-config.ts';
import { Cluster } from '../../src/cluster/cluster.ts';
import { PeerAdmission } from '../../src/cluster/peer-admission.ts';
import type { ListenerProtocol } from '../../src/config/types.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import { limitsOf } from '../../src/server/gateway.ts';
import type { ListenerRuntime } from '../../src/server/listener-runtime.ts';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from '../../src/server/stream-limits.ts';
import { createListener } from '../../src/server/listener-factory.ts';
import type { ListenerStats } from '../../src/stats/listener-stats.ts';
import { StatsRegistry } from '../../src/stats/registry.ts';
import { TurnServer } from '../../src/turn/turn-server.ts';
import { testConfig } from './gateway.ts';
import { freeTcpPort, freeUdpPort } from './process.ts';

export interface TestListener {
  readonly listener: ListenerRuntime;
  readonly server: TurnServer;
  readonly stats: ListenerStats;
  readonly registry: StatsRegistry;
  readonly port: number;
  stop(): Promise<void>;
}

/** `more`: extra listener fields (relay port range, routes) and the clusters to route to. */
export async function startTransportListener(protocol: ListenerProtocol, limits: Partial<StreamLimits> = {},
  tls?: { cert: string; key: string },
  more: { listener?: Record<string, unknown>; clusters?: Record<string, unknown>[] } = {}): Promise<TestListener> {
  // Port 0 would validate to the default 3478.
  const port = protocol === 'TURN-DTLS' || protocol === 'TURN-UDP' ? await freeUdpPort() : await freeTcpPort();
  const config = testConfig({
    listeners: [{ name: 's', protocol, address: '127.0.0.1', port, routes: ['loopback'], ...tls, ...more.listener }],
    clusters: more.clusters,
  });
  const logs = new LoggerFactory({ levels: process.env.TEST_LOG ?? 'all:ERROR' });
  const registry = new StatsRegistry();
  const server = new TurnServer({
    authenticator: authenticatorFromConfig(config.auth), realm: config.auth.realm, limits: limitsOf(config),
    logger: logs.get('turn'),
  });
  const admission = new PeerAdmission('s', config.clusters.map((c) => new Cluster(c)),
    (c) => registry.cluster('s', c));
  const listener = createListener(config.listeners[0], {
    stats: registry.listener('s'), server, admission, onError: () => {},
    limits: { ...DEFAULT_STREAM_LIMITS, ...limits },
  });
  await listener.listen();
  return {
    listener, server, stats: registry.listener('s'), registry, port: listener.address.port,
    async stop() {
      server.close();
      await listener.close();
    },
  };
}
