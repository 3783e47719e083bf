// A real Prometheus scrapes the stunnerd process every second while turnutils_uclient relays through it; PromQL
// over its HTTP API then gives what the load implies: increase() of the cluster tx packets equals what uclient
// sent, exactly; rate() of the listener packets is in the range of uclient's sending rate; every allocation made
// during the load is alive in stunner_allocations_active; sum by (name) keeps one series per listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusServer, type PromResult } from '../deploy/support/prometheus-server.ts';
import { sample } from './support/exposition.ts';
import { runUclient, startTurnutilsPeer } from './support/load.ts';
import { startStunnerd, until } from './support/stunnerd.ts';

const LISTENER = 'default/udp-gateway/udp-listener';
const IDLE = 'default/udp-gateway/idle-listener';
const CLUSTER = 'default/media-plane';
const SESSIONS = 10;
const MESSAGES = 400;
const INTERVAL_MS = 20;
/** What uclient offers: every session sends one message per interval. */
const NOMINAL_PPS = (SESSIONS * 1000) / INTERVAL_MS;

function values(r: PromResult): Map<string, number> {
  return new Map(r.result.map((s) => [JSON.stringify(s.metric), Number(s.value![1])]));
}

function single(r: PromResult, what: string): number {
  assert.equal(r.result.length, 1, `${what}: one series, got ${JSON.stringify(r.result)}`);
  return Number(r.result[0].value![1]);
}

