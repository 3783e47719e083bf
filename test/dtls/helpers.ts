// Test fixtures for the DTLS server: certificates made by the openssl CLI, raw ClientHellos, and a
// real DTLS client (werift-dtls's) on a loopback socket.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DtlsClient } from 'werift-dtls/lib/dtls/src/index.js';

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface CertPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
}

/** A self-signed certificate and key from the openssl CLI, in a fresh temp dir. */
export function makeCert(kind: 'rsa' | 'ec', commonName: string, rsaBits = 2048): CertPair {
  const dir = mkdtempSync(join(tmpdir(), 'dtls-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const keyArgs = kind === 'rsa' ? ['-newkey', `rsa:${rsaBits}`] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${commonName}`], {
    stdio: 'ignore',
  });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

export interface CertChain {
  /** The leaf, then the intermediate that issued it, PEM. */
  readonly chain: string;
  readonly leaf: string;
  readonly intermediate: string;
  readonly key: string;
  /** The self-signed root, the only thing a client is given to trust. */
  readonly rootFile: string;
}

/** root CA → intermediate CA → leaf (RSA-2048 each, so the chain is longer than one handshake fragment). */
export function makeChain(commonName: string): CertChain {
  const dir = mkdtempSync(join(tmpdir(), 'dtls-chain-'));
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(f('leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('root.key'), '-out', f('root.pem'), '-days', '2',
    '-subj', `/CN=${commonName} root`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const issue = (name: string, cn: string, ca: string, ext: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial',
      '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(ext)]);
  };
  issue('intermediate', `${commonName} intermediate`, 'root', 'ca.ext');
  issue('leaf', commonName, 'intermediate', 'leaf.ext');
  const leaf = readFileSync(f('leaf.pem'), 'utf8');
  const intermediate = readFileSync(f('intermediate.pem'), 'utf8');
  return { chain: leaf + intermediate, leaf, intermediate, key: readFileSync(f('leaf.key'), 'utf8'), rootFile: f('root.pem') };
}

export async function boundSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

export function nextMessage(socket: Socket, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error('no datagram in time'));
    }, timeoutMs);
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer);
      resolve(msg);
    };
    socket.once('message', onMessage);
  });
}

export interface ClientHelloFields {
  readonly cookie?: Uint8Array;
  readonly random?: Uint8Array;
  readonly recordSequence?: number;
  readonly suites?: readonly number[];
  /** Raw extensions block contents (without its 2-byte length). */
  readonly extensions?: Uint8Array;
}

/** The extensions OpenSSL sends that werift needs: supported_groups, point formats, signature_algorithms, EMS. */
export const TYPICAL_EXTENSIONS = Buffer.from([
  0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, // supported_groups: x25519, secp256r1
  0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats: uncompressed
  0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x04, 0x01, // signature_algorithms: ecdsa+sha256, rsa+sha256
  0x00, 0x17, 0x00, 0x00, // extended_master_secret
  0xff, 0x01, 0x00, 0x01, 0x00, // renegotiation_info
]);

/** A whole DTLS 1.2 ClientHello datagram (RFC 6347 §4.2.1) built byte by byte. */
export function buildClientHello(fields: ClientHelloFields = {}): Buffer {
  const random = fields.random ?? randomBytes(32);
  const cookie = fields.cookie ?? Buffer.alloc(0);
  const suites = fields.suites ?? [0xc02b, 0xc02f];
  const extensions = fields.extensions ?? TYPICAL_EXTENSIONS;
  const suiteBytes = Buffer.alloc(2 + suites.length * 2);
  suiteBytes.writeUInt16BE(suites.length * 2, 0);
  suites.forEach((s, i) => suiteBytes.writeUInt16BE(s, 2 + i * 2));
  const extLength = Buffer.alloc(2);
  extLength.writeUInt16BE(extensions.length, 0);
  const body = Buffer.concat([
    Buffer.from([0xfe, 0xfd]),
    random,
    Buffer.from([0]), // session_id
    Buffer.from([cookie.length]),
    cookie,
    suiteBytes,
    Buffer.from([1, 0]), // compression: null
    extLength,
    extensions,
  ]);
  const hs = Buffer.alloc(12);
  hs[0] = 1;
  hs.writeUIntBE(body.length, 1, 3);
  hs.writeUInt16BE(cookie.length > 0 ? 1 : 0, 4);
  hs.writeUIntBE(0, 6, 3);
  hs.writeUIntBE(body.length, 9, 3);
  const record = Buffer.alloc(13);
  record[0] = 22;
  record.writeUInt16BE(0xfefd, 1);
  record.writeUIntBE(fields.recordSequence ?? 0, 5, 6);
  record.writeUInt16BE(hs.length + body.length, 11);
  return Buffer.concat([record, hs, body]);
}

