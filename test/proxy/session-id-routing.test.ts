// Property: every id the proxy accepts reaches exactly
// `{baseUrl}/v1/widget/sessions/{id}`, and every other input reaches no vendor URL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidSessionId } from '../../src/shared/session-id.js';
import { reply } from './support/fake-vendor.js';
import { fakeVendorForFile, BASE_PATH, guardRequest, makeProxy, send, SITE } from './support/harness.js';

// A base URL with a path prefix, so joining it is part of what is checked.
const vendor = fakeVendorForFile('/vendor/api');

const validId = fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/);
const method = fc.constantFrom('GET', 'DELETE');

const tricky = fc.string({
  unit: fc.constantFrom(
    'a',
    'Z',
    '0',
    '_',
    '-',
    '.',
    '..',
    '/',
    '\\',
    '%',
    '%2F',
    '%2e',
    '%00',
    '?',
    '#',
    ' ',
    '\t',
    '\n',
    ';',
    ':',
    '@',
    '+',
    '~',
    'é',
    '\u0000',
    '\u202e',
    '\uD800',
  ),
  maxLength: 12,
});
/** The characters an id may hold (sorted code points): every other one makes an input invalid. */
const ID_CODE_POINTS = [...'-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'].map((c) =>
  c.codePointAt(0)!,
);
/** Any code point (lone surrogates included) that is not one of those: the n-th one, counted past them. */
const forbiddenChar = fc.oneof(
  fc.constantFrom(
    '.',
    '/',
    '\\',
    '%',
    '?',
    '#',
    ' ',
    '\t',
    '\n',
    ';',
    ':',
    '@',
    '+',
    '~',
    'é',
    '\u0000',
    '\u202e',
    '\uD800',
  ),
  fc.integer({ min: 0, max: 0x10ffff - ID_CODE_POINTS.length }).map((n) => {
    let codePoint = n;
    for (const allowed of ID_CODE_POINTS) if (codePoint >= allowed) codePoint += 1;
    return String.fromCodePoint(codePoint);
  }),
);
const anything = fc.oneof(tricky, validId, fc.string({ unit: 'binary', maxLength: 64 }));
// Built invalid, never filtered on the function under test: a validator that accepted everything
// would make such a filter loop for ever, where this fails at the first run.
const anyInput = fc.oneof(
  fc.constant(''),
  // A character no id may hold, anywhere.
  fc.tuple(anything, forbiddenChar, anything).map(([before, bad, after]) => `${before}${bad}${after}`),
  fc.tuple(validId, forbiddenChar, validId).map(([a, bad, c]) => `${a}${bad}${c}`),
  // Too long: only id characters, or any printable ones.
  fc.stringMatching(/^[A-Za-z0-9_-]{129,160}$/),
  fc.string({ unit: 'grapheme-ascii', minLength: 129, maxLength: 160 }),
);

void describe('session ids on the way to the vendor', () => {
  void it('an accepted id maps to exactly {baseUrl}/v1/widget/sessions/{id}', async () => {
    // The limits out of the way: 150 sessions and checks of one user. The generated ids may repeat (a
    // vendor's never do), so no status answer is reused from an earlier run.
    const { proxy } = makeProxy(vendor, {
      rateLimit: { creates: 10_000, deletes: 10_000, reads: 10_000 },
      maxSessionsPerUser: 10_000,
      statusCacheMs: 0,
    });
    await fc.assert(
      fc.asyncProperty(validId, method, async (id, verb) => {
        vendor.reset();
        // The vendor hands out this id; the proxy binds it to the user.
        vendor.queue(
          reply.json(201, {
            session_id: id,
            status: 'active',
            expires_at: new Date(Date.now() + 60_000).toISOString(),
          }),
        );
        vendor.addSession(id);
        const created = await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice' }));
        assert.equal(created.status, 201);

        const answer = await send(
          proxy,
          guardRequest(verb, `${BASE_PATH}/${id}`, { user: 'alice', cookies: created.cookies }),
        );
        assert.equal(answer.status, 200);
        assert.equal(vendor.requests.length, 2);
        const call = vendor.requests[1];
        assert.equal(call.method, verb);
        assert.equal(`${vendor.origin}${call.url}`, `${vendor.baseUrl}/v1/widget/sessions/${id}`);
      }),
      { numRuns: 150 },
    );
  });

  void it('any other input reaches no vendor URL', async () => {
    const { proxy } = makeProxy(vendor);
    await fc.assert(
      fc.asyncProperty(anyInput, method, async (input, verb) => {
        assert.equal(isValidSessionId(input), false, `${JSON.stringify(input)} was built invalid, and accepted`);
        const target = `${SITE}${BASE_PATH}/${input}`;
        fc.pre(URL.canParse(target));
        vendor.reset();
        // What reaches the proxy after URL parsing (dot segments, "?", "#", tabs...).
        const { pathname } = new URL(target);
        const answer = await send(proxy, guardRequest(verb, target.slice(SITE.length), { user: 'alice' }));

        assert.equal(vendor.requests.length, 0, `${verb} ${JSON.stringify(input)} reached the vendor`);
        if (!pathname.startsWith(`${BASE_PATH}/`) && pathname !== BASE_PATH) assert.equal(answer.status, 404);
        else if (pathname === BASE_PATH || pathname === `${BASE_PATH}/`) assert.equal(answer.status, 405);
        else if (isValidSessionId(pathname.slice(BASE_PATH.length + 1)))
          assert.equal(answer.status, 403, 'valid after parsing, but not bound');
        else assert.equal(answer.status, 400);
      }),
      { numRuns: 400 },
    );
  });
});
