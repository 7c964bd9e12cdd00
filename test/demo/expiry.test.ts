// Expiry from settings.max_duration, with a clock the test moves by hand.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RunningSimulator } from './helpers.js';
import { assertVendorError, call, createSession, KEY_A, manualClock, startSimulator, withKey } from './helpers.js';

const clock = manualClock();
let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator({ now: clock.now });
});
after(() => sim.close());
beforeEach(() => sim.simulator.store.clear());

const status = async (id: string): Promise<string> =>
  (await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A))).body.status as string;
const runtime = (id: string) =>
  call(`${sim.baseUrl}/v1/widget/runtime/session`, { headers: { Authorization: `Bearer ${id}` } });

void describe('expiry', () => {
  void it('stamps created_at and expires_at from the clock and max_duration', async () => {
    const answer = await call(
      `${sim.baseUrl}/v1/widget/sessions`,
      withKey(KEY_A, 'POST', { agentic_avatar_id: 'a', settings: { max_duration: 2 } }),
    );
    assert.equal(answer.body.created_at, new Date(clock.now()).toISOString());
    assert.equal(answer.body.expires_at, new Date(clock.now() + 2000).toISOString());
  });

  void it('reads "terminated" from expires_at on, and not a millisecond before', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 2);
    clock.advance(1999);
    assert.equal(await status(id), 'active');
    assert.equal((await runtime(id)).status, 200);
    clock.advance(1);
    assert.equal(await status(id), 'terminated');
  });

  void it('fails the widget runtime with 401 SESSION_EXPIRED', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 2);
    clock.advance(2000);
    const error = assertVendorError(await runtime(id), 401, 'SESSION_EXPIRED');
    assert.deepEqual(error.error.details, { session_id: id });
    const message = await call(`${sim.baseUrl}/v1/widget/runtime/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${id}`, 'Content-Type': 'application/json' },
      body: '{"text":"still there?"}',
    });
    assertVendorError(message, 401, 'SESSION_EXPIRED');
  });

  void it('answers 404 to a delete of an expired session', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 5);
    clock.advance(5000);
    assertVendorError(
      await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE')),
      404,
      'RESOURCE_NOT_FOUND',
    );
  });

  void it('keeps reporting a deleted session as terminated (not expired) after its expiry', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 5);
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    clock.advance(10_000);
    assertVendorError(await runtime(id), 401, 'SESSION_TERMINATED');
  });

  void it('shows the end reason in the console list', async () => {
    const expired = await createSession(sim.baseUrl, KEY_A, 1);
    const deleted = await createSession(sim.baseUrl, KEY_A, 60);
    const live = await createSession(sim.baseUrl, KEY_A, 60);
    await call(`${sim.baseUrl}/v1/widget/sessions/${deleted}`, withKey(KEY_A, 'DELETE'));
    clock.advance(1000);
    const list = (await call(`${sim.baseUrl}/console/api/sessions`)).body as {
      server_time: string;
      sessions: Array<Record<string, unknown>>;
    };
    assert.equal(list.server_time, new Date(clock.now()).toISOString());
    const byId = new Map(list.sessions.map((s) => [s.session_id, s]));
    assert.equal(byId.get(expired)?.ended, 'expired');
    assert.equal(byId.get(expired)?.ended_at, byId.get(expired)?.expires_at);
    assert.equal(byId.get(deleted)?.ended, 'deleted');
    assert.equal(byId.get(live)?.ended, null);
    assert.equal(byId.get(live)?.status, 'active');
  });

  void it('forgets ended sessions a day after they ended (then: 404)', async () => {
    const id = await createSession(sim.baseUrl, KEY_A, 1);
    clock.advance(25 * 60 * 60 * 1000);
    assert.equal(await status(id), 'terminated');
    await createSession(sim.baseUrl); // creating is when the store tidies up
    assertVendorError(await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A)), 404, 'RESOURCE_NOT_FOUND');
    assertVendorError(await runtime(id), 401, 'INVALID_SESSION_TOKEN');
  });
});
