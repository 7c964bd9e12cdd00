// What the proxy answers when the vendor misbehaves: never a success it did
// not get, always the vendor's error schema, nothing followed or waited on forever.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyResponse, Verdict } from '../../src/detection/classify-response.js';
import { vendorErrorMessage } from '../../src/proxy/errors.js';
import { API_KEY, reply, type Reply } from './support/fake-vendor.js';
import {
  assertError,
  fakeVendorForFile,
  BASE_PATH,
  createSession,
  guardRequest,
  makeProxy,
  send,
  type Answer,
} from './support/harness.js';

const vendor = fakeVendorForFile();

type Method = 'POST' | 'GET' | 'DELETE';

/** Sends `method` as a user who owns a session, with `replies` queued for the vendor call it makes. */
async function withVendorReply(
  method: Method,
  replies: Reply[],
  overrides: Parameters<typeof makeProxy>[1] = {},
): Promise<Answer & { logs: ReturnType<typeof makeProxy>['logs']; elapsedMs: number }> {
  const { proxy, logs } = makeProxy(vendor, overrides);
  const { sessionId, cookie } = await createSession(proxy, 'alice');
  vendor.requests.length = 0;
  vendor.queue(...replies);
  const path = method === 'POST' ? BASE_PATH : `${BASE_PATH}/${sessionId}`;
  const started = performance.now();
  const answer = await send(proxy, guardRequest(method, path, { user: 'alice', cookies: [cookie] }));
  return { ...answer, logs, elapsedMs: performance.now() - started };
}

const methods: Method[] = ['POST', 'GET', 'DELETE'];

void describe('vendor answers the proxy passes on', () => {
  void it('keeps a vendor 429 and its Retry-After', async () => {
    for (const method of methods) {
      const answer = await withVendorReply(method, [
        reply.error(429, 'RATE_LIMIT_EXCEEDED', 'slow down', { 'retry-after': '17' }, 'vendor-429'),
      ]);
      assertError(answer, 429, 'RATE_LIMIT_EXCEEDED');
      assert.equal(answer.headers.get('retry-after'), '17');
      assert.equal(answer.body.request_id, 'vendor-429');
    }
  });

  void it('keeps a vendor 5xx: status, error body and request_id', async () => {
    for (const method of methods) {
      for (const [status, code] of [
        [500, 'PROCESSING_ERROR'],
        [503, 'SERVICE_UNAVAILABLE'],
      ] as const) {
        const answer = await withVendorReply(method, [
          reply.error(status, code, 'vendor trouble', {}, `vendor-${status}`),
        ]);
        assertError(answer, status, code);
        // The vendor's own words stay in the server log (issue 13, item 5): the browser gets a fixed message.
        assert.notEqual(answer.body.error.message, 'vendor trouble');
        assert.equal(answer.logs.at(-1)?.vendorText, `${code}: vendor trouble`);
        assert.equal(answer.body.request_id, `vendor-${status}`);
        assert.equal(classifyResponse(answer.status, answer.body).verdict, Verdict.Transient);
      }
    }
  });

  void it('keeps a vendor 4xx error: status, code and request_id (its message and details stay in the log)', async () => {
    const body = {
      error: { code: 'INSUFFICIENT_PERMISSIONS', message: 'not your account', details: { hint: 'x' } },
      request_id: 'vendor-403',
    };
    const answer = await withVendorReply('DELETE', [reply.json(403, body)]);
    assert.equal(answer.status, 403);
    assert.deepEqual(answer.body, {
      error: { code: 'INSUFFICIENT_PERMISSIONS', message: vendorErrorMessage('INSUFFICIENT_PERMISSIONS', 403) },
      request_id: 'vendor-403',
    });
    assert.equal(answer.logs.at(-1)?.vendorText, 'INSUFFICIENT_PERMISSIONS: not your account {"hint":"x"}');
  });
});

