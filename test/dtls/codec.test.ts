// The pure parts of the DTLS server: ClientHello view, HelloVerifyRequest bytes, cookies, the replay
// window, record protection and the PRF.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { cookieOf, readClientHello, withoutCookie } from '../../src/server/dtls/client-hello.ts';
import { COOKIE_LENGTH, CookieJar } from '../../src/server/dtls/cookie-jar.ts';
import { encodeHelloVerifyRequest } from '../../src/server/dtls/hello-verify-request.ts';
import { prfSha256 } from '../../src/server/dtls/prf.ts';
import { recordSequence, writeRecordSequence } from '../../src/server/dtls/record.ts';
import { RecordProtection } from '../../src/server/dtls/record-protection.ts';
import type { TrafficKeys } from '../../src/server/dtls/record-protection.ts';
import { ReplayWindow } from '../../src/server/dtls/replay-window.ts';
import { buildClientHello } from './helpers.ts';

describe('readClientHello', () => {
  it('finds the cookie and the fields around it', () => {
    const cookie = Buffer.from('0123456789abcdefghij');
    const random = Buffer.alloc(32, 7);
    const datagram = buildClientHello({ cookie, random, recordSequence: 0x0102_0304_0506 });
    const hello = readClientHello(datagram);
    assert.ok(hello);
    assert.equal(hello.recordSequence, 0x0102_0304_0506);
    assert.equal(hello.recordEnd, datagram.length);
    assert.equal(hello.bodyStart, 25);
    // version(2) + random(32) + session_id length(1) + empty session id
    assert.equal(hello.cookieAt, 25 + 2 + 32 + 1);
    assert.deepEqual(cookieOf(hello), cookie);
    assert.equal(datagram.readUInt16BE(hello.suitesAt), 4);
  });

  it('strips the cookie and fixes the three lengths', () => {
    const random = randomBytes(32);
    const withCookie = buildClientHello({ cookie: randomBytes(20), random });
    const expected = buildClientHello({ random });
    expected.writeUInt16BE(1, 13 + 4); // message_seq is left as the client sent it
    const hello = readClientHello(withCookie);
    assert.ok(hello);
    assert.deepEqual(withoutCookie(hello), expected);
  });

  it('refuses truncated, fragmented, encrypted and non-ClientHello records', () => {
    const good = buildClientHello();
    for (let cut = 0; cut < good.length; cut += 7) {
      assert.equal(readClientHello(good.subarray(0, cut)), undefined, `truncated at ${cut}`);
    }
    const fragmented = Buffer.from(good);
    fragmented.writeUIntBE(10, 13 + 9, 3);
    assert.equal(readClientHello(fragmented), undefined);
    const epoch1 = Buffer.from(good);
    epoch1.writeUInt16BE(1, 3);
    assert.equal(readClientHello(epoch1), undefined);
    const serverHello = Buffer.from(good);
    serverHello[13] = 2;
    assert.equal(readClientHello(serverHello), undefined);
    const longSessionId = Buffer.from(good);
    longSessionId[25 + 34] = 33;
    assert.equal(readClientHello(longSessionId), undefined);
  });
});

describe('encodeHelloVerifyRequest', () => {
  it('matches RFC 6347 §4.2.1 byte for byte', () => {
    const cookie = Buffer.from([0xaa, 0xbb, 0xcc]);
    const bytes = encodeHelloVerifyRequest(5, cookie);
    const expected = Buffer.from([
      22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 0, 18, // record: handshake, DTLS 1.0, epoch 0, seq 5, length 18
      3, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 6, // hello_verify_request, length 6, message_seq 0, offset 0, fragment 6
      0xfe, 0xff, 3, 0xaa, 0xbb, 0xcc, // server_version DTLS 1.0, cookie<3>
    ]);
    assert.deepEqual(bytes, expected);
  });
});

describe('CookieJar', () => {
  const random = randomBytes(32);
  const issueFor = (jar: CookieJar, address: string, port: number): Buffer => {
    const hello = readClientHello(buildClientHello({ random }));
    assert.ok(hello);
    return jar.issue(hello, address, port);
  };
  const verify = (jar: CookieJar, cookie: Buffer, address: string, port: number, r = random): boolean => {
    const hello = readClientHello(buildClientHello({ random: r, cookie }));
    assert.ok(hello);
    return jar.verify(hello, address, port);
  };

  it('accepts its own cookie from the same address, port and ClientHello only', () => {
    const jar = new CookieJar(0);
    const cookie = issueFor(jar, '127.0.0.1', 5000);
    assert.equal(cookie.length, COOKIE_LENGTH);
    assert.equal(verify(jar, cookie, '127.0.0.1', 5000), true);
    assert.equal(verify(jar, cookie, '127.0.0.2', 5000), false);
    assert.equal(verify(jar, cookie, '127.0.0.1', 5001), false);
    assert.equal(verify(jar, cookie, '127.0.0.1', 5000, randomBytes(32)), false);
    assert.equal(verify(new CookieJar(0), cookie, '127.0.0.1', 5000), false);
  });

  it('keeps the address and port apart (1.2.3.4:56 is not 1.2.3.45:6)', () => {
    const jar = new CookieJar(0);
    const cookie = issueFor(jar, '1.2.3.4', 56);
    assert.equal(verify(jar, cookie, '1.2.3.45', 6), false);
  });

  it('honours a cookie for one rotation, not two', () => {
    const jar = new CookieJar(0, 1000);
    const cookie = issueFor(jar, '127.0.0.1', 5000);
    jar.rotate(500);
    assert.equal(verify(jar, cookie, '127.0.0.1', 5000), true, 'no rotation before the lifetime');
    jar.rotate(1000);
    assert.equal(verify(jar, cookie, '127.0.0.1', 5000), true, 'previous secret still accepted');
    jar.rotate(2000);
    assert.equal(verify(jar, cookie, '127.0.0.1', 5000), false, 'two rotations later it is stale');
  });
});

