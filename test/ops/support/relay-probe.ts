// One allocation held by the project's own TURN client, bound to an echo peer by a channel, so a test can
// prove relaying works at a given moment (echo) or keeps working over a stretch of time (stream).
import { TurnClient } from '../../../src/client/turn-client.ts';

const CHANNEL = 0x4000;

export interface Stream {
  /** Stops sending, waits for late echoes; resolves with what was sent and echoed back. */
  stop(): Promise<{ sent: number; echoed: number }>;
}

export class RelayProbe {
  readonly client: TurnClient;
  #echoed = new Set<number>();
  #waiters = new Map<number, () => void>();
  #seq = 0;

  private constructor(client: TurnClient) {
    this.client = client;
    client.on('data', (data) => {
      const n = data.readUInt32BE(0);
      this.#echoed.add(n);
      this.#waiters.get(n)?.();
    });
  }

  /** Allocates on `port` and binds a channel to the echo peer at 127.0.0.1:`peerPort`. */
  static async open(o: { port: number; peerPort: number; username: string; password: string }): Promise<RelayProbe> {
    const client = await TurnClient.connect({ kind: 'udp', host: '127.0.0.1', port: o.port, username: o.username,
      password: o.password, rtoMs: 250 });
    try {
      await client.allocate();
      await client.channelBind(CHANNEL, { family: 4, address: '127.0.0.1', port: o.peerPort });
    } catch (err) {
      client.close();
      throw err;
    }
    return new RelayProbe(client);
  }

  #send(): number {
    const n = ++this.#seq;
    const b = Buffer.alloc(64);
    b.writeUInt32BE(n, 0);
    this.client.sendChannel(CHANNEL, b);
    return n;
  }

  /** True when one message comes back within `timeoutMs` (three tries: loopback UDP may still drop). */
  async echo(timeoutMs = 1000): Promise<boolean> {
    for (let i = 0; i < 3; i++) {
      const n = this.#send();
      const ok = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        this.#waiters.set(n, () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      this.#waiters.delete(n);
      if (ok) return true;
    }
    return false;
  }

  /** Sends one message every `intervalMs` until stopped. */
  stream(intervalMs = 20): Stream {
    const sent: number[] = [];
    const timer = setInterval(() => sent.push(this.#send()), intervalMs);
    return {
      stop: async () => {
        clearInterval(timer);
        await new Promise((r) => setTimeout(r, 300));
        return { sent: sent.length, echoed: sent.filter((n) => this.#echoed.has(n)).length };
      },
    };
  }

  close(): void {
    this.client.close();
  }
}
