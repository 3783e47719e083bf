// Locates the Prometheus tools the telemetry tests run for real (promtool, victoria-metrics). A missing tool is a
// test failure with the install command, never a skip.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';

const DEFAULT_DIR = resolve(import.meta.dirname, '../../../.cache/tools/prom/usr/bin');

export function promBinDir(): string {
  return process.env.PROM_BIN_DIR ?? DEFAULT_DIR;
}

export function requireTool(name: 'promtool' | 'victoria-metrics' | 'prometheus'): string {
  const path = join(promBinDir(), name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} not found at ${path}: run \`VM=1 bash .ci/tools-prometheus.sh\` `
      + '(or set PROM_BIN_DIR to a directory holding promtool and victoria-metrics)');
  }
  return path;
}

/** `promtool check metrics` on an exposition: its output (empty when clean) and exit code. */
export function promtoolCheck(promtool: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c: Buffer) => (output += c.toString()));
    p.stderr.on('data', (c: Buffer) => (output += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}
