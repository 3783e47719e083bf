// ListenerDeps.reusePort: with it two listeners of the same protocol bind one address and port (SO_REUSEPORT, as
// dataplane workers do) and a client is served through it; without it the second bind fails with EADDRINUSE, as
// before. A relay port is bound exclusively before it is bound again with SO_REUSEPORT for the channels' peer links
// (src/server/udp-relay-socket.ts; by default only ports outside the kernel's ephemeral range get them): a port another
// socket holds, with the option or without, is never joined, and no socket without the option can bind a relayed
// port; an ephemeral relayed port none with it either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { authenticatorFromConfig } from '../../src/auth/from-config.ts';
import { TurnClient } from '../../src/client/turn-client.ts';
import { Cluster } from '../../src/cluster/cluster.ts';
import { PeerAdmission } from '../../src/cluster/peer-admission.ts';
import type { ListenerProtocol } from '../../src/config/types.ts';
import { LoggerFactory } from '../../src/log/logger.ts';
import { limitsOf } from '../../src/server/gateway.ts';
import { createListener } from '../../src/server/listener-factory.ts';
import type { ListenerRuntime } from '../../src/server/listener-runtime.ts';
import { StatsRegistry } from '../../src/stats/registry.ts';
import { TurnServer } from '../../src/turn/turn-server.ts';
import { PASS, USER, testConfig } from '../helpers/gateway.ts';
import { freeTcpPort, freeUdpPort, nonEphemeralUdpPort } from '../helpers/process.ts';
import { makeTestCert } from '../helpers/tls-cert.ts';

const cert = makeTestCert();
const KINDS: ListenerProtocol[] = ['TURN-UDP', 'TURN-TCP', 'TURN-TLS', 'TURN-DTLS'];

interface Built {
  readonly listener: ListenerRuntime;
  close(): Promise<void>;
}

/** A listener of `protocol` on 127.0.0.1:port with its own TURN core, built by the factory as the gateway does. */
function build(protocol: ListenerProtocol, port: number, reusePort: boolean | undefined, relayPort = 0): Built {
  const tls = protocol === 'TURN-TLS' || protocol === 'TURN-DTLS' ? { cert: cert.cert, key: cert.key } : {};
  const range = relayPort > 0 ? { min_relay_port: relayPort, max_relay_port: relayPort } : {};
  const config = testConfig({
    listeners: [{ name: 'l', protocol, address: '127.0.0.1', port, routes: ['loopback'], ...tls, ...range }],
  });
  const registry = new StatsRegistry();
  const server = new TurnServer({
    authenticator: authenticatorFromConfig(config.auth), realm: config.auth.realm, limits: limitsOf(config),
    logger: new LoggerFactory({ levels: 'all:ERROR' }).get('turn'),
  });
  const admission = new PeerAdmission('l', config.clusters.map((c) => new Cluster(c)), (c) => registry.cluster('l', c));
  const listener = createListener(config.listeners[0], {
    stats: registry.listener('l'), server, admission, onError: () => {}, reusePort,
  });
  return {
    listener,
    async close() {
      server.close();
      await listener.close();
    },
  };
}

const datagram = (p: ListenerProtocol) => p === 'TURN-UDP' || p === 'TURN-DTLS';

for (const protocol of KINDS) {
  test(`${protocol}: two listeners with reusePort bind one address and port`, async () => {
    const port = datagram(protocol) ? await freeUdpPort() : await freeTcpPort();
    const first = build(protocol, port, true);
    const second = build(protocol, port, true);
    try {
      await first.listener.listen();
      await second.listener.listen();
      assert.equal(first.listener.address.port, port);
      assert.equal(second.listener.address.port, port);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test(`${protocol}: without reusePort the second listener on the same port fails with EADDRINUSE`, async () => {
    const port = datagram(protocol) ? await freeUdpPort() : await freeTcpPort();
    const first = build(protocol, port, undefined);
    const second = build(protocol, port, false);
    try {
      await first.listener.listen();
      await assert.rejects(second.listener.listen(), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
    } finally {
      await first.close();
      await second.close();
    }
  });
}

for (const kind of ['udp', 'tcp'] as const) {
  test(`${kind}: a client allocates through a shared port; its relayed port cannot be bound without SO_REUSEPORT`, async () => {
    const protocol = kind === 'udp' ? 'TURN-UDP' : 'TURN-TCP';
    const port = kind === 'udp' ? await freeUdpPort() : await freeTcpPort();
    const listeners = [build(protocol, port, true), build(protocol, port, true)];
    let client: TurnClient | undefined;
    try {
      for (const l of listeners) await l.listener.listen();
      client = await TurnClient.connect({ kind, host: '127.0.0.1', port, username: USER, password: PASS });
      const { relayed } = await client.allocate();
      assert.equal(relayed.length, 1);
      assert.equal(await bindCode(relayed[0].port, false), 'EADDRINUSE');
      // The kernel picked the port, an ephemeral one: no peer links (udp-relay.ts, peerLinksFor), so the relay
      // port is closed to SO_REUSEPORT too.
      assert.equal(await bindCode(relayed[0].port, true), 'EADDRINUSE');
    } finally {
      client?.close();
      for (const l of listeners) await l.close();
    }
  });

  test(`${kind}: a relay port outside the ephemeral range gets peer links: bound with SO_REUSEPORT, still closed without`, async () => {
    const protocol = kind === 'udp' ? 'TURN-UDP' : 'TURN-TCP';
    const port = kind === 'udp' ? await freeUdpPort() : await freeTcpPort();
    const relayPort = await nonEphemeralUdpPort();
    const built = build(protocol, port, false, relayPort);
    let client: TurnClient | undefined;
    try {
      await built.listener.listen();
      client = await TurnClient.connect({ kind, host: '127.0.0.1', port, username: USER, password: PASS });
      const { relayed } = await client.allocate();
      assert.equal(relayed[0].port, relayPort);
      assert.equal(await bindCode(relayPort, false), 'EADDRINUSE');
      assert.equal(await bindCode(relayPort, true), undefined);
    } finally {
      client?.close();
      await built.close();
    }
  });

  test(`${kind}: a relay port another socket holds with SO_REUSEPORT is not joined: 508`, async () => {
    const protocol = kind === 'udp' ? 'TURN-UDP' : 'TURN-TCP';
    const port = kind === 'udp' ? await freeUdpPort() : await freeTcpPort();
    const relayPort = await nonEphemeralUdpPort();
    const holder = createSocket({ type: 'udp4', reusePort: true });
    await new Promise<void>((resolve) => holder.bind(relayPort, '127.0.0.1', resolve));
    const built = build(protocol, port, false, relayPort);
    let client: TurnClient | undefined;
    let held = true;
    try {
      await built.listener.listen();
      client = await TurnClient.connect({ kind, host: '127.0.0.1', port, username: USER, password: PASS });
      await assert.rejects(client.allocate(), (err: Error) => /508/.test(err.message));
      holder.close();
      held = false;
      const { relayed } = await client.allocate();
      assert.equal(relayed[0].port, relayPort);
    } finally {
      client?.close();
      if (held) holder.close();
      await built.close();
    }
  });
}

/** The error code of binding 127.0.0.1:port (undefined: bound, and closed again). */
function bindCode(port: number, reusePort: boolean): Promise<string | undefined> {
  const s = createSocket({ type: 'udp4', reusePort });
  return new Promise((resolve) => {
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.close();
      resolve(err.code);
    });
    s.bind(port, '127.0.0.1', () => {
      s.close();
      resolve(undefined);
    });
  });
}