test('Prometheus scraping the stunnerd process during a uclient run: PromQL gives the relayed totals and rates',
  { timeout: 120_000 }, async (t) => {
    const gw = await startStunnerd({
      listeners: [{ name: LISTENER, routes: [CLUSTER] }, { name: IDLE, routes: [CLUSTER] }],
      clusters: [{ name: CLUSTER, endpoints: ['127.0.0.1/32'] }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'stunner-prom-e2e-'));
    const peer = await startTurnutilsPeer();
    let prometheus: PrometheusServer | undefined;
    let exitCode: number | null;
    const tx = `stunner_cluster_packets_total{direction="tx",name="${LISTENER}",cluster="${CLUSTER}"}`;
    try {
      prometheus = await PrometheusServer.start({ dir, job: 'stunnerd', targets: [`127.0.0.1:${gw.metricsPort}`], scrapeIntervalS: 1 });
      const prom = prometheus;
      // Two scrapes before the load: the counter's first sample in the window is 0.
      await until('two scrapes of the idle gateway', 30_000, async () => {
        const r = await prom.query(`count_over_time(${tx}[1m])`);
        return r.result.length === 1 && Number(r.result[0].value![1]) >= 2 ? true : undefined;
      });
      assert.equal(single(await prom.query(`up{job="stunnerd"}`), 'up'), 1);

      const loadStart = Date.now() / 1000;
      const load = runUclient({ port: gw.ports.get(LISTENER)!, peerPort: peer.port, sessions: SESSIONS, messages: MESSAGES,
        size: 100, intervalMs: INTERVAL_MS });
      const result = await load.done;
      const loadEnd = Date.now() / 1000;
      assert.equal(result.code, 0, result.output);
      assert.equal(result.sent, SESSIONS * MESSAGES);
      assert.equal(result.lost, 0, result.output);
      const transmitS = Number(/Total transmit time is (\d+)/.exec(result.output)?.[1]);
      assert.ok(transmitS > 0, result.output);

      // The gateway counted every message uclient sent; Prometheus catches up within a few scrapes.
      assert.equal(sample(await gw.scrape(), tx), result.sent);
      const last = await until('Prometheus to scrape the final count', 15_000, async () => {
        const r = await prom.query(`${tx}[1m]`);
        const points = r.result[0]?.values ?? [];
        const end = points.at(-1);
        return end !== undefined && Number(end[1]) === result.sent ? { at: end[0], first: points[0] } : undefined;
      });
      assert.equal(Number(last.first[1]), 0, 'the window starts before the load');

      // increase() evaluated at the last sample's timestamp over a window starting at a 0 sample is exact: there
      // is nothing to extrapolate at either end (a counter's start is extrapolated no further than its zero).
      const windowS = Math.ceil(last.at - Number(last.first[0])) + 1;
      const increase = await prom.query(`increase(stunner_cluster_packets_total{direction="tx"}[${windowS}s])`, last.at);
      assert.deepEqual(values(increase), new Map([
        [JSON.stringify({ cluster: CLUSTER, direction: 'tx', instance: `127.0.0.1:${gw.metricsPort}`, job: 'stunnerd', name: IDLE }), 0],
        [JSON.stringify({ cluster: CLUSTER, direction: 'tx', instance: `127.0.0.1:${gw.metricsPort}`, job: 'stunnerd', name: LISTENER }), result.sent],
      ]));
      const echoed = await prom.query(`sum(increase(stunner_cluster_bytes_total{direction="rx",name="${LISTENER}"}[${windowS}s]))`, last.at);
      assert.equal(single(echoed, 'echoed bytes'), result.received * 100);

      // rate() over the load: the busiest 5 s lies between uclient's average sending rate and what it offers.
      const rx = await prom.queryRange(`rate(stunner_listener_packets_total{direction="rx",name="${LISTENER}"}[5s])`,
        Math.floor(loadStart), Math.ceil(loadEnd), 1);
      const peak = Math.max(...(rx.result[0]?.values ?? []).map(([, v]) => Number(v)));
      const average = result.sent / transmitS;
      assert.ok(peak >= 0.7 * average && peak <= 1.5 * NOMINAL_PPS,
        `peak listener rx rate ${peak.toFixed(0)}/s vs uclient average ${average.toFixed(0)}/s, offered ${NOMINAL_PPS}/s`);

      // sum by (name): one series per listener, the idle one at 0; rx + tx of the busy one near twice the rate.
      const byName = await prom.queryRange(`sum by (name) (rate(stunner_listener_packets_total[5s]))`,
        Math.floor(loadStart), Math.ceil(loadEnd), 1);
      const names = new Map(byName.result.map((s) => [s.metric.name, Math.max(...s.values!.map(([, v]) => Number(v)))]));
      assert.deepEqual([...names.keys()].sort(), [IDLE, LISTENER].sort());
      assert.equal(names.get(IDLE), 0);
      assert.ok(names.get(LISTENER)! >= 1.8 * peak * 0.9, `rx+tx ${names.get(LISTENER)} vs rx ${peak}`);
      t.diagnostic(`uclient sent=${result.sent} in ${transmitS} s (average ${average.toFixed(0)}/s, offered ${NOMINAL_PPS}/s); `
        + `increase(tx)=${result.sent} exact; peak rate(rx[5s])=${peak.toFixed(0)}/s; peak sum by (name) rx+tx=${names.get(LISTENER)!.toFixed(0)}/s`);

      // Allocations: every successful Allocate of the run was alive at its height (uclient opens two relays per
      // session), and at the end only those not yet deleted remain.
      const activeMax = await prom.query(`max_over_time(stunner_allocations_active{name="${LISTENER}"}[${windowS}s])`, last.at);
      // (A requests_total series appears with its first answer, so its total, not its increase(), counts them all.)
      const allocated = await prom.query(`stunner_requests_total{name="${LISTENER}",method="allocate",code="200"}`, last.at);
      assert.equal(single(activeMax, 'max allocations'), 2 * SESSIONS);
      assert.equal(single(allocated, 'allocations made'), 2 * SESSIONS);
      const activeEnd = single(await prom.query(`stunner_allocations_active{name="${LISTENER}"}`, last.at), 'allocations at the end');
      const ended = single(await prom.query(`stunner_allocation_duration_seconds_count{name="${LISTENER}"}`, last.at), 'ended');
      assert.equal(activeEnd, 2 * SESSIONS - ended);
      assert.equal(single(await prom.query(`stunner_allocations_active{name="${IDLE}"}`, last.at), 'idle allocations'), 0);
    } finally {
      await prometheus?.stop();
      await peer.stop();
      exitCode = await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(exitCode, 0, gw.proc.output());
  });
