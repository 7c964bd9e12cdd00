// Replays the vendor's own documentation against the simulator: the request
// example and the sample response are read from a verbatim copy of the
// vendor's "Delete Widget Session" page (fixtures/), not retyped, so the
// simulator is held to exactly what the docs show.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningSimulator } from './helpers.js';
import {
  assertVendorError,
  call,
  createSession,
  KEY_A,
  KEY_B,
  rawRequest,
  startSimulator,
  withKey,
} from './helpers.js';

const DOC = readFileSync(new URL('fixtures/vendor-doc-delete-widget-session.txt', import.meta.url), 'utf8');

interface CurlExample {
  method: string;
  /** Path below the documented host, with its `{placeholders}`. */
  path: string;
  headers: Array<[string, string]>;
}

/** The `curl` request example of the page: method, path and every `-H` header. */
function curlExample(doc: string): CurlExample {
  const start = doc.indexOf('curl ');
  assert.ok(start >= 0, 'the page has a curl example');
  const end = doc.indexOf('Response', start);
  const command = doc.slice(start, end);
  const request = /curl -X (\w+) https:\/\/api\.konpro\.ai(\S+)/.exec(command);
  assert.ok(request, command);
  const headers = [...command.matchAll(/-H "([^":]+): ([^"]*)"/g)].map((m): [string, string] => [m[1], m[2]]);
  return { method: request[1], path: request[2], headers };
}

/** The JSON of the page's "Sample Successful Response". */
function sampleResponse(doc: string): Record<string, unknown> {
  const at = doc.indexOf('Sample Successful Response');
  const open = doc.indexOf('{', at);
  const close = doc.indexOf('}', open);
  assert.ok(at >= 0 && open > at && close > open, 'the page has a sample response');
  return JSON.parse(doc.slice(open, close + 1)) as Record<string, unknown>;
}

let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator();
});
after(() => sim.close());

void describe('vendor docs: Delete Widget Session', () => {
  const example = curlExample(DOC);
  const sample = sampleResponse(DOC);

  void it('documents what we replay', () => {
    assert.equal(example.method, 'DELETE');
    assert.equal(example.path, '/v1/widget/sessions/{session_id}');
    assert.deepEqual(example.headers, [
      ['x-api-key', '<your-api-key>'],
      ['Content-Type', 'application/json'],
    ]);
    assert.deepEqual(sample, { message: 'Session terminated successfully', session_id: 'session-789' });
  });

  void it('answers the request example with exactly the sample response', async () => {
    // The sample's own id, owned by the account of the key the example sends.
    const sessionId = sample.session_id as string;
    sim.simulator.store.create({
      id: sessionId,
      accountId: 'acct_a',
      agenticAvatarId: 'avatar_docs',
      maxDurationSeconds: 3600,
    });
    const path = `/konpro${example.path.replace('{session_id}', sessionId)}`;
    const headers = Object.fromEntries(
      example.headers.map(([name, value]) => [name, value.replace('<your-api-key>', KEY_A)]),
    );

    const answer = await rawRequest(sim.origin, example.method, path, headers);
    assert.ok(!('error' in answer), String('error' in answer && answer.error));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(answer.text), sample);
    // Same fields in the same order as the page shows them.
    assert.equal(answer.text, JSON.stringify(sample));
  });

  void it('"the widget will immediately stop functioning for all users using that session token"', async () => {
    const id = await createSession(sim.baseUrl);
    const runtime = `${sim.baseUrl}/v1/widget/runtime/session`;
    const asUser = { headers: { Authorization: `Bearer ${id}` } };
    assert.equal((await call(runtime, asUser)).status, 200);
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    const [first, second] = await Promise.all([call(runtime, asUser), call(runtime, asUser)]);
    assertVendorError(first, 401, 'SESSION_TERMINATED');
    assertVendorError(second, 401, 'SESSION_TERMINATED');
  });

  void it('"This action is permanent and cannot be undone"', async () => {
    const id = await createSession(sim.baseUrl);
    const url = `${sim.baseUrl}/v1/widget/sessions/${id}`;
    assert.equal((await call(url, withKey(KEY_A, 'DELETE'))).status, 200);
    assertVendorError(await call(url, withKey(KEY_A, 'DELETE')), 404, 'RESOURCE_NOT_FOUND');
    assert.equal((await call(url, withKey(KEY_A))).body.status, 'terminated');
  });

  void it('"You can only delete sessions that belong to your account"', async () => {
    const id = await createSession(sim.baseUrl, KEY_A);
    assertVendorError(
      await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_B, 'DELETE')),
      403,
      'INSUFFICIENT_PERMISSIONS',
    );
  });

  void it('"Deleting a session does not affect the agentic avatar itself": a new session works', async () => {
    const old = await createSession(sim.baseUrl, KEY_A, 3600, 'avatar_kept');
    await call(`${sim.baseUrl}/v1/widget/sessions/${old}`, withKey(KEY_A, 'DELETE'));
    const fresh = await createSession(sim.baseUrl, KEY_A, 3600, 'avatar_kept');
    assert.notEqual(fresh, old);
    assert.equal(
      (await call(`${sim.baseUrl}/v1/widget/runtime/session`, { headers: { Authorization: `Bearer ${fresh}` } }))
        .status,
      200,
    );
  });

  void it('"This endpoint requires authentication using the x-api-key header"', async () => {
    const id = await createSession(sim.baseUrl);
    const answer = await rawRequest(sim.origin, 'DELETE', `/konpro/v1/widget/sessions/${id}`, {
      'Content-Type': 'application/json',
    });
    assert.ok(!('error' in answer), 'the DELETE without x-api-key got no HTTP answer at all');
    assert.equal(answer.status, 401);
    assert.equal(JSON.parse(answer.text).error.code, 'INVALID_API_KEY');
  });
});

void describe('contract examples: create and read', () => {
  void it('POST {"agentic_avatar_id": "...", "settings": {"max_duration": 3600, ...}} creates a session', async () => {
    const body = '{"agentic_avatar_id": "avatar_contract", "settings": {"max_duration": 3600, "language": "en"}}';
    const answer = await call(`${sim.baseUrl}/v1/widget/sessions`, withKey(KEY_A, 'POST', body));
    assert.equal(answer.status, 201);
    assert.equal(answer.body.status, 'active');
  });

  void it('GET answers {"session_id","agentic_avatar_id","status","created_at","expires_at"} in that order', async () => {
    const id = await createSession(sim.baseUrl);
    const answer = await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A));
    assert.deepEqual(Object.keys(answer.body), [
      'session_id',
      'agentic_avatar_id',
      'status',
      'created_at',
      'expires_at',
    ]);
  });
});