describe('ReplayWindow', () => {
  it('accepts each sequence number once, in or out of order within 64', () => {
    const w = new ReplayWindow();
    for (const seq of [1, 3, 2, 70, 10, 7, 69]) {
      assert.equal(w.isFresh(seq), true, `first ${seq}`);
      w.accept(seq);
      assert.equal(w.isFresh(seq), false, `again ${seq}`);
    }
    assert.equal(w.isFresh(6), false, '70 - 6 = 64 is outside the window');
    assert.equal(w.isFresh(7), false, 'seen');
    assert.equal(w.isFresh(8), true, 'inside, unseen');
    assert.equal(w.isFresh(71), true);
  });

  it('agrees with a set-based model on random traffic', () => {
    const w = new ReplayWindow();
    const seen = new Set<number>();
    let max = -1;
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20000; i++) {
      const seq = Math.max(0, Math.floor(max + 8 - rand() * 90));
      const modelFresh = seq > max || (max - seq < 64 && !seen.has(seq));
      assert.equal(w.isFresh(seq), modelFresh, `seq ${seq} max ${max}`);
      if (modelFresh) {
        w.accept(seq);
        seen.add(seq);
        max = Math.max(max, seq);
      }
    }
  });
});

describe('record sequence numbers', () => {
  it('round-trip all 48 bits', () => {
    const buf = Buffer.alloc(13);
    for (const seq of [0, 1, 0xffff_ffff, 0x1_0000_0000, 2 ** 48 - 1]) {
      writeRecordSequence(buf, 0, seq);
      assert.equal(recordSequence(buf, 0), seq);
    }
  });
});

describe('RecordProtection', () => {
  const keys: TrafficKeys = {
    algorithm: 'aes-128-gcm',
    clientWriteKey: randomBytes(16),
    serverWriteKey: randomBytes(16),
    clientSalt: randomBytes(4),
    serverSalt: randomBytes(4),
  };
  const mirrored: TrafficKeys = {
    algorithm: keys.algorithm,
    clientWriteKey: keys.serverWriteKey,
    serverWriteKey: keys.clientWriteKey,
    clientSalt: keys.serverSalt,
    serverSalt: keys.clientSalt,
  };

  it('opens what the other side sealed, with increasing sequence numbers', () => {
    const server = new RecordProtection(keys, 1, 7);
    const client = new RecordProtection(mirrored, 1, 1);
    const record = server.seal(23, Buffer.from('hello'));
    assert.equal(record.length, 13 + 8 + 5 + 16);
    assert.equal(record.readUInt16BE(3), 1);
    assert.equal(recordSequence(record, 0), 7);
    assert.deepEqual(client.open(record, 0), Buffer.from('hello'));
    assert.equal(recordSequence(server.seal(23, Buffer.alloc(0)), 0), 8);
  });

  it('rejects a record with any byte changed', () => {
    const server = new RecordProtection(keys, 1, 1);
    const client = new RecordProtection(mirrored, 1, 1);
    const record = server.seal(23, Buffer.from('attack at dawn'));
    for (let i = 0; i < record.length; i++) {
      if (i === 11 || i === 12) continue; // the length bytes: a changed length no longer fits the datagram
      const forged = Buffer.from(record);
      forged[i] ^= 0x01;
      assert.equal(client.open(forged, 0), undefined, `byte ${i}`);
    }
  });
});

describe('prfSha256', () => {
  // Independent reference: RFC 5246 §5 P_SHA256 written out for a two-block output.
  it('matches P_SHA256 computed by hand', () => {
    const secret = Buffer.from('secret');
    const seed = Buffer.from('seed');
    const labelSeed = Buffer.concat([Buffer.from('test label'), seed]);
    const hmac = (data: Buffer): Buffer => createHmac('sha256', secret).update(data).digest();
    const a1 = hmac(labelSeed);
    const a2 = hmac(a1);
    const expected = Buffer.concat([hmac(Buffer.concat([a1, labelSeed])), hmac(Buffer.concat([a2, labelSeed]))]).subarray(0, 40);
    assert.deepEqual(prfSha256(secret, 'test label', seed, 40), expected);
  });
});
