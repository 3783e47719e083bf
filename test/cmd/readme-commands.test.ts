// The README's commands as a newcomer runs them: with a node older than 22.18 first on the PATH (Debian 12's
// 18, NodeSource's 20), which cannot load .ts files, every command shown must work as written. Statically,
// no command runs `node` itself (it must go through an npm script or bin/node.sh) and every script and file a
// command names exists; live, the cheap ones run for real under that PATH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { accessSync, constants, existsSync, globSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freeUdpPort, ROOT } from '../helpers/process.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startEchoPeer } from '../helpers/udp-echo.ts';

interface Command {
  readonly section: string;
  readonly text: string;
  readonly where: 'block' | 'inline';
}

/** The sections a newcomer follows first: each command in them must run from a fresh clone as written. */
const NEWCOMER_SECTIONS = ['Quick start', 'Running stunnerd', 'Development'];
const COMMAND_WORDS = new Set(['npm', 'node', 'sh', 'bash', 'stunnerd', 'turncat', 'curl']);
const ENV_ASSIGNMENT = /^[A-Z_][A-Z0-9_]*=\S*$/;

/** Words of a simple command without its leading VAR=value assignments. */
function words(command: string): string[] {
  const w = command.trim().split(/\s+/).filter((x) => x !== '');
  while (w.length > 0 && ENV_ASSIGNMENT.test(w[0])) w.shift();
  return w;
}

/** An inline span of one word (`stunnerd`, `bin/turncat.js`) names a program; with arguments it is a command. */
function isInlineCommand(text: string): boolean {
  const w = words(text);
  return w.length >= 2 && (COMMAND_WORDS.has(w[0]) || w[0].startsWith('bin/'));
}

/** Lines of ```sh blocks (comments dropped, `\` continuations joined) and inline code spans that start with a
 *  command, each with the `## ` section it is in. */
function readmeCommands(markdown: string): Command[] {
  const out: Command[] = [];
  let section = '';
  let fence: string | undefined;
  let pending = '';
  for (const line of markdown.split('\n')) {
    const fenceMatch = /^\s*```(\w*)/.exec(line);
    if (fenceMatch !== null) {
      fence = fence === undefined ? fenceMatch[1] : undefined;
      continue;
    }
    if (fence === 'sh') {
      const code = line.replace(/(^|\s)#.*$/, '').trimEnd();
      if (code.endsWith('\\')) {
        pending += `${code.slice(0, -1)} `;
        continue;
      }
      const text = (pending + code).trim();
      pending = '';
      if (text !== '') out.push({ section, text, where: 'block' });
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^## (.+)$/.exec(line);
    if (heading !== null) section = heading[1].trim();
    for (const m of line.matchAll(/`([^`]+)`/g)) {
      if (isInlineCommand(m[1])) out.push({ section, text: m[1], where: 'inline' });
    }
  }
  return out;
}

