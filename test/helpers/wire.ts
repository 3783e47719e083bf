// What a TurnClient put on the wire and got back, datagram by datagram: the ground truth the gateway's listener
// counters are compared with. Also a lock-step echo through a channel, so no datagram can be lost in a burst.
import type { TurnClient } from '../../src/client/turn-client.ts';

export interface Wire {
  readonly sent: number[];
  readonly received: number[];
  sentBytes(): number;
  receivedBytes(): number;
}

/** Wraps the client's transport to record the size of every datagram in each direction. */
export function captureWire(client: TurnClient): Wire {
  const sent: number[] = [];
  const received: number[] = [];
  const t = client.transport;
  const send = t.send.bind(t);
  t.send = (frame) => {
    sent.push(frame.length);
    send(frame);
  };
  const onFrame = t.onFrame;
  t.onFrame = (frame) => {
    received.push(frame.length);
    onFrame(frame);
  };
  const sum = (l: number[]): number => l.reduce((a, b) => a + b, 0);
  return { sent, received, sentBytes: () => sum(sent), receivedBytes: () => sum(received) };
}

/** Sends `count` ChannelData messages of `size` bytes one at a time, each waiting for its echo. */
export async function echoLockStep(client: TurnClient, channel: number, count: number, size: number,
  timeoutMs = 5000): Promise<void> {
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(size, i & 0xff);
    const echoed = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('data', onData);
        reject(new Error(`echo ${i + 1} of ${count} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      const onData = (data: Buffer, _peer: unknown, ch: number | undefined): void => {
        if (ch !== channel) return;
        clearTimeout(timer);
        client.off('data', onData);
        resolve(Buffer.from(data));
      };
      client.on('data', onData);
    });
    client.sendChannel(channel, payload);
    const got = await echoed;
    if (!got.equals(payload)) throw new Error(`echo ${i + 1} came back altered (${got.length} bytes)`);
  }
}

/** As echoLockStep, with a pause of `gapMs` after each echo: traffic that lasts about count x gapMs. */
export async function echoPaced(client: TurnClient, channel: number, count: number, size: number, gapMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await echoLockStep(client, channel, 1, size);
    await new Promise((r) => setTimeout(r, gapMs));
  }
}
