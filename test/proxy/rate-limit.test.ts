import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/proxy/rate-limit.js';

void describe('RateLimiter', () => {
  void it('allows `limit` actions per key and window, then says when to come back', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(2, 10_000, () => now);
    assert.deepEqual(limiter.take('alice'), { allowed: true });
    assert.deepEqual(limiter.take('alice'), { allowed: true });
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSeconds: 10 });
    assert.deepEqual(limiter.take('bob'), { allowed: true }, 'keys count apart');
    now += 9_001;
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSeconds: 1 });
    now += 1_000;
    assert.deepEqual(limiter.take('alice'), { allowed: true }, 'a new window');
  });
});
