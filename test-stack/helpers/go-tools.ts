// The Go programs the stack tests run — otelcol-stunner (otel-collector/builder-config.yaml) and Jaeger v2
// (.ci/jaeger) — as built by .ci/go-tools.sh into its cache, whose paths.env names them. A missing or stale build
// fails the test with the command that makes it: `npm run test:stack` runs that command first.
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');

export interface GoTools {
  /** The collector binary (otelcol-stunner). */
  readonly otelcol: string;
  /** The Jaeger v2 binary. */
  readonly jaeger: string;
}

/** The cache .ci/go-tools.sh builds into (the same default as there). */
export function goToolsCache(): string {
  return process.env.STUNNER_GO_TOOLS
    ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'stunner-otel', 'go-tools');
}

function sha12(file: string): string {
  return createHash('sha256').update(readFileSync(join(REPO, file))).digest('hex').slice(0, 12);
}

let found: GoTools | undefined;

/** The binaries built from the current builder-config.yaml and .ci/jaeger/go.sum; throws when they are not. */
export function goTools(): GoTools {
  if (found !== undefined) return found;
  const envFile = join(goToolsCache(), 'paths.env');
  const hint = 'run `bash .ci/go-tools.sh` (npm run test:stack does; it needs Go and the Go module proxy)';
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch {
    throw new Error(`${envFile} does not exist: the collector and Jaeger are not built; ${hint}`);
  }
  const paths = new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const tool = (name: string, keyedBy: string): string => {
    const path = paths.get(name);
    if (path === undefined) throw new Error(`${envFile} has no ${name}=; ${hint}`);
    // The directory of a build is named after the hash of what it was built from.
    if (!path.includes(`-${sha12(keyedBy)}/`)) throw new Error(`${path} was built from another ${keyedBy}; ${hint}`);
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`${path} (${name} in ${envFile}) is not an executable; ${hint}`);
    }
    return path;
  };
  found = { otelcol: tool('OTELCOL', 'otel-collector/builder-config.yaml'), jaeger: tool('JAEGER', '.ci/jaeger/go.sum') };
  return found;
}
