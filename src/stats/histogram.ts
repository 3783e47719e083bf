// A fixed-bucket histogram of plain numbers, recorded on lifecycle events (not per packet) and read by
// telemetry at collection time.

/** Seconds; a TURN allocation lives from a failed handshake (0 s) to many hours. */
export const ALLOCATION_DURATION_BUCKETS: readonly number[] = [
  1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200,
];

export class Histogram {
  /** Upper bounds, ascending; an implicit +Inf bucket follows. */
  readonly boundaries: readonly number[];
  /** Non-cumulative counts; `counts.length === boundaries.length + 1`. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(boundaries: readonly number[]) {
    this.boundaries = boundaries;
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(value: number): void {
    let i = 0;
    while (i < this.boundaries.length && value > this.boundaries[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}
