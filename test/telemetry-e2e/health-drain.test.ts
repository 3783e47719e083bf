// Health endpoints of the stunnerd process through a SIGTERM drain: /ready 200 once running; after SIGTERM /ready
// 503 while an allocation is still open, /live 200, metrics still served, the open allocation still relays and a
// new one is refused; deleting the last allocation (Refresh lifetime 0) lets the process exit 0 on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { TurnClient, TurnClientError } from '../../src/client/turn-client.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';
import { get } from '../telemetry/helpers/http.ts';
import { sample } from './support/exposition.ts';
import { PASS, USER, startStunnerd, until } from './support/stunnerd.ts';
import { echoLockStep } from '../helpers/wire.ts';

const LISTENER = 'default/udp-gateway/udp-listener';

test('SIGTERM: /ready 503 and /live 200 while an allocation drains, relaying goes on, exit 0 once it ends',
  { timeout: 60_000 }, async () => {
    // A drain timeout far beyond the test: only the end of the allocation may end the process.
    const gw = await startStunnerd({
      listeners: [{ name: LISTENER, routes: ['default/media-plane'] }],
      clusters: [{ name: 'default/media-plane', endpoints: ['127.0.0.1/32'] }],
      health: true,
      drainTimeoutS: 120,
    });
    const peer = await startEchoPeer('127.0.0.1');
    const port = gw.ports.get(LISTENER)!;
    const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS, rtoMs: 5000 });
    try {
      const ready = await get(`${gw.healthUrl}/ready`);
      assert.deepEqual([ready.status, ready.body], [200, '{"status":200,"message":"READY"}\n']);
      assert.equal((await get(`${gw.healthUrl}/live`)).status, 200);

      await client.allocate();
      await client.channelBind(0x4000, { family: 4, address: '127.0.0.1', port: peer.port });
      await echoLockStep(client, 0x4000, 3, 100);

      const exited = once(gw.proc.child, 'exit');
      gw.proc.child.kill('SIGTERM');
      const draining = await until('/ready to turn 503', 5000, async () => {
        const res = await get(`${gw.healthUrl}/ready`);
        return res.status === 503 ? res : undefined;
      });
      assert.equal(draining.body, '{"status":503,"message":"stunnerd not ready"}\n');
      assert.equal((await get(`${gw.healthUrl}/live`)).status, 200, 'alive while draining');
      const status = JSON.parse((await get(`${gw.healthUrl}/status`)).body) as { status: string; allocationCount: number };
      assert.deepEqual([status.status, status.allocationCount], ['TERMINATING', 1]);

      // The open allocation keeps relaying; a new one is refused (486) instead of landing on a dying gateway.
      await echoLockStep(client, 0x4000, 5, 100);
      const late = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port, username: USER, password: PASS, rtoMs: 5000 });
      try {
        const refused = await late.allocate().then(() => undefined, (e: unknown) => e);
        assert.ok(refused instanceof TurnClientError && refused.code === 486, `a new allocation while draining: ${String(refused)}`);
      } finally {
        late.close();
      }
      const metrics = await gw.scrape();
      assert.equal(sample(metrics, `stunner_allocations_active{name="${LISTENER}"}`), 1);
      assert.equal(sample(metrics, `stunner_cluster_packets_total{direction="tx",name="${LISTENER}",cluster="default/media-plane"}`), 8);
      assert.equal(gw.proc.child.exitCode, null, 'still running with an allocation open');

      // The last allocation ends: the drain is over and the process exits by itself, with 0.
      const endedAt = Date.now();
      assert.equal(await client.refresh(0), 0);
      let timer: NodeJS.Timeout | undefined;
      const [code] = await Promise.race([exited, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no exit after the drain:\n${gw.proc.output()}`)), 10_000);
      })]).finally(() => clearTimeout(timer));
      assert.equal(code, 0, gw.proc.output());
      assert.ok(Date.now() - endedAt < 5000, 'exits soon after the last allocation ends');
      assert.match(gw.proc.output(), /draining allocations=1/);
    } finally {
      client.close();
      await peer.close();
      await gw.stop();
    }
  });
