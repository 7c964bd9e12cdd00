// The simulated vendor API, route by route: documented bodies, statuses,
// error codes, and "sessions belong to the key that made them".
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isValidSessionId } from '../../src/shared/session-id.js';
import type { RunningSimulator } from './helpers.js';
import { assertVendorError, call, createSession, KEY_A, KEY_B, startSimulator, withKey } from './helpers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const SESSION_KEYS = ['agentic_avatar_id', 'created_at', 'expires_at', 'session_id', 'status'];

let sim: RunningSimulator;
let sessions: string;
before(async () => {
  sim = await startSimulator();
  sessions = `${sim.baseUrl}/v1/widget/sessions`;
});
after(() => sim.close());
beforeEach(() => {
  sim.simulator.store.clear();
  sim.simulator.faults.reset();
});

void describe('POST /v1/widget/sessions', () => {
  void it('creates an active session with the documented fields', async () => {
    const answer = await call(
      sessions,
      withKey(KEY_A, 'POST', { agentic_avatar_id: 'avatar_1', settings: { max_duration: 3600 } }),
    );
    assert.equal(answer.status, 201);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.match(answer.headers.get('x-request-id') ?? '', /^req_/);
    assert.deepEqual(Object.keys(answer.body).sort(), SESSION_KEYS);
    assert.equal(answer.body.status, 'active');
    assert.equal(answer.body.agentic_avatar_id, 'avatar_1');
    assert.ok(
      isValidSessionId(answer.body.session_id),
      `the vendor created a session with an invalid id: ${answer.body.session_id}`,
    );
    assert.match(answer.body.session_id, /^ws_[A-Za-z0-9]{24}$/);
    assert.match(answer.body.created_at, ISO);
    assert.match(answer.body.expires_at, ISO);
    assert.equal(Date.parse(answer.body.expires_at) - Date.parse(answer.body.created_at), 3_600_000);
    assert.equal(answer.headers.get('location'), `/konpro/v1/widget/sessions/${answer.body.session_id}`);
  });

  void it('defaults max_duration to 3600 s and keeps other settings', async () => {
    for (const body of [{ agentic_avatar_id: 'a' }, { agentic_avatar_id: 'a', settings: { language: 'de' } }]) {
      const answer = await call(sessions, withKey(KEY_A, 'POST', body));
      assert.equal(answer.status, 201);
      assert.equal(Date.parse(answer.body.expires_at) - Date.parse(answer.body.created_at), 3_600_000);
    }
  });

  void it('gives every session its own id', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => createSession(sim.baseUrl)));
    assert.equal(new Set(ids).size, 20);
  });

  void it('answers 400 VALIDATION_ERROR naming each bad field', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{}, ['agentic_avatar_id']],
      [{ agentic_avatar_id: 42 }, ['agentic_avatar_id']],
      [{ agentic_avatar_id: '' }, ['agentic_avatar_id']],
      [{ agentic_avatar_id: 'a/b' }, ['agentic_avatar_id']],
      [{ agentic_avatar_id: 'x'.repeat(129) }, ['agentic_avatar_id']],
      [{ agentic_avatar_id: 'a', settings: 'long' }, ['settings']],
      [{ agentic_avatar_id: 'a', settings: [] }, ['settings']],
      [{ agentic_avatar_id: 'a', settings: { max_duration: 0 } }, ['settings.max_duration']],
      [{ agentic_avatar_id: 'a', settings: { max_duration: -5 } }, ['settings.max_duration']],
      [{ agentic_avatar_id: 'a', settings: { max_duration: 86_401 } }, ['settings.max_duration']],
      [{ agentic_avatar_id: 'a', settings: { max_duration: 1.5 } }, ['settings.max_duration']],
      [{ agentic_avatar_id: 'a', settings: { max_duration: '60' } }, ['settings.max_duration']],
      [{ agentic_avatar_id: 'a', settings: { max_duration: null } }, ['settings.max_duration']],
      [{ settings: { max_duration: 0 } }, ['agentic_avatar_id', 'settings.max_duration']],
    ];
    for (const [body, fields] of cases) {
      const error = assertVendorError(await call(sessions, withKey(KEY_A, 'POST', body)), 400, 'VALIDATION_ERROR');
      const details = error.error.details as { errors: Array<{ field: string; message: string }> };
      assert.deepEqual(
        details.errors.map((e) => e.field),
        fields,
        JSON.stringify(body),
      );
    }
    assert.equal(sim.simulator.store.size, 0);
  });

  void it('accepts the shortest and longest max_duration', async () => {
    for (const max_duration of [1, 2, 86_400]) {
      const answer = await call(
        sessions,
        withKey(KEY_A, 'POST', { agentic_avatar_id: 'a', settings: { max_duration } }),
      );
      assert.equal(answer.status, 201);
    }
  });

  void it('answers 400 INVALID_REQUEST for a body that is not a JSON object', async () => {
    for (const body of ['{"agentic_avatar_id": ', '', '[]', '"avatar"', 'null', 'x'.repeat(70 * 1024)]) {
      assertVendorError(await call(sessions, withKey(KEY_A, 'POST', body)), 400, 'INVALID_REQUEST');
    }
  });

  void it('answers 401 INVALID_API_KEY without a key or with an unknown one, before reading the body', async () => {
    assertVendorError(
      await call(sessions, withKey(undefined, 'POST', { agentic_avatar_id: 'a' })),
      401,
      'INVALID_API_KEY',
    );
    assertVendorError(await call(sessions, withKey('', 'POST', { agentic_avatar_id: 'a' })), 401, 'INVALID_API_KEY');
    assertVendorError(await call(sessions, withKey('kp_wrong', 'POST', '{not json')), 401, 'INVALID_API_KEY');
    assert.equal(sim.simulator.store.size, 0);
  });
});

