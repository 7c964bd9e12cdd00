import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStore } from '../../src/proxy/index.js';
import { RateLimiter, StoreRateLimit } from '../../src/proxy/rate-limit.js';
import { GuardedStore } from '../../src/proxy/registry/guarded-store.js';
import { flakyStore } from './support/flaky-store.js';

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

void describe('StoreRateLimit', () => {
  const guarded = (store: ReturnType<typeof memoryStore>) => new GuardedStore(store, () => undefined, []);

  void it('counts in the store: instances sharing it share each key’s count', async () => {
    const store = memoryStore();
    const [a, b] = [guarded(store), guarded(store)].map((g) => new StoreRateLimit('create', 3, 10_000, g));
    for (const limit of [a, b, a]) assert.deepEqual(await limit.take('alice'), { allowed: true });
    const refused = await b.take('alice');
    assert.equal(refused.allowed, false);
    assert.ok(
      !refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 10,
      `the refusal’s Retry-After is not 1 to 10 s: ${JSON.stringify(refused)}`,
    );
    assert.deepEqual(await a.take('bob'), { allowed: true }, 'keys count apart');
    const reads = new StoreRateLimit('read', 3, 10_000, guarded(store));
    assert.deepEqual(await reads.take('alice'), { allowed: true }, 'limits count apart');
    await store.close();
  });

  void it('with the store down it counts in this instance’s memory: never refused for the outage, still limited', async () => {
    const store = flakyStore();
    const limit = new StoreRateLimit('create', 2, 10_000, guarded(store));
    store.down = true;
    assert.deepEqual(await limit.take('alice'), { allowed: true });
    assert.deepEqual(await limit.take('alice'), { allowed: true });
    assert.equal((await limit.take('alice')).allowed, false);
    await store.close();
  });
});