void describe('vendor error text', () => {
  const account = 'acct_8812_internal';
  const partialKey = API_KEY.slice(0, 16);

  void it('never reaches the browser: only the code, a fixed message for it, the session it names and the request id', async () => {
    for (const method of methods) {
      const answer = await withVendorReply(method, [
        reply.json(403, {
          error: {
            code: 'INSUFFICIENT_PERMISSIONS',
            message: `key ${partialKey}… may not act for account ${account}`,
            details: { account_id: account, session_id: 'sess_1', key: `${partialKey}…` },
          },
          request_id: 'vendor-403',
        }),
      ]);
      assert.equal(answer.status, 403);
      assert.deepEqual(answer.body, {
        error: {
          code: 'INSUFFICIENT_PERMISSIONS',
          message: vendorErrorMessage('INSUFFICIENT_PERMISSIONS', 403),
          details: { session_id: 'sess_1' },
        },
        request_id: 'vendor-403',
      });
      assert.ok(!answer.text.includes(account) && !answer.text.includes(partialKey.slice(0, 8)), answer.text);

      // The server log keeps the vendor's words for the operator, the key taken out even where it is partial.
      const entry = answer.logs.at(-1)!;
      assert.equal(entry.event, 'vendor-rejected');
      assert.match(entry.vendorText!, new RegExp(account));
      assert.ok(!entry.vendorText!.includes(partialKey.slice(0, 8)), entry.vendorText);
      assert.match(entry.vendorText!, /\[redacted\]/);
    }
  });

  void it('gives each code one fixed message, whatever the vendor wrote; 404s, 429s and 5xx alike', async () => {
    for (const [status, code, method] of [
      [404, 'RESOURCE_NOT_FOUND', 'GET'],
      [429, 'RATE_LIMIT_EXCEEDED', 'POST'],
      [500, 'PROCESSING_ERROR', 'DELETE'],
      [503, 'SERVICE_UNAVAILABLE', 'GET'],
      [400, 'VALIDATION_ERROR', 'POST'],
    ] as const) {
      const messages = new Set<string>();
      for (const text of [`internal host db-7.${account}`, 'something else entirely']) {
        const answer = await withVendorReply(method, [
          reply.json(status, { error: { code, message: text, details: { trace: account } }, request_id: 'r-1' }),
        ]);
        assertError(answer, status, code);
        assert.ok(!answer.text.includes(account), answer.text);
        assert.equal(answer.body.error.details, undefined);
        messages.add(answer.body.error.message);
      }
      assert.equal(messages.size, 1, `${code}: one message`);
    }
  });

  void it('replaces a code or request id that is not one (it could carry anything)', async () => {
    const answer = await withVendorReply('GET', [
      reply.json(403, {
        error: { code: `denied for ${account}`, message: 'no' },
        request_id: `req <script>${account}</script>`,
      }),
    ]);
    assertError(answer, 403, 'INSUFFICIENT_PERMISSIONS');
    assert.ok(!answer.text.includes(account), answer.text);
    assert.match(answer.body.request_id, /^[0-9a-f-]{36}$/);
  });

  void it('keeps a code the guard reads as "the session ended", with the session it names', async () => {
    const answer = await withVendorReply('GET', [
      reply.json(403, {
        error: { code: 'SESSION_TERMINATED', message: `ended by ${account}`, details: { session_id: 'sess_1' } },
        request_id: 'r-2',
      }),
    ]);
    assertError(answer, 403, 'SESSION_TERMINATED');
    assert.equal(answer.body.error.details.session_id, 'sess_1');
    assert.equal(classifyResponse(answer.status, answer.body).verdict, Verdict.Ended);
    assert.ok(!answer.text.includes(account), 'the answer carries the vendor account named in its error');
  });
});