void describe('GET /v1/widget/sessions/{session_id}', () => {
  void it('answers the documented status body', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 120, 'avatar_get');
    const answer = await call(`${sessions}/${id}`, withKey(KEY_A));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.deepEqual(Object.keys(answer.body).sort(), SESSION_KEYS);
    assert.equal(answer.body.session_id, id);
    assert.equal(answer.body.agentic_avatar_id, 'avatar_get');
    assert.equal(answer.body.status, 'active');
    assert.equal(Date.parse(answer.body.expires_at) - Date.parse(answer.body.created_at), 120_000);
  });

  void it('reads "terminated" after a delete', async () => {
    const id = await createSession(sim.baseUrl);
    assert.equal((await call(`${sessions}/${id}`, withKey(KEY_A, 'DELETE'))).status, 200);
    const answer = await call(`${sessions}/${id}`, withKey(KEY_A));
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'terminated');
  });

  void it('answers 404 RESOURCE_NOT_FOUND for an unknown session', async () => {
    const error = assertVendorError(await call(`${sessions}/ws_unknown`, withKey(KEY_A)), 404, 'RESOURCE_NOT_FOUND');
    assert.deepEqual(error.error.details, { session_id: 'ws_unknown' });
  });

  void it('answers 400 INVALID_REQUEST for an id that is not a session id', async () => {
    for (const id of ['a.b', 'a%2Fb', '%zz', 'x'.repeat(129), 'caf%C3%A9']) {
      assertVendorError(await call(`${sessions}/${id}`, withKey(KEY_A)), 400, 'INVALID_REQUEST');
    }
  });

  void it('decodes a percent-encoded id', async () => {
    const id = await createSession(sim.baseUrl);
    const encoded = id.replace('_', '%5F');
    assert.equal((await call(`${sessions}/${encoded}`, withKey(KEY_A))).body.session_id, id);
  });

  void it('answers 401 INVALID_API_KEY without a valid key', async () => {
    const id = await createSession(sim.baseUrl);
    assertVendorError(await call(`${sessions}/${id}`, withKey(undefined)), 401, 'INVALID_API_KEY');
    assertVendorError(await call(`${sessions}/${id}`, withKey('kp_wrong')), 401, 'INVALID_API_KEY');
  });
});

