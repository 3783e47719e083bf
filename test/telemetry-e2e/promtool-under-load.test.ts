// `promtool check metrics` reports nothing on scrapes of the stunnerd process taken while turnutils_uclient relays
// through it (docs/metrics.md, "Rules for the exposition"): plain and gzip-encoded, runtime families included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from '../telemetry/helpers/http.ts';
import { requireTool } from '../telemetry/helpers/tools.ts';
import { sample } from './support/exposition.ts';
import { runUclient, startTurnutilsPeer } from './support/load.ts';
import { promtoolCheck } from '../telemetry/helpers/tools.ts';
import { startStunnerd, until } from './support/stunnerd.ts';

const SESSIONS = 10;
const MESSAGES = 400;
const INTERVAL_MS = 20;

test('promtool check metrics is clean on scrapes taken under turnutils_uclient load', { timeout: 90_000 }, async () => {
  const promtool = requireTool('promtool');
  const gw = await startStunnerd({
    listeners: [{ name: 'default/udp-gateway/udp-listener', routes: ['default/media-plane'] },
      { name: 'default/udp-gateway/spare', routes: ['default/media-plane', 'default/other'] }],
    clusters: [{ name: 'default/media-plane', endpoints: ['127.0.0.1/32'] }, { name: 'default/other', endpoints: ['10.0.0.0/8'] }],
  });
  const peer = await startTurnutilsPeer();
  const tx = 'stunner_cluster_packets_total{direction="tx",name="default/udp-gateway/udp-listener",cluster="default/media-plane"}';
  let exitCode: number | null;
  try {
    const load = runUclient({ port: gw.ports.get('default/udp-gateway/udp-listener')!, peerPort: peer.port,
      sessions: SESSIONS, messages: MESSAGES, size: 100, intervalMs: INTERVAL_MS });
    let finished = false;
    void load.done.then(() => (finished = true));
    await until('relayed traffic', 20_000, async () => (sample(await gw.scrape(), tx) > 0 ? true : undefined));

    const checked: number[] = [];
    for (const encoding of ['identity', 'gzip', 'identity', 'gzip']) {
      const res = await get(gw.metricsUrl, { 'accept-encoding': encoding });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], encoding === 'gzip' ? 'gzip' : undefined);
      const { code, output } = await promtoolCheck(promtool, res.body);
      assert.equal(output, '', `promtool on a ${encoding} scrape says:\n${output}`);
      assert.equal(code, 0);
      assert.match(res.body, /^process_cpu_seconds_total \S+$/m, 'runtime families are in the checked scrape');
      checked.push(sample(res.body, tx));
      await new Promise((r) => setTimeout(r, 250));
    }
    // The scrapes really were taken under load: the relayed count moved between every two of them.
    assert.equal(finished, false, 'uclient was still running after the last checked scrape');
    for (let i = 1; i < checked.length; i++) assert.ok(checked[i] > checked[i - 1], `counts moved: ${checked.join(' < ')}`);

    const result = await load.done;
    assert.equal(result.code, 0, result.output);
    assert.equal(result.sent, SESSIONS * MESSAGES);
  } finally {
    await peer.stop();
    exitCode = await gw.stop();
  }
  assert.equal(exitCode, 0, gw.proc.output());
});
