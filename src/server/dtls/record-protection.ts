// AES-GCM protection of epoch-1 records once the handshake is done (RFC 5288 §3, RFC 5246 §6.2.3.3,
// RFC 6347 §4.1.2.1). The handshake library derives the keys; this file carries the application data,
// so the per-datagram path allocates only what node:crypto itself returns.

import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import type { CipherGCMTypes, KeyObject } from 'node:crypto';
import { DTLS_1_2, RECORD_HEADER_LENGTH, recordLength, writeRecordSequence } from './record.ts';

const EXPLICIT_NONCE_LENGTH = 8;
const TAG_LENGTH = 16;
const SALT_LENGTH = 4;
export const RECORD_OVERHEAD = RECORD_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH + TAG_LENGTH;

export interface TrafficKeys {
  readonly algorithm: CipherGCMTypes;
  readonly clientWriteKey: Uint8Array;
  readonly serverWriteKey: Uint8Array;
  /** The 4-byte implicit part of each side's nonce (client_write_IV / server_write_IV). */
  readonly clientSalt: Uint8Array;
  readonly serverSalt: Uint8Array;
}

export class RecordProtection {
  readonly #algorithm: CipherGCMTypes;
  readonly #readKey: KeyObject;
  readonly #writeKey: KeyObject;
  readonly #readNonce = Buffer.alloc(SALT_LENGTH + EXPLICIT_NONCE_LENGTH);
  readonly #writeNonce = Buffer.alloc(SALT_LENGTH + EXPLICIT_NONCE_LENGTH);
  readonly #aad = Buffer.alloc(13);
  readonly #epoch: number;
  #writeSequence: number;

  /** The server reads with the client's keys and writes with its own. */
  constructor(keys: TrafficKeys, epoch: number, firstWriteSequence: number) {
    this.#algorithm = keys.algorithm;
    this.#readKey = createSecretKey(keys.clientWriteKey);
    this.#writeKey = createSecretKey(keys.serverWriteKey);
    this.#readNonce.set(keys.clientSalt.subarray(0, SALT_LENGTH), 0);
    this.#writeNonce.set(keys.serverSalt.subarray(0, SALT_LENGTH), 0);
    this.#epoch = epoch;
    this.#writeSequence = firstWriteSequence;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /**
   * One protected record, ready to send as a datagram.
   * RFC 5288 §3: GCMNonce = salt(4, implicit) || nonce_explicit(8); the explicit part is the 64-bit
   * epoch||sequence_number, which is unique per record. RFC 5246 §6.2.3.3: additional_data =
   * seq_num + TLSCompressed.type + TLSCompressed.version + TLSCompressed.length.
   */
  seal(type: number, plaintext: Uint8Array): Buffer {
    const seq = this.#writeSequence++;
    const out = Buffer.allocUnsafe(RECORD_OVERHEAD + plaintext.length);
    out[0] = type;
    out.writeUInt16BE(DTLS_1_2, 1);
    out.writeUInt16BE(this.#epoch, 3);
    writeRecordSequence(out, 0, seq);
    out.writeUInt16BE(EXPLICIT_NONCE_LENGTH + plaintext.length + TAG_LENGTH, 11);
    // The explicit nonce is the epoch||seq just written at offsets 3..10.
    out.copy(out, RECORD_HEADER_LENGTH, 3, 11);
    out.copy(this.#writeNonce, SALT_LENGTH, 3, 11);
    this.#setAad(out, 0, plaintext.length);
    const cipher = createCipheriv(this.#algorithm, this.#writeKey, this.#writeNonce, { authTagLength: TAG_LENGTH });
    cipher.setAAD(this.#aad, { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    body.copy(out, RECORD_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH);
    cipher.final();
    cipher.getAuthTag().copy(out, out.length - TAG_LENGTH);
    return out;
  }

  /**
   * The plaintext of the record at `at` (whose bounds the caller checked), or undefined when it does
   * not authenticate. RFC 6347 §4.1.2.7: invalid records are silently discarded.
   */
  open(datagram: Buffer, at: number): Buffer | undefined {
    const length = recordLength(datagram, at);
    if (length < EXPLICIT_NONCE_LENGTH + TAG_LENGTH) return undefined;
    const start = at + RECORD_HEADER_LENGTH;
    const end = start + length;
    const plaintextLength = length - EXPLICIT_NONCE_LENGTH - TAG_LENGTH;
    datagram.copy(this.#readNonce, SALT_LENGTH, start, start + EXPLICIT_NONCE_LENGTH);
    this.#setAad(datagram, at, plaintextLength);
    const decipher = createDecipheriv(this.#algorithm, this.#readKey, this.#readNonce, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(datagram.subarray(end - TAG_LENGTH, end));
    decipher.setAAD(this.#aad, { plaintextLength });
    const plaintext = decipher.update(datagram.subarray(start + EXPLICIT_NONCE_LENGTH, end - TAG_LENGTH));
    try {
      decipher.final();
    } catch {
      return undefined;
    }
    return plaintext;
  }

  /** epoch(2) || seq(6) || type || version comes straight from the record header. */
  #setAad(record: Buffer, at: number, plaintextLength: number): void {
    record.copy(this.#aad, 0, at + 3, at + 11);
    this.#aad[8] = record[at];
    this.#aad[9] = record[at + 1];
    this.#aad[10] = record[at + 2];
    this.#aad.writeUInt16BE(plaintextLength, 11);
  }
}
