// How many workers by default, and which listeners each worker runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupCpuQuota } from '../../src/dataplane/threads.ts';
import { configForWorker } from '../../src/dataplane/worker-pool.ts';
import { testConfig } from '../helpers/gateway.ts';

const files = (m: Record<string, string>) => (path: string) => m[path];

test('the cgroup CPU quota: v2 cpu.max, v1 cfs quota/period, unlimited and unknown', () => {
  assert.equal(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/kubepods/pod1\n', '/sys/fs/cgroup/kubepods/pod1/cpu.max': '150000 100000\n' })), 1.5);
  assert.equal(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
  // A container that sees its own cgroup as the root.
  assert.equal(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/x\n', '/sys/fs/cgroup/cpu.max': '200000 100000' })), 2);
  assert.equal(cgroupCpuQuota(files({ '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n0::/\n',
    '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' })), 3);
  assert.equal(cgroupCpuQuota(files({ '/proc/self/cgroup': '1:cpu:/\n', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
    '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), undefined);
  assert.equal(cgroupCpuQuota(files({})), undefined);
});

test('listeners that relay to a TCP cluster (RFC 6062) run in worker 0 only; the others everywhere', () => {
  const base = testConfig();
  const config = {
    ...base,
    listeners: [
      { ...base.listeners[0], name: 'udp' },
      { ...base.listeners[0], name: 'tcp-6062', protocol: 'TURN-TCP' as const, routes: ['tcp-media'] },
      { ...base.listeners[0], name: 'tls-udp-only', protocol: 'TURN-TLS' as const },
      { ...base.listeners[0], name: 'udp-to-tcp-cluster', routes: ['tcp-media'] },
    ],
    clusters: [...base.clusters, { name: 'tcp-media', type: 'STATIC' as const, protocol: 'TCP' as const, endpoints: ['127.0.0.1/32'] }],
  };
  assert.deepEqual(configForWorker(config, 0).listeners.map((l) => l.name), ['udp', 'tcp-6062', 'tls-udp-only', 'udp-to-tcp-cluster']);
  assert.deepEqual(configForWorker(config, 1).listeners.map((l) => l.name), ['udp', 'tls-udp-only', 'udp-to-tcp-cluster']);
});
