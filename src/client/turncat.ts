// The engine of the turncat command: a local UDP socket whose every client source is tunnelled through
// its own TURN allocation and channel to one peer.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { TurnUri } from '../config/uri.ts';
import { RateLimitedLog, type Logger } from '../log/logger.ts';
import type { TransportAddress } from '../stun/address.ts';
import { TurnClient } from './turn-client.ts';

export interface UdpUri {
  readonly host: string;
  readonly port: number;
}

/** `udp://host:port` (IPv6 in brackets). */
export function parseUdpUri(uri: string): UdpUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`invalid address ${JSON.stringify(uri)}: want udp://host:port`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'udp:' || url.port === '' || isIP(host) === 0) {
    throw new Error(`invalid address ${JSON.stringify(uri)}: want udp://<ip>:<port>`);
  }
  return { host, port: Number(url.port) };
}

export interface TurncatOptions {
  readonly listen: UdpUri;
  readonly server: TurnUri;
  readonly peer: UdpUri;
  readonly idleSeconds: number;
  readonly logger: Logger;
  readonly channel?: number;
}

interface Session {
  client: TurnClient | undefined;
  ready: Promise<TurnClient>;
  lastSeen: number;
}

export class Turncat {
  readonly #opts: TurncatOptions;
  readonly #sessions = new Map<string, Session>();
  /** ICMP errors the gateway passes on (the peer is not there): one line per client per 10 s. */
  readonly #icmpLog = new RateLimitedLog();
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: TurncatOptions) {
    this.#opts = opts;
  }

  get address(): { address: string; port: number } {
    return this.#socket!.address();
  }

  async start(): Promise<void> {
    const { listen } = this.#opts;
    const s = createSocket(isIP(listen.host) === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(listen.port, listen.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', (err) => this.#opts.logger.warn('local socket error', { error: err.message }));
    s.on('message', (m, r) => this.#onLocal(m, r));
    this.#socket = s;
    this.#timer = setInterval(() => this.#expireIdle(), 5000);
    this.#timer.unref();
    this.#opts.logger.info('listening', { address: `${listen.host}:${s.address().port}` });
  }

  #onLocal(data: Buffer, from: RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let session = this.#sessions.get(key);
    if (session === undefined) {
      const s: Session = { client: undefined, ready: this.#open(from), lastSeen: Date.now() };
      s.ready.then((c) => {
        s.client = c;
      }, (err: Error) => {
        this.#opts.logger.warn('cannot open TURN session', { client: key, error: err.message });
        this.#sessions.delete(key);
      });
      this.#sessions.set(key, s);
      session = s;
    }
    session.lastSeen = Date.now();
    const channel = this.#opts.channel ?? 0x4000;
    if (session.client !== undefined) session.client.sendChannel(channel, data);
    else void session.ready.then((c) => c.sendChannel(channel, data), () => {});
  }

  async #open(from: RemoteInfo): Promise<TurnClient> {
    const { server, peer } = this.#opts;
    const kind = server.protocol === 'TURN-TCP' ? 'tcp' : server.protocol === 'TURN-TLS' ? 'tls' : 'udp';
    const client = await TurnClient.connect({
      kind, host: server.host, port: server.port, username: server.username, password: server.password,
      tls: { rejectUnauthorized: false },
    });
    try {
      const peerAddr: TransportAddress = { family: isIP(peer.host) === 6 ? 6 : 4, address: peer.host, port: peer.port };
      const alloc = await client.allocate({ family: peerAddr.family });
      await client.channelBind(this.#opts.channel ?? 0x4000, peerAddr);
      client.keepAlive([]);
      client.on('data', (d) => this.#socket?.send(d, from.port, from.address));
      const key = `${from.address}:${from.port}`;
      client.on('icmp', (icmp, p) => this.#icmpLog.warn(this.#opts.logger, key, 'peer unreachable', {
        client: key, peer: `${p.address}:${p.port}`, icmp: `type ${icmp.type} code ${icmp.code}`,
      }));
      this.#opts.logger.info('session open', {
        client: `${from.address}:${from.port}`,
        relay: alloc.relayed.map((r) => `${r.address}:${r.port}`).join(','),
      });
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  #expireIdle(): void {
    const limit = Date.now() - this.#opts.idleSeconds * 1000;
    for (const [key, s] of this.#sessions) {
      if (s.lastSeen >= limit) continue;
      this.#sessions.delete(key);
      void s.ready.then(async (c) => {
        await c.refresh(0).catch(() => {});
        c.close();
      }, () => {});
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.#sessions.values()].map((s) => s.ready.then(async (c) => {
      await c.refresh(0).catch(() => {});
      c.close();
    }, () => {})));
    this.#sessions.clear();
    this.#socket?.close();
  }
}