void describe('DELETE /v1/widget/sessions/{session_id}', () => {
  void it('terminates the session and answers the documented body', async () => {
    const id = await createSession(sim.baseUrl);
    const answer = await call(`${sessions}/${id}`, withKey(KEY_A, 'DELETE'));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.equal(answer.text, JSON.stringify({ message: 'Session terminated successfully', session_id: id }));
  });

  void it('is permanent: a second delete answers 404 RESOURCE_NOT_FOUND', async () => {
    const id = await createSession(sim.baseUrl);
    assert.equal((await call(`${sessions}/${id}`, withKey(KEY_A, 'DELETE'))).status, 200);
    const error = assertVendorError(
      await call(`${sessions}/${id}`, withKey(KEY_A, 'DELETE')),
      404,
      'RESOURCE_NOT_FOUND',
    );
    assert.deepEqual(error.error.details, { session_id: id });
    assert.equal((await call(`${sessions}/${id}`, withKey(KEY_A))).body.status, 'terminated');
  });

  void it('answers 404 for an unknown session and 400 for a bad id', async () => {
    assertVendorError(await call(`${sessions}/ws_never_created`, withKey(KEY_A, 'DELETE')), 404, 'RESOURCE_NOT_FOUND');
    assertVendorError(await call(`${sessions}/bad%20id`, withKey(KEY_A, 'DELETE')), 400, 'INVALID_REQUEST');
  });

  void it('ignores a request body', async () => {
    const id = await createSession(sim.baseUrl);
    assert.equal((await call(`${sessions}/${id}`, withKey(KEY_A, 'DELETE', 'not json at all'))).status, 200);
  });

  void it('answers 401 INVALID_API_KEY without a valid key, and deletes nothing', async () => {
    const id = await createSession(sim.baseUrl);
    assertVendorError(await call(`${sessions}/${id}`, withKey(undefined, 'DELETE')), 401, 'INVALID_API_KEY');
    assertVendorError(await call(`${sessions}/${id}`, withKey('kp_wrong', 'DELETE')), 401, 'INVALID_API_KEY');
    assert.equal((await call(`${sessions}/${id}`, withKey(KEY_A))).body.status, 'active');
  });
});

void describe('ownership', () => {
  void it('lets only the creating account read or delete a session (403 INSUFFICIENT_PERMISSIONS)', async () => {
    const ofA = await createSession(sim.baseUrl, KEY_A);
    const ofB = await createSession(sim.baseUrl, KEY_B);
    const read = assertVendorError(await call(`${sessions}/${ofA}`, withKey(KEY_B)), 403, 'INSUFFICIENT_PERMISSIONS');
    assert.deepEqual(read.error.details, { session_id: ofA });
    assertVendorError(await call(`${sessions}/${ofA}`, withKey(KEY_B, 'DELETE')), 403, 'INSUFFICIENT_PERMISSIONS');
    assertVendorError(await call(`${sessions}/${ofB}`, withKey(KEY_A, 'DELETE')), 403, 'INSUFFICIENT_PERMISSIONS');
    // The refused deletes changed nothing; each owner can still delete its own.
    assert.equal((await call(`${sessions}/${ofA}`, withKey(KEY_A))).body.status, 'active');
    assert.equal((await call(`${sessions}/${ofA}`, withKey(KEY_A, 'DELETE'))).status, 200);
    assert.equal((await call(`${sessions}/${ofB}`, withKey(KEY_B, 'DELETE'))).status, 200);
  });

  void it('refuses another account even after the session ended', async () => {
    const id = await createSession(sim.baseUrl, KEY_A);
    await call(`${sessions}/${id}`, withKey(KEY_A, 'DELETE'));
    assertVendorError(await call(`${sessions}/${id}`, withKey(KEY_B, 'DELETE')), 403, 'INSUFFICIENT_PERMISSIONS');
  });
});

void describe('unknown endpoints', () => {
  void it('answer 404 RESOURCE_NOT_FOUND in the vendor schema', async () => {
    const id = await createSession(sim.baseUrl);
    const cases: Array<[string, string]> = [
      ['GET', sessions],
      ['DELETE', sessions],
      ['PUT', `${sessions}/${id}`],
      ['POST', `${sessions}/${id}`],
      ['GET', `${sessions}/${id}/extra`],
      ['GET', `${sessions}/`],
      ['GET', `${sim.baseUrl}/v1/widget/other`],
      ['GET', `${sim.baseUrl}/v2/widget/sessions`],
    ];
    for (const [method, url] of cases)
      assertVendorError(await call(url, withKey(KEY_A, method)), 404, 'RESOURCE_NOT_FOUND');
    assert.equal((await call(`${sessions}/${id}`, withKey(KEY_A))).body.status, 'active');
  });
});
