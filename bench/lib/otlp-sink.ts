// An OTLP/HTTP receiver for benchmarks, in a process of its own so that what it spends is not the server's
// CPU nor the benchmark's: it answers every request 200 with an empty Export*ServiceResponse
// and counts requests and body bytes. It decodes nothing and keeps nothing.
// Used as: const sink = await startOtlpSink(); ... sink.url ... await sink.counts(); await sink.stop()
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface SinkCounts {
  /** Requests answered so far. */
  readonly requests: number;
  /** Body bytes received so far (as sent: compressed if the exporter compressed). */
  readonly bytes: number;
  /** Requests whose content-type was application/x-protobuf. */
  readonly protobuf: number;
}

export interface OtlpSink {
  readonly pid: number;
  /** http://127.0.0.1:PORT, without a path: the sink answers any path. */
  readonly url: string;
  counts(): Promise<SinkCounts>;
  stop(): Promise<void>;
}

type Reply = { port: number } | { counts: SinkCounts };

export async function startOtlpSink(): Promise<OtlpSink> {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = async (): Promise<Reply> => (await once(child, 'message'))[0] as Reply;
  const ready = await next();
  if (!('port' in ready)) throw new Error('otlp-sink: expected its port first');
  // One question at a time: each answer is the next message.
  let queue = Promise.resolve<unknown>(undefined);
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${ready.port}`,
    counts() {
      const answer = queue.then(async () => {
        const reply = next();
        child.send('counts');
        const r = await reply;
        if (!('counts' in r)) throw new Error('otlp-sink: expected counts');
        return r.counts;
      });
      queue = answer.catch(() => undefined);
      return answer;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function serve(): void {
  const counts = { requests: 0, bytes: 0, protobuf: 0 };
  const server = createServer((req, res) => {
    if ((req.headers['content-type'] ?? '').startsWith('application/x-protobuf')) counts.protobuf++;
    req.on('data', (chunk: Buffer) => (counts.bytes += chunk.length));
    req.on('end', () => {
      counts.requests++;
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send!({ counts: { ...counts } }));
  // The benchmark that started it is gone: so is the sink.
  process.on('disconnect', () => process.exit(0));
}

if (import.meta.main) serve();