/** The simple commands of a command line (`a && b | c`). */
function simpleCommands(text: string): string[] {
  return text.split(/&&|\|\||[;|]/).map((s) => s.trim()).filter((s) => s !== '');
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const COMMANDS = readmeCommands(README);
const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

function find(section: string, prefix: string): string {
  const found = COMMANDS.filter((c) => c.section === section && c.text.startsWith(prefix));
  assert.ok(found.length > 0, `README "${section}" shows no command starting "${prefix}"`);
  return found[0].text;
}

test('README: no command runs node directly; every npm script and file a command names exists', () => {
  // Enough to be sure the extraction works: the README shows far more than this.
  assert.ok(COMMANDS.length >= 25, `only ${COMMANDS.length} commands found`);
  for (const s of NEWCOMER_SECTIONS) {
    assert.ok(COMMANDS.filter((c) => c.section === s).length >= 3, `README section "${s}" has fewer than 3 commands`);
  }
  let checked = 0;
  for (const c of COMMANDS) {
    for (const simple of simpleCommands(c.text)) {
      const [word, ...args] = words(simple);
      if (word === undefined) continue;
      checked++;
      const where = `README "${c.section}": \`${c.text}\``;
      // Node >= 22.18 runs .ts; an older node (Debian 12's) fails with ERR_UNKNOWN_FILE_EXTENSION.
      assert.notEqual(word, 'node', `${where}: run it through bin/node.sh or an npm script, not node`);
      if (c.where === 'block' || NEWCOMER_SECTIONS.includes(c.section)) {
        assert.ok(word !== 'stunnerd' && word !== 'turncat', `${where}: not on the PATH of a clone; use npm start / npm run turncat or bin/`);
      }
      if (word === 'npm') {
        const [verb, name] = args;
        if (verb === 'start' || verb === 'test') assert.ok(SCRIPTS[verb] !== undefined, `${where}: no "${verb}" script`);
        if (verb === 'run') assert.ok(SCRIPTS[name] !== undefined, `${where}: no npm script "${name}"`);
      }
      const files = word === 'sh' || word === 'bash' ? args.filter((a) => !a.startsWith('-') && /\.(ts|sh|js)$/.test(a))
        : word.startsWith('bin/') ? [word] : [];
      for (const f of files) {
        if (f.includes('*')) assert.ok(globSync(f, { cwd: ROOT }).length > 0, `${where}: ${f} matches nothing`);
        else assert.ok(existsSync(join(ROOT, f)), `${where}: ${f} does not exist`);
      }
      if (word.startsWith('bin/')) accessSync(join(ROOT, word), constants.X_OK);
    }
  }
  assert.ok(checked >= COMMANDS.length);
  // The package's bins and the npm scripts a newcomer uses go through bin/node.sh or re-exec through it.
  for (const name of ['start', 'turncat', 'test', 'bench']) assert.match(SCRIPTS[name], /^sh bin\/node\.sh /, `script ${name}`);
});

/** A node older than 22.18: the machine's (Debian's or NodeSource's). OLD_NODE names another. */
const OLD_NODE = process.env.OLD_NODE ?? '/usr/bin/node';

function oldNodePath(): string {
  assert.ok(existsSync(OLD_NODE), `${OLD_NODE} is missing: these checks need a Node.js older than 22.18 ` +
    '(apt-get install nodejs, or OLD_NODE=/path/to/node)');
  const version = execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).trim();
  const [major, minor] = version.slice(1).split('.').map(Number);
  assert.ok(major < 22 || (major === 22 && minor < 18), `${OLD_NODE} is ${version}: want one older than 22.18 (OLD_NODE=...)`);
  return [dirname(OLD_NODE), '/usr/bin', '/bin'].filter((d, i, all) => all.indexOf(d) === i).join(':');
}

/** The environment of a newcomer's shell: the old node first on the PATH, nothing of this test runner's. */
function newcomerEnv(path: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|NODE_TEST_CONTEXT$|NODE_OPTIONS$|NODE$|INIT_CWD$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra, PATH: path };
}

interface Ran {
  readonly code: number | null;
  readonly out: string;
}

/** Runs a README command line with sh in the repository root; the whole process group is killed after
 *  `timeoutMs` or when `until` resolves. */
function sh(command: string, env: NodeJS.ProcessEnv, timeoutMs = 20_000, until?: (out: () => string) => Promise<void>): Promise<Ran> {
  const child = spawn('sh', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // gone already
    }
  };
  const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
  const stopped = until === undefined ? exited : until(() => out).finally(() => kill('SIGTERM')).then(() => exited);
  return stopped.then((code) => ({ code, out }), (err: Error) => {
    kill('SIGKILL');
    throw new Error(`${command}: ${err.message}\n${out}`);
  }).finally(() => clearTimeout(timer));
}

