// Retry timing (src/shared/backoff.ts), shared by the outbox, the status checks and the proxy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cappedRetryAfter, DEFAULT_BACKOFF, parseRetryAfter, retryDelay } from '../../src/shared/backoff.js';

void describe('retryDelay', () => {
  void it('stays within [0, min(cap, base·2^(attempt-1))], with full jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -3, max: 100 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const delay = retryDelay(attempt, undefined, DEFAULT_BACKOFF, () => r);
          const ceiling = Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.baseMs * 2 ** (Math.max(attempt, 1) - 1));
          assert.ok(delay >= 0 && delay <= ceiling, `${delay} within ${ceiling}`);
          assert.ok(Number.isInteger(delay), `the retry delay ${delay} ms is not a whole number`);
        },
      ),
    );
  });

  void it('doubles the ceiling per attempt until the cap', () => {
    const top = (attempt: number) => retryDelay(attempt, undefined, { baseMs: 100, capMs: 1000 }, () => 0.999999);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(top), [99, 199, 399, 799, 999, 999]);
  });

  void it('never goes below what Retry-After asked, itself capped at ten times the cap', () => {
    const options = { baseMs: 100, capMs: 1000 };
    assert.equal(
      retryDelay(1, 5000, options, () => 0),
      5000,
    );
    assert.equal(
      retryDelay(1, 60_000, options, () => 0),
      10_000,
    );
    assert.equal(cappedRetryAfter(60_000, options), 10_000);
    assert.equal(
      retryDelay(10, 10, options, () => 0.5),
      500,
      'a smaller Retry-After does not shorten the backoff',
    );
  });
});

void describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-02T10:00:00Z');

  void it('reads delay-seconds and HTTP dates, never negative', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Wed, 02 Dec 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 02 Dec 2026 09:00:00 GMT', now), 0);
  });

  void it('is undefined when missing or unreadable', () => {
    for (const value of [null, undefined, '', '-5', '1.5', 'soon', '12abc'])
      assert.equal(parseRetryAfter(value, now), undefined, String(value));
  });
});
