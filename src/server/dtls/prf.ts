// The TLS 1.2 PRF with SHA-256 (RFC 5246 §5) and the Finished verify_data it yields (§7.4.9).
// Used once per handshake, to check the client's Finished.

import { createHash, createHmac } from 'node:crypto';

/** RFC 5246 §5: P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ... */
export function prfSha256(secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let produced = 0;
  let a: Buffer = labelSeed;
  while (produced < length) {
    a = createHmac('sha256', secret).update(a).digest();
    const block = createHmac('sha256', secret).update(a).update(labelSeed).digest();
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))
 * [0..verify_data_length-1], verify_data_length 12 for every suite here.
 */
export function clientFinishedVerifyData(masterSecret: Uint8Array, handshakeMessages: Uint8Array): Buffer {
  const digest = createHash('sha256').update(handshakeMessages).digest();
  return prfSha256(masterSecret, 'client finished', digest, 12);
}
