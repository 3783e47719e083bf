// Every PromQL query of the Grafana dashboards, evaluated by a real Prometheus that scraped the real stunnerd
// while coturn's turnutils_uclient relayed through it: no query may fail, and every one must return data. Targets
// of other data sources (TraceQL for Tempo) are listed as skipped, by name: dashboards-static.test.ts checks them.
// Needs: Prometheus (.ci/tools-prometheus.sh), coturn's turnutils_uclient/turnutils_peer (apt-get install -y coturn).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort } from './support/ports.ts';
import { PrometheusServer } from './support/prometheus-server.ts';
import type { PromResult } from './support/prometheus-server.ts';
import { startStunnerd } from './support/stunnerd-process.ts';
import type { StunnerdProcess } from './support/stunnerd-process.ts';
import { runUclientLoad } from './support/turn-load.ts';
import { waitFor } from './support/child.ts';
import { loadDashboards, parseLabelValues, queriesOf, substitute, targetsOf, variablesOf } from './support/dashboards.ts';

const LISTENER = 'udp-listener';
const CLUSTER = 'loopback-peers';
const USER = 'user';
const PASSWORD = 'pass';
const SCRAPE_S = 1;
// What Grafana puts in $__rate_interval for a 1 s scrape interval is 4 s; the test reads a minute back instead so that
// the whole load run is inside every rate window when the queries run after it.
const RATE_INTERVAL = '1m';
// Series that exist under this load but stay at zero by design.
const QUIET = /stunner_send_dropped_packets_total/;

const dashboards = loadDashboards();
const queries = dashboards.flatMap(queriesOf);
const notPromQL = dashboards.flatMap(targetsOf).filter((t) => t.datasource.type !== 'prometheus');
const variables = dashboards.flatMap(variablesOf).filter((v) => v.type === 'query');

