#!/usr/bin/env node
// turncat: tunnels a local UDP port to a peer through a TURN server, as upstream's turncat.
//   turncat udp://127.0.0.1:5000 turn://user:pass@host:3478 udp://10.0.0.1:9000
import { parseArgs } from 'node:util';
import { Turncat, parseUdpUri } from '../client/turncat.ts';
import { parseTurnUri } from '../config/uri.ts';
import { LoggerFactory } from '../log/logger.ts';

const HELP = `Usage: turncat [options] <listen udp://addr:port> <server turn://user:pass@host:port[?transport=tcp]> <peer udp://addr:port>

Listens on a local UDP address; every local client gets its own TURN allocation, a channel to the peer,
and its datagrams relayed both ways until it is idle for --idle seconds.

Options:
  -l, --log LEVELS   log levels (default all:INFO)
  -v, --verbose      same as -l all:DEBUG
      --idle SEC     close a local client's allocation after SEC idle seconds (default 300)
  -h, --help`;

function fail(msg: string): never {
  process.stderr.write(`turncat: ${msg}\n`);
  process.exit(1);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        log: { type: 'string', short: 'l' },
        verbose: { type: 'boolean', short: 'v' },
        idle: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${HELP}`);
  }
})();
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (positionals.length !== 3) fail(`want 3 arguments, got ${positionals.length}\n${HELP}`);
let listen, server, peer;
try {
  listen = parseUdpUri(positionals[0]);
  server = parseTurnUri(positionals[1]);
  peer = parseUdpUri(positionals[2]);
} catch (err) {
  fail((err as Error).message);
}
if (server.protocol !== 'TURN-UDP' && server.protocol !== 'TURN-TCP' && server.protocol !== 'TURN-TLS') {
  fail(`server: ${server.protocol} is not supported by turncat (udp, tcp, tls are)`);
}
const idle = values.idle === undefined ? 300 : Number(values.idle);
if (!Number.isFinite(idle) || idle <= 0) fail(`--idle: want seconds > 0, got "${values.idle}"`);
const logs = new LoggerFactory({ levels: values.verbose ? 'all:DEBUG' : values.log ?? 'all:INFO' });
const cat = new Turncat({ listen, server, peer, idleSeconds: idle, logger: logs.get('turncat') });
try {
  await cat.start();
} catch (err) {
  fail((err as Error).message);
}
// Once: under npm or a terminal the same Ctrl-C may arrive twice (from the terminal and forwarded by npm).
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= cat.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
