// Process figures only Linux's /proc gives (as the Go process collector and prom-client read them). Every reader
// returns undefined where there is no /proc, so the series is absent rather than a misleading zero.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStatus {
  readonly residentBytes?: number;
  readonly virtualBytes?: number;
  /** VmData: prom-client's process_heap_bytes. */
  readonly dataBytes?: number;
}

/** Parses /proc/self/status lines such as `VmRSS:     1234 kB`. */
export function parseProcStatus(text: string): ProcStatus {
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  return { residentBytes: kb('VmRSS'), virtualBytes: kb('VmSize'), dataBytes: kb('VmData') };
}

/** The soft limit from /proc/self/limits `Max open files  1024  1048576  files`; undefined when unlimited. */
export function parseMaxOpenFiles(text: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m === null || m[1] === 'unlimited' ? undefined : Number(m[1]);
}

export function readProcStatus(): ProcStatus | undefined {
  const text = readOptional('/proc/self/status');
  return text === undefined ? undefined : parseProcStatus(text);
}

export function readMaxOpenFiles(): number | undefined {
  const text = readOptional('/proc/self/limits');
  return text === undefined ? undefined : parseMaxOpenFiles(text);
}

export function countOpenFds(): number | undefined {
  try {
    // readdir holds one descriptor on the directory itself while listing it.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
