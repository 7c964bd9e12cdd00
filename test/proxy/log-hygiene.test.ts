// What the proxy's log may and may not carry: never the text of a site callback's error (it holds
// e-mail addresses and tokens), and never an unbounded stream of refusals that anyone can provoke.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertError,
  BASE_PATH,
  fakeVendorForFile,
  guardRequest,
  makeProxy,
  send,
  type TestProxy,
} from './support/harness.js';

const vendor = fakeVendorForFile();

class SessionStoreError extends Error {}

void describe('authorize() that throws', () => {
  void it('is logged by its class and a fixed code, never its message', async () => {
    const secretText = 'lookup failed for bob@example.com with token eyJhbGciOiJIUzI1NiJ9.c2VjcmV0';
    for (const [thrown, errorClass] of [
      [new Error(secretText), 'Error'],
      [new SessionStoreError(secretText), 'SessionStoreError'],
      [new TypeError(secretText), 'TypeError'],
      [secretText, 'string'],
    ] as const) {
      const { proxy, logs } = makeProxy(vendor, {
        authorize: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- a site may throw anything
          throw thrown;
        },
      });
      const answer = await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice' }));
      assertError(answer, 500, 'INTERNAL_ERROR');
      assert.ok(
        !answer.text.includes('bob@example.com'),
        'the 500 repeats what the thrown error said (bob@example.com)',
      );
      const entry = logs.find((e) => e.level === 'error');
      assert.ok(entry, JSON.stringify(logs));
      assert.equal(entry.event, 'authorize-failed');
      assert.equal(entry.detail, 'AUTHORIZE_FAILED');
      assert.equal(entry.errorClass, errorClass);
      assert.equal(entry.requestId, answer.body.request_id);
      for (const line of logs.map((e) => JSON.stringify(e))) {
        assert.ok(!line.includes('bob@example.com') && !line.includes('eyJhbGci'), line);
      }
    }
    assert.equal(vendor.requests.length, 0);
  });

  void it('an async authorize() that rejects is logged the same way', async () => {
    const { proxy, logs } = makeProxy(vendor, {
      authorize: () => Promise.reject(new SessionStoreError('redis://user:pw@cache.internal refused')),
    });
    assertError(await send(proxy, guardRequest('GET', `${BASE_PATH}/abc`)), 500, 'INTERNAL_ERROR');
    const entry = logs.find((e) => e.event === 'authorize-failed')!;
    assert.equal(entry.errorClass, 'SessionStoreError');
    assert.ok(
      !JSON.stringify(logs).includes('cache.internal'),
      'the log repeats the rejected error’s text (cache.internal)',
    );
  });
});

/** Sends `count` requests from another site (refused 403 before anything else happens). */
async function crossSite({ proxy }: TestProxy, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice', origin: 'https://evil.test' }));
    assert.equal(answer.status, 403);
  }
}

void describe('refusal logs', () => {
  void it('a flood of 403s logs a bounded sample, and the next line logged says how many were dropped', async () => {
    const realNow = Date.now;
    let now = realNow();
    Date.now = () => now;
    try {
      const test = makeProxy(vendor);
      const refused = () => test.logs.filter((e) => e.event === 'request-refused');
      await crossSite(test, 500);
      const first = refused();
      assert.ok(first.length >= 1 && first.length <= 20, `${first.length} lines for 500 refusals in a minute`);
      assert.ok(
        first.every((e) => e.dropped === undefined),
        'nothing was dropped before them',
      );

      now += 61_000; // The next minute.
      await crossSite(test, 1);
      const next = refused().at(-1)!;
      assert.equal(next.dropped, 500 - first.length, 'the count of what was dropped');
      assert.equal(first.length + (next.dropped ?? 0) + 1, 501, 'every refusal is accounted for');
      assert.equal(next.level, 'warn');
      assert.equal(next.detail, 'CROSS_SITE_REQUEST_REFUSED');
    } finally {
      Date.now = realNow;
    }
  });

  void it('one kind of refusal does not crowd out another', async () => {
    const test = makeProxy(vendor);
    await crossSite(test, 200);
    const missingHeader = await send(test.proxy, guardRequest('POST', BASE_PATH, { user: 'alice', guardHeader: null }));
    assertError(missingHeader, 403, 'GUARD_HEADER_REQUIRED');
    assert.ok(
      test.logs.some((e) => e.detail === 'GUARD_HEADER_REQUIRED'),
      'the missing-header refusal was not logged after a cross-site one',
    );
  });

  void it('the default logger writes a bounded number of lines for a flood', async (t) => {
    const lines: string[] = [];
    t.mock.method(console, 'warn', (line: string) => lines.push(line));
    const test = makeProxy(vendor, { log: undefined });
    await crossSite(test, 300);
    assert.ok(lines.length >= 1 && lines.length <= 20, `${lines.length} lines`);
  });
});
