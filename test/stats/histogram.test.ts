// The allocation-duration histogram's exemplars: one per bucket, the latest recorded, kept in the histogram's own
// Float64Array slots; ids that are not W3C trace context ids are not kept (and never throw).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOCATION_DURATION_BUCKETS, Histogram, histogramSlots } from '../../src/stats/histogram.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('an exemplar is kept per bucket: the latest one, with its value, time and ids', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_123 });
  const h = new Histogram(ALLOCATION_DURATION_BUCKETS);
  h.record(42, { traceId: TRACE, spanId: SPAN });
  assert.deepEqual(h.exemplar(4), { value: 42, timeMs: 1_700_000_000_123, traceId: TRACE, spanId: SPAN });
  assert.equal(h.exemplar(3), undefined, 'bucket (30, 60] only');

  t.mock.timers.tick(1000);
  h.record(50, { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'ffffffffffffffff' });
  h.record(55); // no span: counted, the exemplar stays
  assert.deepEqual(h.exemplar(4), { value: 50, timeMs: 1_700_000_001_123, traceId: 'f'.repeat(32), spanId: 'f'.repeat(16) });
  assert.deepEqual([h.count, h.sum, h.counts[4]], [3, 147, 3]);

  h.record(1e9, { traceId: '00000000000000000000000000000001', spanId: '0000000000000001' });
  assert.deepEqual(h.exemplar(ALLOCATION_DURATION_BUCKETS.length),
    { value: 1e9, timeMs: 1_700_000_001_123, traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1' }, '+Inf bucket');
  assert.equal(h.exemplar(-1), undefined);
  assert.equal(h.exemplar(ALLOCATION_DURATION_BUCKETS.length + 1), undefined);
});

test('ids that are not 32/16 hex digits, or all zero, are not kept; the value is still counted', () => {
  const h = new Histogram([10]);
  for (const ref of [
    { traceId: TRACE.slice(1), spanId: SPAN },
    { traceId: TRACE, spanId: `${SPAN}0` },
    { traceId: `${TRACE.slice(0, 31)}g`, spanId: SPAN },
    { traceId: TRACE, spanId: 'x0f067aa0ba902b7' },
    { traceId: '0'.repeat(32), spanId: SPAN },
    { traceId: TRACE, spanId: '0'.repeat(16) },
  ]) {
    assert.doesNotThrow(() => h.record(1, ref));
  }
  assert.equal(h.count, 6);
  assert.equal(h.exemplar(0), undefined);
  h.record(1, { traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase() });
  assert.equal(h.exemplar(0)?.traceId, TRACE, 'upper-case hex is read, lower-case given back');
});

test('the exemplars live in the histogram memory: a second view of it sees them', () => {
  const memory = new Float64Array(histogramSlots(ALLOCATION_DURATION_BUCKETS));
  const writer = new Histogram(ALLOCATION_DURATION_BUCKETS, memory);
  writer.record(3, { traceId: TRACE, spanId: SPAN });
  const reader = new Histogram(ALLOCATION_DURATION_BUCKETS, memory);
  assert.equal(reader.exemplar(1)?.spanId, SPAN);
  assert.equal(histogramSlots(ALLOCATION_DURATION_BUCKETS), 15 + 4 + 1 + 15 * 8);
});
