// How many dataplane workers to run by default: the CPUs this process may use. That is the smaller of the
// CPUs the scheduler lets it run on and its cgroup's CPU quota (a Kubernetes CPU limit), rounded up.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function defaultWorkerCount(): number {
  const cpus = availableParallelism();
  const quota = cgroupCpuQuota();
  return Math.max(1, quota === undefined ? cpus : Math.min(cpus, Math.ceil(quota)));
}

/** CPUs the cgroup may use (quota / period), undefined when unlimited or unknown. cgroup v2, then v1. */
export function cgroupCpuQuota(read: (path: string) => string | undefined = readText): number | undefined {
  const self = read('/proc/self/cgroup') ?? '';
  const v2 = /^0::(.*)$/m.exec(self)?.[1];
  if (v2 !== undefined) {
    // The process's own cgroup, then the mount root (containers often see "/").
    for (const dir of [`/sys/fs/cgroup${v2 === '/' ? '' : v2}`, '/sys/fs/cgroup']) {
      const max = read(`${dir}/cpu.max`);
      if (max === undefined) continue;
      const [quota, period] = max.trim().split(/\s+/);
      if (quota === 'max') return undefined;
      const q = Number(quota) / Number(period);
      return Number.isFinite(q) && q > 0 ? q : undefined;
    }
  }
  const v1 = /^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(.*)$/m.exec(self)?.[1];
  for (const dir of v1 === undefined ? [] : [`/sys/fs/cgroup/cpu${v1 === '/' ? '' : v1}`, '/sys/fs/cgroup/cpu']) {
    const quota = Number(read(`${dir}/cpu.cfs_quota_us`));
    const period = Number(read(`${dir}/cpu.cfs_period_us`));
    if (Number.isFinite(quota) && quota !== 0 && period > 0) return quota > 0 ? quota / period : undefined;
  }
  return undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
