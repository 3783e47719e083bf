// Locates the Prometheus tools the telemetry tests run for real (promtool, victoria-metrics). A missing tool is a
// test failure with the install command, never a skip.
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
    throw new Error(`${name} not found at ${path}: run \`VM=1 bash test/telemetry/get-prometheus-tools.sh\` `
      + '(or set PROM_BIN_DIR to a directory holding promtool and victoria-metrics)');
  }
  return path;
}
