// Parsing of /proc/self/status and /proc/self/limits (the series that are absent where there is no /proc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseMaxOpenFiles, parseProcStatus, countOpenFds, readMaxOpenFiles, readProcStatus } from '../../src/telemetry/proc-stats.ts';

const STATUS = `Name:\tnode
VmPeak:\t 1110044 kB
VmSize:\t 1045280 kB
VmLck:\t       0 kB
VmHWM:\t   58212 kB
VmRSS:\t   52716 kB
VmData:\t  123456 kB
Threads:\t11
`;

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             62703                62703                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('proc: /proc/self/status fields in bytes', () => {
  assert.deepEqual(parseProcStatus(STATUS), {
    residentBytes: 52716 * 1024, virtualBytes: 1045280 * 1024, dataBytes: 123456 * 1024,
  });
});

test('proc: a status text without the fields gives undefined, not zero', () => {
  assert.deepEqual(parseProcStatus('Name:\tnode\n'), { residentBytes: undefined, virtualBytes: undefined, dataBytes: undefined });
});

test('proc: max open files is the soft limit; unlimited or missing is undefined', () => {
  assert.equal(parseMaxOpenFiles(LIMITS), 1024);
  assert.equal(parseMaxOpenFiles(LIMITS.replace('1024                 524288', 'unlimited            unlimited')), undefined);
  assert.equal(parseMaxOpenFiles('Limit Soft Hard Units\n'), undefined);
});

test('proc: the live readers agree with this machine', { skip: !existsSync('/proc/self/status') && 'no /proc here' }, () => {
  const s = readProcStatus();
  assert.ok(s?.residentBytes !== undefined && s.residentBytes > 1e6);
  const fds = countOpenFds();
  assert.ok(fds !== undefined && fds >= 3, `open fds ${fds}`);
  const max = readMaxOpenFiles();
  assert.ok(max === undefined || max >= fds);
});
