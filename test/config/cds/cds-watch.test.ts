// The CDS watch against a fake upstream CDS server (test/helpers/fake-cds.ts): the URL and Origin upstream
// sends, configs on subscribe and on change, keepalive pings and the pong deadline, reconnect with a capped
// exponential backoff when the server goes away, and what a server must not send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CdsWatch, type CdsWatchOptions } from '../../../src/config/cds/cds-watch.ts';
import { cdsEndpoints } from '../../../src/config/cds/origin.ts';
import { LoggerFactory } from '../../../src/log/logger.ts';
import { FakeCdsServer, serverFrame } from '../../helpers/fake-cds.ts';

const ID = 'stunner/udp-gateway';
const CONFIG = { version: 'v1', admin: { name: ID }, auth: { type: 'static', credentials: { username: 'u', password: 'p' } } };

async function withWatch(opts: Partial<CdsWatchOptions>, fn: (ctx: { server: FakeCdsServer; watch: CdsWatch;
  configs: string[]; lines: string[] }) => Promise<void>, node = 'node-1'): Promise<void> {
  const server = new FakeCdsServer();
  await server.start();
  const configs: string[] = [];
  const lines: string[] = [];
  const logger = new LoggerFactory({ levels: 'all:DEBUG', sink: (l) => lines.push(l) }).get('cds-client');
  const { watch: url, originHeader } = cdsEndpoints(new URL(server.url), { namespace: 'stunner', name: 'udp-gateway', node });
  const watch = new CdsWatch({ url, originHeader, logger, onConfig: (t) => configs.push(t), ...opts });
  try {
    await fn({ server, watch, configs, lines });
  } finally {
    watch.close();
    await server.stop();
  }
}

test('watch: the URL, query and Origin upstream sends; the config on subscribe and on every change', async () => {
  await withWatch({}, async ({ server, watch, configs }) => {
    server.configs.set(ID, CONFIG);
    watch.start();
    await server.waitFor('a watcher', () => server.clients === 1);
    const w = server.watches[0];
    assert.equal(w.url.pathname + w.url.search, '/api/v1/configs/stunner/udp-gateway?node=node-1&watch=true');
    assert.equal(w.origin, `http://127.0.0.1:${server.port}`);
    await server.waitFor('the current config', () => configs.length === 1);
    assert.deepEqual(JSON.parse(configs[0]), CONFIG);
    server.upsert(ID, { ...CONFIG, admin: { name: ID, loglevel: 'all:DEBUG' } });
    server.sendRaw(ID, '');
    server.remove(ID);
    await server.waitFor('the update and the delete', () => configs.length === 3);
    assert.equal(JSON.parse(configs[1]).admin.loglevel, 'all:DEBUG');
    assert.equal(JSON.parse(configs[2]).auth.credentials.username, 'dummy-username');
    assert.equal(watch.connected, true);
  });
});

test('watch: pings "keepalive" every interval; answered, the connection stays', async () => {
  await withWatch({ pingIntervalMs: 100, pongWaitMs: 250 }, async ({ server, watch }) => {
    watch.start();
    await server.waitFor('5 pings', () => server.pings.length >= 5);
    assert.ok(server.pings.every((p) => p === 'keepalive'), server.pings.join(','));
    assert.equal(server.watches.length, 1, 'one connection all along');
    assert.equal(watch.connects, 1);
  });
});

test('watch: no pong within the deadline drops the connection and dials again', async () => {
  await withWatch({ pingIntervalMs: 100, pongWaitMs: 250, backoff: { initialMs: 50, jitter: 0 } },
    async ({ server, watch, configs, lines }) => {
      server.configs.set(ID, CONFIG);
      server.answerPings = false;
      watch.start();
      await server.waitFor('a second connection', () => server.watches.length >= 2, 5000);
      assert.ok(lines.some((l) => l.includes('no pong or config for 250 ms')), lines.join('\n'));
      // Each new connection gets the current config again (the daemon skips it when unchanged).
      await server.waitFor('the config twice', () => configs.length >= 2);
      server.answerPings = true;
      const connects = watch.connects;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(watch.connects, connects, 'answered pings: no more reconnects');
    });
});

test('watch: the server goes away: retries back off (doubling, capped), and the restarted server is found', async () => {
  await withWatch({ backoff: { initialMs: 40, maxMs: 160, jitter: 0 } }, async ({ server, watch, configs, lines }) => {
    server.configs.set(ID, CONFIG);
    watch.start();
    await server.waitFor('the config', () => configs.length === 1);
    const port = server.port;
    await server.stop();
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(watch.connected, false);
    const delays = lines.filter((l) => l.includes('retrying')).map((l) => Number(/retryMs=(\d+)/.exec(l)?.[1]));
    assert.deepEqual(delays.slice(0, 5), [40, 80, 160, 160, 160], lines.join('\n'));
    await server.start(port);
    await server.waitFor('the config after the restart', () => configs.length === 2, 5000);
    assert.equal(watch.connected, true);
    assert.match(lines.join('\n'), /connected to the config discovery server url=\S+ attempts=\d+/);
  });
});

test('watch: a crashed server (no close frame) and a binary message are both reconnected', async () => {
  await withWatch({ backoff: { initialMs: 30, jitter: 0 } }, async ({ server, watch }) => {
    watch.start();
    await server.waitFor('a watcher', () => server.clients === 1);
    server.drop();
    await server.waitFor('a second connection', () => server.watches.length === 2);
    await server.waitFor('a watcher again', () => server.clients === 1);
    server.sendFrame(ID, serverFrame(0x2, Buffer.from([1, 2, 3])));
    await server.waitFor('a third connection', () => server.watches.length === 3);
  });
});

test('watch: a server that sends the config and hangs up with the handshake is dialled again, config each time', async () => {
  await withWatch({ backoff: { initialMs: 30, maxMs: 30, jitter: 0 } }, async ({ server, watch, configs }) => {
    server.configs.set(ID, CONFIG);
    server.closeOnSubscribe = true;
    watch.start();
    await server.waitFor('three dials', () => server.watches.length >= 3);
    await server.waitFor('three configs', () => configs.length >= 3);
    server.closeOnSubscribe = false;
    await server.waitFor('a connection that stays', () => watch.connected && server.clients === 1);
  });
});

test('watch: without a node name the URL ends in ?watch=true; close() ends it for good with a close frame', async () => {
  await withWatch({ backoff: { initialMs: 30, jitter: 0 } }, async ({ server, watch }) => {
    watch.start();
    await server.waitFor('a watcher', () => server.clients === 1);
    assert.equal(server.watches[0].url.search, '?watch=true');
    watch.close();
    await server.waitFor('the watcher gone', () => server.clients === 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(server.watches.length, 1, 'no reconnect after close()');
  }, '');
});