void describe('vendor answers the proxy turns into errors', () => {
  void it('a refused API key (401 INVALID_API_KEY) is a 502 that says so, never a success', async () => {
    for (const method of methods) {
      const answer = await withVendorReply(method, [
        reply.error(401, 'INVALID_API_KEY', 'Invalid API key', {}, 'vendor-401'),
      ]);
      assertError(answer, 502, 'UPSTREAM_API_KEY_REJECTED');
      assert.match(answer.body.error.message, /API key/);
      assert.equal(answer.body.request_id, 'vendor-401');
      assert.equal(answer.setCookie.length, 0, `${method}: no binding issued or cleared`);
      assert.equal(
        classifyResponse(answer.status, answer.body).verdict,
        Verdict.Transient,
        'the guard retries; it does not tear down',
      );
    }
  });

  void it('the whole proxy with a wrong key: creates fail, deletes are never reported as done', async () => {
    const good = makeProxy(vendor).proxy;
    const { sessionId, cookie } = await createSession(good, 'alice');
    const wrongKey = makeProxy(vendor, { apiKey: 'kp_live_wrong' }).proxy;
    assertError(
      await send(wrongKey, guardRequest('POST', BASE_PATH, { user: 'alice' })),
      502,
      'UPSTREAM_API_KEY_REJECTED',
    );
    assertError(
      await send(wrongKey, guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] })),
      502,
      'UPSTREAM_API_KEY_REJECTED',
    );
    assert.equal(vendor.sessions.has(sessionId), true);
  });

  void it('does not follow a vendor redirect: 502, and the target is never requested', async () => {
    for (const method of methods) {
      for (const status of [301, 302, 307, 308]) {
        const answer = await withVendorReply(method, [
          reply.redirect(`${vendor.origin}/v1/widget/sessions/followed`, status),
        ]);
        assertError(answer, 502, 'UPSTREAM_BAD_RESPONSE');
        assert.equal(vendor.requests.length, 1, `${method} ${status}: only the first request`);
      }
    }
  });

  void it('answers 504 when the vendor hangs past timeoutMs', async () => {
    for (const method of methods) {
      const answer = await withVendorReply(method, [reply.hang()], { timeoutMs: 150 });
      assertError(answer, 504, 'UPSTREAM_TIMEOUT');
      // Not before the deadline, and well before the harness default (2 s).
      assert.ok(answer.elapsedMs >= 140 && answer.elapsedMs < 1_900, `took ${answer.elapsedMs} ms`);
      assert.equal(answer.logs.at(-1)?.event, 'vendor-timeout');
    }
  });

  void it('answers 504 when the vendor stalls in the middle of the body', async () => {
    const answer = await withVendorReply('GET', [reply.stallBody()], { timeoutMs: 150 });
    assertError(answer, 504, 'UPSTREAM_TIMEOUT');
  });

  void it('with the fetch option: the same answers, the same deadline for headers and body', async () => {
    // The transport of every runtime but Node (and of a site that passes its own fetch).
    const viaFetch = { fetch: (...args: Parameters<typeof fetch>) => fetch(...args), timeoutMs: 150 };
    const ok = await withVendorReply('GET', [], viaFetch);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.status, 'active');
    for (const stuck of [reply.hang(), reply.stallBody()]) {
      const answer = await withVendorReply('GET', [stuck], viaFetch);
      assertError(answer, 504, 'UPSTREAM_TIMEOUT');
      assert.ok(answer.elapsedMs >= 140 && answer.elapsedMs < 1_900, `took ${answer.elapsedMs} ms`);
    }
    assertError(await withVendorReply('DELETE', [reply.drop()], viaFetch), 503, 'SERVICE_UNAVAILABLE');
  });

  void it('answers 503 SERVICE_UNAVAILABLE when the vendor cannot be reached', async () => {
    const answer = await withVendorReply('DELETE', [reply.drop()]);
    assertError(answer, 503, 'SERVICE_UNAVAILABLE');

    const { proxy } = makeProxy(vendor, { baseUrl: 'http://127.0.0.1:9' });
    assertError(await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice' })), 503, 'SERVICE_UNAVAILABLE');
  });

  void it('answers a clean 502 for anything that is not the documented JSON', async () => {
    const cases: Array<[Method, Reply]> = [
      ['POST', reply.text(200, '<html>maintenance</html>')],
      ['POST', reply.json(201, { session_id: 'ok', status: 'active' })], // no expires_at
      ['POST', reply.json(201, { session_id: '../admin', status: 'active', expires_at: new Date().toISOString() })],
      ['POST', reply.json(201, { session_id: 'ok', status: 'active', expires_at: 'soon' })],
      ['POST', reply.json(201, ['not', 'an', 'object'])],
      [
        'GET',
        reply.json(200, { session_id: 'another-session', status: 'active', expires_at: new Date().toISOString() }),
      ],
      ['GET', reply.text(200, '')],
      ['GET', reply.text(200, `{"session_id":"${'x'.repeat(70_000)}"}`, 'application/json')],
      ['DELETE', reply.json(200, { ok: true })],
      ['DELETE', reply.text(204, '')],
      ['DELETE', reply.text(404, 'Not Found')], // a 404 page, not the vendor saying "gone": maybe a wrong baseUrl
      ['GET', reply.text(500, '<html>Internal Server Error</html>')],
      ['DELETE', reply.json(400, { message: 'no schema' })],
    ];
    for (const [method, vendorReply] of cases) {
      const answer = await withVendorReply(method, [vendorReply]);
      assertError(answer, 502, 'UPSTREAM_BAD_RESPONSE');
      assert.ok(
        !answer.text.includes('maintenance') && !answer.text.includes('<html>'),
        `the vendor’s bad ${method} reply reached the browser as it was`,
      );
      if (method === 'DELETE') assert.equal(answer.setCookie.length, 0, 'the binding stays for a retry');
    }
  });

  void it('answers 502 (not 404) when the vendor says 404 to a create: a configuration problem, not a gone session', async () => {
    const answer = await withVendorReply('POST', [
      reply.error(404, 'RESOURCE_NOT_FOUND', 'avatar not found', {}, 'vendor-404'),
    ]);
    assertError(answer, 502, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(answer.body.request_id, 'vendor-404');
  });

  void it('answers 500 in the vendor schema when widgetUrl() fails, and ends the session it could not hand out', async () => {
    const { proxy, logs } = makeProxy(vendor, {
      widgetUrl: () => {
        throw new Error('no widget host configured');
      },
    });
    const answer = await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice' }));
    assertError(answer, 500, 'INTERNAL_ERROR');
    assert.ok(!answer.text.includes('no widget host'), 'the cause stays in the log');
    assert.equal(answer.setCookie.length, 0);
    assert.deepEqual(
      vendor.requests.map((r) => r.method),
      ['POST', 'DELETE'],
    );
    assert.equal(vendor.sessions.size, 0);
    const entry = logs.find((e) => e.event === 'internal-error')!;
    assert.match(entry.detail!, /no widget host configured/);
    assert.equal(entry.requestId, answer.body.request_id);
  });

  void it('answers 500 when authorize() throws', async () => {
    const { proxy } = makeProxy(vendor, {
      authorize: () => {
        throw new Error('session store down');
      },
    });
    assertError(await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice' })), 500, 'INTERNAL_ERROR');
    assert.equal(vendor.requests.length, 0);
  });
});
