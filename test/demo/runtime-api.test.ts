// The widget runtime: what the vendor's widget calls with its session token,
// and the "session terminated" errors the guard must recognise.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { classifyResponse, Verdict } from '../../src/detection/classify-response.js';
import type { RunningSimulator } from './helpers.js';
import { assertVendorError, call, createSession, KEY_A, startSimulator, withKey } from './helpers.js';

let sim: RunningSimulator;
let runtime: string;
before(async () => {
  sim = await startSimulator();
  runtime = `${sim.baseUrl}/v1/widget/runtime`;
});
after(() => sim.close());
beforeEach(() => {
  sim.simulator.store.clear();
  sim.simulator.faults.reset();
});

const bearer = (id: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${id}`, ...extra });
const say = (id: string, body: unknown) =>
  call(`${runtime}/messages`, {
    method: 'POST',
    headers: bearer(id, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });

void describe('widget runtime', () => {
  void it('describes the live session to its widget', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 600, 'avatar_rt');
    const answer = await call(`${runtime}/session`, { headers: bearer(id) });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.session_id, id);
    assert.equal(answer.body.agentic_avatar_id, 'avatar_rt');
    assert.equal(answer.body.status, 'active');
    assert.ok(
      Math.abs(Date.parse(answer.body.server_time) - Date.now()) < 5000,
      `the runtime's server_time ${answer.body.server_time} is more than 5 s off this clock`,
    );
    assert.equal(typeof answer.body.avatar.name, 'string');
    assert.match(answer.body.avatar.greeting, /simulated Konpro avatar/);
    assert.equal(answer.headers.get('access-control-allow-origin'), '*');
  });

  void it('answers messages with a canned reply', async () => {
    const id = await createSession(sim.baseUrl);
    const answer = await say(id, { text: 'Hello there' });
    assert.equal(answer.status, 200);
    assert.match(answer.body.message_id, /^msg_/);
    assert.match(answer.body.reply, /Hello!/);
    assert.equal((await say(id, { text: 'Hello there' })).body.reply, answer.body.reply, 'replies are deterministic');
  });

  void it('validates messages (400 VALIDATION_ERROR / INVALID_REQUEST)', async () => {
    const id = await createSession(sim.baseUrl);
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 42 }, { text: 'x'.repeat(1001) }]) {
      assertVendorError(await say(id, body), 400, 'VALIDATION_ERROR');
    }
    assertVendorError(await say(id, [1]), 400, 'INVALID_REQUEST');
    const broken = await call(`${runtime}/messages`, { method: 'POST', headers: bearer(id), body: '{"text":' });
    assertVendorError(broken, 400, 'INVALID_REQUEST');
  });

  void it('answers 401 SESSION_TERMINATED once the session is deleted, naming the session', async () => {
    const id = await createSession(sim.baseUrl);
    assert.equal((await say(id, { text: 'hi' })).status, 200);
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    for (const answer of [await call(`${runtime}/session`, { headers: bearer(id) }), await say(id, { text: 'hi' })]) {
      const error = assertVendorError(answer, 401, 'SESSION_TERMINATED');
      assert.deepEqual(error.error.details, { session_id: id });
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(answer.headers.get('access-control-allow-origin'), '*');
    }
  });

  void it('answers 401 INVALID_SESSION_TOKEN without a usable token', async () => {
    assertVendorError(await call(`${runtime}/session`), 401, 'INVALID_SESSION_TOKEN');
    assertVendorError(
      await call(`${runtime}/session`, { headers: { Authorization: 'Basic abc' } }),
      401,
      'INVALID_SESSION_TOKEN',
    );
    assertVendorError(await call(`${runtime}/session`, { headers: bearer('a.b') }), 401, 'INVALID_SESSION_TOKEN');
    const unknown = assertVendorError(
      await call(`${runtime}/session`, { headers: bearer('ws_unknown') }),
      401,
      'INVALID_SESSION_TOKEN',
    );
    assert.deepEqual(unknown.error.details, { session_id: 'ws_unknown' });
    // An API key is no runtime credential.
    assertVendorError(
      await call(`${runtime}/session`, { headers: { 'x-api-key': KEY_A } }),
      401,
      'INVALID_SESSION_TOKEN',
    );
  });

  void it('says "session ended" in words the guard reads that way, and "alive" while it lives', async () => {
    const id = await createSession(sim.baseUrl);
    const live = await call(`${runtime}/session`, { headers: bearer(id) });
    assert.equal(classifyResponse(live.status, live.body).verdict, Verdict.Alive);
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    const dead = await call(`${runtime}/session`, { headers: bearer(id) });
    assert.deepEqual(classifyResponse(dead.status, dead.body), { verdict: Verdict.Ended, sessionId: id });
    // ...while the API-key error of the vendor API is not a session ending.
    const badKey = await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey('kp_wrong'));
    assert.equal(classifyResponse(badKey.status, badKey.body).verdict, Verdict.Unknown);
  });

  void it('answers CORS preflights for any origin', async () => {
    const answer = await call(`${runtime}/messages`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers.get('access-control-allow-origin'), '*');
    assert.match(answer.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(answer.headers.get('access-control-allow-methods') ?? '', /POST/);
  });

  void it('answers 404 for unknown runtime endpoints', async () => {
    const id = await createSession(sim.baseUrl);
    assertVendorError(
      await call(`${runtime}/session`, { method: 'POST', headers: bearer(id) }),
      404,
      'RESOURCE_NOT_FOUND',
    );
    assertVendorError(await call(`${runtime}/nothing`, { headers: bearer(id) }), 404, 'RESOURCE_NOT_FOUND');
  });

  void it('does not answer CORS on the key-authenticated vendor API', async () => {
    const id = await createSession(sim.baseUrl);
    const answer = await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A));
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
  });
});
