// Starts a gateway in-process on loopback with a config built from a few knobs; for integration tests.
import { validateConfig } from '../../src/config/validate.ts';
import type { StunnerConfig } from '../../src/config/types.ts';
import { Gateway } from '../../src/server/gateway.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import { freeUdpPort } from './process.ts';

export interface TestGatewayOptions {
  readonly auth?: Record<string, unknown>;
  readonly listeners?: Record<string, unknown>[];
  readonly clusters?: Record<string, unknown>[];
  readonly admin?: Record<string, unknown>;
  readonly clock?: () => number;
}

export const USER = 'user1';
export const PASS = 'pass1';

export function testConfig(o: TestGatewayOptions = {}): StunnerConfig {
  return validateConfig({
    version: 'v1',
    admin: { name: 'test', loglevel: 'all:ERROR', healthcheck_endpoint: '', ...o.admin },
    auth: o.auth ?? { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: USER, password: PASS } },
    listeners: o.listeners ?? [
      { name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: 0, routes: ['loopback'] },
    ],
    clusters: o.clusters ?? [{ name: 'loopback', type: 'STATIC', endpoints: ['127.0.0.0/8'] }],
  });
}

export async function startGateway(o: TestGatewayOptions = {}): Promise<Gateway> {
  const logs = new LoggerFactory({ levels: process.env.TEST_LOG ?? 'all:ERROR' });
  // Port 0 validates to the default 3478: the default listener gets a port that is free now instead.
  const listeners = o.listeners ?? [
    { name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: await freeUdpPort(), routes: ['loopback'] },
  ];
  const gw = new Gateway(testConfig({ ...o, listeners }), { logs, clock: o.clock });
  await gw.start();
  return gw;
}

export function portOf(gw: Gateway, listener = 'udp'): number {
  return gw.listeners.get(listener)!.address.port;
}
