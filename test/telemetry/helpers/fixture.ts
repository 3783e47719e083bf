// A StatsRegistry filled by hand with known numbers, and the small collaborators a Telemetry needs.
import { StatsRegistry } from '../../../src/stats/registry.ts';
import { DROP, PEER_UNREACHABLE, SEND_DROP } from '../../../src/stats/listener-stats.ts';
import { LoggerFactory } from '../../../src/log/logger.ts';
import type { GatewayStatusSnapshot, StatusSource } from '../../../src/telemetry/health.ts';

export function knownRegistry(): StatsRegistry {
  const r = new StatsRegistry();
  const udp = r.listener('udp-listener');
  udp.connections = 3;
  udp.connectionsTotal = 10;
  udp.rxPackets = 100;
  udp.rxBytes = 5000;
  udp.txPackets = 90;
  udp.txBytes = 4500;
  udp.allocationsActive = 2;
  udp.drops[DROP.malformed] = 1;
  udp.drops[DROP.no_permission] = 2;
  udp.sendDrops[SEND_DROP.peer] = 4;
  udp.peerUnreachable[PEER_UNREACHABLE.port_unreachable] = 7;
  udp.countRequest('allocate', 200);
  udp.countRequest('allocate', 200);
  udp.countRequest('allocate', 401);
  udp.countRequest('refresh', 200);
  for (const seconds of [0.5, 42, 100_000]) udp.allocationDuration.record(seconds);

  const tcp = r.listener('default/tcp-gateway/tcp-listener');
  tcp.connections = 1;
  tcp.connectionsTotal = 1;
  tcp.rxPackets = 12;
  tcp.rxBytes = 1200;

  const media = r.cluster('udp-listener', 'media-plane');
  media.connections = 1;
  media.connectionsTotal = 4;
  media.rxPackets = 7;
  media.rxBytes = 700;
  media.txPackets = 8;
  media.txBytes = 800;
  r.cluster('udp-listener', 'backup');
  const tcpMedia = r.cluster('default/tcp-gateway/tcp-listener', 'media-plane');
  tcpMedia.txPackets = 5;
  tcpMedia.txBytes = 500;

  r.gateway.configReloadsSuccess = 3;
  r.gateway.configReloadsFailure = 1;
  r.gateway.lastReloadSuccessful = 0;
  return r;
}

/** The routes of knownRegistry(), for `registry.retain()`. */
export function knownRoutes(): Map<string, string[]> {
  return new Map([
    ['udp-listener', ['media-plane', 'backup']],
    ['default/tcp-gateway/tcp-listener', ['media-plane']],
  ]);
}

export class FakeStatus implements StatusSource {
  isReady = false;
  forceReady = false;
  snapshot: GatewayStatusSnapshot = {
    name: 'default-stunnerd',
    configGeneration: 0,
    listeners: [],
    clusters: [],
  };

  ready(): boolean {
    return this.isReady;
  }

  status(): GatewayStatusSnapshot {
    return this.snapshot;
  }
}

/** A LoggerFactory whose lines are kept for assertions instead of going to stderr. */
export function capturingLogger(levels = 'all:INFO'): { factory: LoggerFactory; lines: string[] } {
  const lines: string[] = [];
  return { factory: new LoggerFactory({ levels, sink: (line) => lines.push(line) }), lines };
}