/** The cookie of a HelloVerifyRequest datagram (record 13 + handshake header 12 + version 2). */
export function cookieFromHelloVerifyRequest(datagram: Buffer): Buffer {
  if (datagram[0] !== 22 || datagram[13] !== 3) throw new Error('not a HelloVerifyRequest');
  const at = 13 + 12 + 2;
  return datagram.subarray(at + 1, at + 1 + datagram[at]);
}

/** Sends a ClientHello, answers the HelloVerifyRequest with its cookie, and returns what follows. */
export async function passCookieExchange(socket: Socket, port: number, random = randomBytes(32)): Promise<void> {
  const reply = nextMessage(socket);
  socket.send(buildClientHello({ random }), port, '127.0.0.1');
  const cookie = cookieFromHelloVerifyRequest(await reply);
  socket.send(buildClientHello({ random, cookie, recordSequence: 1 }), port, '127.0.0.1');
}

export interface WeriftPeer {
  readonly client: DtlsClient;
  readonly socket: Socket;
  /** Every datagram the client sent after its handshake, in order. */
  readonly sent: Buffer[];
  /** Resolves when the client receives an alert (e.g. the server's close_notify). */
  readonly closed: Promise<void>;
  /** Resolves with the next application datagram the client decrypts. */
  nextData(timeoutMs?: number): Promise<Buffer>;
  close(): void;
}

/** A werift-dtls client connected to 127.0.0.1:port over its own socket (or the given one). */
export async function connectWeriftClient(port: number, socket?: Socket): Promise<WeriftPeer> {
  const sock = socket ?? (await boundSocket());
  const sent: Buffer[] = [];
  let connected = false;
  const transport = {
    type: 'udp',
    address: sock.address(),
    closed: false,
    onData: (_data: Buffer): void => undefined,
    send: async (data: Buffer): Promise<void> => {
      if (connected) sent.push(Buffer.from(data));
      sock.send(data, port, '127.0.0.1');
    },
    close: async (): Promise<void> => undefined,
  };
  const onMessage = (msg: Buffer): void => transport.onData(msg);
  sock.on('message', onMessage);
  const client = new DtlsClient({ transport, extendedMasterSecret: true });
  const queue: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  client.onData.subscribe((data: Buffer) => {
    const waiter = waiters.shift();
    if (waiter) waiter(data);
    else queue.push(data);
  });
  const closed = new Promise<void>((resolve) => client.onClose.subscribe(() => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('DTLS client did not connect')), 5000);
    client.onConnect.subscribe(() => {
      clearTimeout(timer);
      connected = true;
      resolve();
    });
    client.connect();
  });
  return {
    client,
    socket: sock,
    sent,
    closed,
    nextData: (timeoutMs = 2000) =>
      new Promise<Buffer>((resolve, reject) => {
        const queued = queue.shift();
        if (queued) return resolve(queued);
        const timer = setTimeout(() => reject(new Error('no application data in time')), timeoutMs);
        waiters.push((b) => {
          clearTimeout(timer);
          resolve(b);
        });
      }),
    close: () => {
      sock.off('message', onMessage);
      if (socket === undefined) sock.close();
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` is true or the time is up; returns whether it became true. */
export async function eventually(check: () => boolean, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}
