// Runs one of the TypeScript commands (src/cmd/*.ts) for a package bin. Node >= 22.18 runs the sources directly
// (type stripping). An older node cannot load .ts files (Debian 12's 18, NodeSource's 20: ERR_UNKNOWN_FILE_EXTENSION),
// so the command runs as a child of bin/node.sh, which finds or installs a recent Node.js, and signals are
// passed on to it: SIGHUP reloads stunnerd, SIGTERM drains it, SIGINT stops either command.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const STRIPS_TYPES = major > 22 || (major === 22 && minor >= 18);
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** @param {URL} entry the command's .ts file */
export async function runTsCommand(entry) {
  if (STRIPS_TYPES) {
    await import(entry.href);
    return;
  }
  const nodeSh = fileURLToPath(new URL('node.sh', import.meta.url));
  // A process group of its own: a Ctrl-C or a group kill reaches the command once, through the forwarding below.
  const child = spawn('sh', [nodeSh, fileURLToPath(entry), ...process.argv.slice(2)], { stdio: 'inherit', detached: true });
  for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