describe('dashboard queries against Prometheus scraping stunnerd under turnutils_uclient load', { timeout: 180_000 }, () => {
  let dir = '';
  let stunnerd: StunnerdProcess | undefined;
  let prometheus: PrometheusServer | undefined;
  let loadStartS = 0;
  let instance = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stunner-dashboards-'));
    const [turnPort, metricsPort, healthPort, peerPort] =
      [await freeUdpPort(), await freeTcpPort(), await freeTcpPort(), await freeUdpPort()];
    instance = `127.0.0.1:${metricsPort}`;
    stunnerd = await startStunnerd({
      dir,
      metricsUrl: `http://${instance}/metrics`,
      config: {
        version: 'v1',
        admin: {
          name: 'dashboard-test',
          loglevel: 'all:WARN',
          metrics_endpoint: `http://${instance}/metrics`,
          healthcheck_endpoint: `http://127.0.0.1:${healthPort}`,
          limits: { unauthenticated_rate: 0, drain_timeout: 5 },
        },
        auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: USER, password: PASSWORD } },
        listeners: [{ name: LISTENER, protocol: 'TURN-UDP', address: '127.0.0.1', port: turnPort, routes: [CLUSTER] }],
        clusters: [{ name: CLUSTER, type: 'STATIC', protocol: 'UDP', endpoints: ['127.0.0.1/32'] }],
      },
    });
    prometheus = await PrometheusServer.start({ dir: join(dir, 'prom'), job: 'stunner', targets: [instance], scrapeIntervalS: SCRAPE_S });
    const prom = prometheus;
    await waitFor('the first scrape of stunnerd', async () => {
      const r = await prom.query(`up{instance="${instance}"} == 1`);
      return r.result.length > 0 ? true : undefined;
    }, { timeoutMs: 20_000 });

    loadStartS = Date.now() / 1000;
    // Datagrams that are neither STUN nor ChannelData: the gateway drops them as malformed. Sent before and after the
    // load, so that the drop counter is scraped at two different values and has a rate.
    await sendGarbage(turnPort, 10);
    const load = await runUclientLoad({ turnPort, user: USER, password: PASSWORD, peerPort,
      sessions: 10, size: 100, messages: 300, intervalMs: 5, timeoutMs: 60_000 });
    assert.equal(load.exitCode, 0, `turnutils_uclient failed:\n${load.output.slice(-4000)}`);
    await sendGarbage(turnPort, 10);
    // A reload of the unchanged file: stunner_config_reloads_total{result="success"} gets a sample.
    stunnerd.reload();

    // The last allocation has ended (uclient deletes them) and Prometheus has seen it: the state the queries describe.
    await waitFor('Prometheus to see the ended allocations', async () => {
      const r = await prom.query(`stunner_allocation_duration_seconds_count{instance="${instance}"} > 0`);
      return r.result.length > 0 ? true : undefined;
    }, { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 3 * SCRAPE_S * 1000));
  });

  after(async () => {
    await prometheus?.stop();
    await stunnerd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const all: Record<string, string> = { job: '.*', instance: '.*', listener: '.*', cluster: '.*', __rate_interval: RATE_INTERVAL,
    __interval: `${SCRAPE_S}s`, __range: RATE_INTERVAL };

  test('the dashboards have queries and template variables to evaluate', () => {
    assert.ok(queries.length >= 20, `${queries.length} queries`);
    assert.ok(variables.length >= 3, `${variables.length} variables`);
  });

  for (const t of notPromQL) {
    test(`${t.dashboard} "${t.panel}" ${t.refId}: not PromQL`, { skip: `a ${t.datasource.type} target, checked by dashboards-static.test.ts` },
      () => {});
  }

  for (const v of variables) {
    test(`variable ${v.dashboard} $${v.name} lists values`, async () => {
      const lv = parseLabelValues(v.query);
      assert.ok(lv, v.query);
      const now = Date.now() / 1000;
      const values = await prometheus!.labelValues(lv.label, substitute(lv.selector, all), loadStartS - 60, now);
      assert.ok(values.length > 0, `${v.query} returned no values`);
      const expected: Record<string, string> = { job: 'stunner', instance, listener: LISTENER, cluster: CLUSTER };
      if (expected[v.name]) assert.ok(values.includes(expected[v.name]), `${v.name}: ${values.join(', ')}`);
    });
  }

  for (const selection of ['All', 'one listener and cluster'] as const) {
    for (const q of queries) {
      test(`${q.dashboard} "${q.panel}" ${q.refId} (${selection}) evaluates and returns data`, async () => {
        const values = selection === 'All' ? all : { ...all, job: 'stunner', instance, listener: LISTENER, cluster: CLUSTER };
        const expr = substitute(q.expr, values);
        assert.doesNotMatch(expr, /\$/, `unsubstituted variable in ${expr}`);
        const end = Date.now() / 1000;
        const range: PromResult = await prometheus!.queryRange(expr, loadStartS - 5, end, SCRAPE_S);
        assert.ok(range.result.length > 0, `no series for ${expr}`);
        const instant = await prometheus!.query(expr, end);
        assert.ok(instant.result.length > 0, `no series now for ${expr}`);
        // A traffic or request rate (not a ratio) must have moved during the load run. Send drops are the exception:
        // they need a kernel send queue that stays full, which loopback under this load never has; the congested-link
        // fault tests (test-faults/peer-faults.test.ts) make them move and read them from /metrics.
        if (/_(packets|bytes)_total|stunner_requests_total/.test(expr) && !expr.includes('/') && !QUIET.test(expr)) {
          const moved = range.result.some((s) => (s.values ?? []).some(([, v]) => Number(v) !== 0));
          assert.ok(moved, `${expr}: only zeros during the load run`);
        }
      });
    }
  }

  // Grafana sends an exemplar target's expression to /api/v1/query_exemplars as well. Only that Prometheus accepts
  // it is checked here: this stunnerd runs without traces and this Prometheus without exemplar storage, so the
  // answer is empty.
  for (const q of queries.filter((x) => x.exemplar)) {
    test(`${q.dashboard} "${q.panel}" ${q.refId}: Prometheus accepts its exemplar query`, async () => {
      const body = new URLSearchParams({ query: substitute(q.expr, all), start: String(loadStartS - 5), end: String(Date.now() / 1000) });
      const res = await fetch(`${prometheus!.url}/api/v1/query_exemplars`, { method: 'POST', body });
      const json = (await res.json()) as { status: string; error?: string; data?: unknown };
      assert.equal(json.status, 'success', json.error);
      assert.ok(Array.isArray(json.data));
    });
  }
});

function sendGarbage(port: number, count: number): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    let sent = 0;
    const next = (): void => {
      if (sent++ === count) { socket.close(); resolve(); return; }
      socket.send(Buffer.from('not a STUN message'), port, '127.0.0.1', (err) => (err ? reject(err) : next()));
    };
    next();
  });
}