test('README commands run as written with a node older than 22.18 on the PATH', { timeout: 120_000 }, async (t) => {
  const path = oldNodePath();
  const env = newcomerEnv(path);
  assert.match(execFileSync('sh', ['-c', 'node --version'], { env, encoding: 'utf8' }), /^v(1\d|20|21|22)\./,
    'the PATH seen by the commands starts with the old node');

  await t.test('npm start -- --help, npm run turncat -- --help', async () => {
    for (const [command, usage] of [[find('Quick start', 'npm start -- --help'), /Usage: stunnerd/],
      [find('Quick start', 'npm run turncat -- --help'), /Usage: turncat/]] as const) {
      const r = await sh(command, env);
      assert.equal(r.code, 0, `${command}:\n${r.out}`);
      assert.match(r.out, usage);
    }
  });

  await t.test('the bins run on the old node: bin/stunnerd.js --version, bin/turncat.js --help', async () => {
    assert.ok(COMMANDS.some((c) => simpleCommands(c.text).some((x) => words(x)[0] === 'bin/stunnerd.js')),
      'the README runs bin/stunnerd.js');
    const v = await sh('bin/stunnerd.js --version', env);
    assert.equal(v.code, 0, v.out);
    const [, major, minor] = /\(node v(\d+)\.(\d+)/.exec(v.out) ?? [];
    assert.ok(Number(major) > 22 || (Number(major) === 22 && Number(minor) >= 18), `stunnerd ran on a node that strips types: ${v.out}`);
    const h = await sh('bin/turncat.js --help', env);
    assert.equal(h.code, 0, h.out);
    assert.match(h.out, /Usage: turncat/);
  });

  await t.test('the quick start turncat line relays to a peer through a gateway like npm start\'s', async () => {
    const line = find('Quick start', 'npm run turncat -- ');
    assert.equal(find('Running stunnerd', 'npm run turncat -- udp:'), line, 'the two sections show the same line');
    // The demo config's credentials and realm on a port free now; the line's fixed ports become free ones.
    const gw = await startGateway({
      auth: { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: 'passwd1' } },
      listeners: [{ name: 'udp', protocol: 'TURN-UDP', address: '127.0.0.1', port: await freeUdpPort(), routes: ['loopback'] }],
    });
    const peer = await startEchoPeer();
    const local = await freeUdpPort();
    const sock = createSocket('udp4');
    try {
      let command = line;
      for (const [from, to] of [['udp://127.0.0.1:5000', `udp://127.0.0.1:${local}`],
        ['@127.0.0.1:3478', `@127.0.0.1:${gw.listeners.get('udp')!.address.port}`],
        ['udp://127.0.0.1:9000', `udp://127.0.0.1:${peer.port}`]]) {
        assert.equal(command.split(from).length, 2, `${line} names ${from} once`);
        command = command.replace(from, to);
      }
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      let echoed = '';
      const r = await sh(command, env, 20_000, async (out) => {
        while (!out().includes('listening')) await new Promise((res) => setTimeout(res, 50));
        const reply = once(sock, 'message', { signal: AbortSignal.timeout(5000) });
        sock.send('hello from the README', local, '127.0.0.1');
        echoed = String((await reply)[0]);
      });
      assert.equal(echoed, 'hello from the README', r.out);
      assert.equal(peer.received, 1);
    } finally {
      sock.close();
      await peer.close();
      await gw.stop();
    }
  });

  await t.test('Development: the one-file test command, the fuzz command, the codec benchmark', async () => {
    const oneFile = find('Development', 'sh bin/node.sh --test ');
    const fuzz = find('Development', 'FUZZ_CASES=');
    const codec = find('Performance', 'sh bin/node.sh bench/codec/');
    for (const [command, check] of [
      [oneFile, /pass [1-9]/],
      [fuzz.replace(/FUZZ_CASES=\d+/, 'FUZZ_CASES=500'), /pass 1\b/], // as shown, with fewer cases
      [codec.replace(/--seconds \S+/, '--seconds 0.01'), /encodeChannelData/],
    ] as const) {
      const r = await sh(command, env, 60_000);
      assert.equal(r.code, 0, `${command}:\n${r.out}`);
      assert.match(r.out, check, command);
      assert.doesNotMatch(r.out, /ERR_UNKNOWN_FILE_EXTENSION|fail [1-9]/, command);
    }
  });
});
