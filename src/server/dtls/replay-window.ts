// Anti-replay sliding window of 64 records (RFC 6347 §4.1.2.6, the algorithm of RFC 4303 §3.4.3).
// Two 32-bit words instead of a BigInt keep the receive path free of allocation.

const WINDOW = 64;

export class ReplayWindow {
  /** Highest sequence number accepted so far; -1 before the first. */
  #max = -1;
  /** Bit d set: record max - d was received, for d in 0..31. */
  #low = 0;
  /** The same for d in 32..63. */
  #high = 0;

  /**
   * RFC 6347 §4.1.2.6: "Duplicates are rejected through the use of a sliding receive window" and
   * records older than the window are discarded. Does not mark the record: call accept() once it
   * has been authenticated, so forged records cannot move the window.
   */
  isFresh(seq: number): boolean {
    if (seq > this.#max) return true;
    const d = this.#max - seq;
    if (d >= WINDOW) return false;
    return d < 32 ? ((this.#low >>> d) & 1) === 0 : ((this.#high >>> (d - 32)) & 1) === 0;
  }

  accept(seq: number): void {
    if (seq > this.#max) {
      const shift = this.#max < 0 ? WINDOW : seq - this.#max;
      if (shift >= WINDOW) {
        this.#high = 0;
        this.#low = 0;
      } else if (shift >= 32) {
        this.#high = (this.#low << (shift - 32)) >>> 0;
        this.#low = 0;
      } else {
        this.#high = ((this.#high << shift) | (this.#low >>> (32 - shift))) >>> 0;
        this.#low = (this.#low << shift) >>> 0;
      }
      this.#low = (this.#low | 1) >>> 0;
      this.#max = seq;
      return;
    }
    const d = this.#max - seq;
    if (d < 32) this.#low = (this.#low | (1 << d)) >>> 0;
    else if (d < WINDOW) this.#high = (this.#high | (1 << (d - 32))) >>> 0;
  }
}
