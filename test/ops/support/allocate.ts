// One Allocate by a fresh client, reduced to the code it was answered with (200 on success).
import { TurnClient, TurnClientError } from '../../../src/client/turn-client.ts';

export interface AllocateAs {
  readonly kind: 'udp' | 'tls';
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

export async function allocateCode(o: AllocateAs): Promise<number> {
  const c = await TurnClient.connect({ ...o, host: '127.0.0.1', rtoMs: 250, tls: { rejectUnauthorized: false } });
  try {
    return await allocateOutcome(c);
  } finally {
    c.close();
  }
}

/** The code an Allocate by `c` is answered with (200 on success). */
export async function allocateOutcome(c: TurnClient): Promise<number> {
  try {
    await c.allocate();
    return 200;
  } catch (err) {
    if (err instanceof TurnClientError) return err.code;
    throw err;
  }
}
