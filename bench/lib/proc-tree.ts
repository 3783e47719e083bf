// CPU of a process together with its descendants (a shell, the `timeout` it runs, the uclient under that).
import { readFileSync } from 'node:fs';
import { cpuSeconds } from './proc.ts';

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** User + system CPU seconds of `pid` and its live descendants so far (0 for a process already gone). */
export function treeCpuSeconds(pid: number): number {
  let sum: number;
  try {
    sum = cpuSeconds(pid);
  } catch {
    return 0;
  }
  for (const c of children(pid)) sum += treeCpuSeconds(c);
  return sum;
}
