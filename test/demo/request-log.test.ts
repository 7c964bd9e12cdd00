// The simulator's log of calls to the session API: what reached the vendor,
// with the status each call got, for "exactly one DELETE" assertions.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RunningSimulator } from './helpers.js';
import { call, createSession, KEY_A, startSimulator, withKey } from './helpers.js';

let sim: RunningSimulator;
let api: string;
before(async () => {
  sim = await startSimulator();
  api = `${sim.baseUrl}/console/api`;
});
after(() => sim.close());
beforeEach(() => {
  sim.simulator.store.clear();
  sim.simulator.requests.clear();
  sim.simulator.faults.reset();
});

void describe('request log', () => {
  void it('records session API calls in order with their statuses, and no runtime polls', async () => {
    const id = await createSession(sim.baseUrl);
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A));
    await call(`${sim.baseUrl}/v1/widget/runtime/session`, { headers: { Authorization: `Bearer ${id}` } });
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    const logged = sim.simulator.requests.list().map((r) => [r.method, r.path, r.session_id, r.status]);
    assert.deepEqual(logged, [
      ['POST', '/v1/widget/sessions', null, 201],
      ['GET', `/v1/widget/sessions/${id}`, id, 200],
      ['DELETE', `/v1/widget/sessions/${id}`, id, 200],
      ['DELETE', `/v1/widget/sessions/${id}`, id, 404],
    ]);
    assert.deepEqual(
      sim.simulator.requests.list({ method: 'delete', sessionId: id }).map((r) => r.status),
      [200, 404],
    );
  });

  void it('records calls a fault dropped, with status 0', async () => {
    sim.simulator.faults.update({ vendor: { offline: true } });
    await fetch(`${sim.baseUrl}/v1/widget/sessions/ws_gone`, withKey(KEY_A, 'DELETE')).catch(() => undefined);
    sim.simulator.faults.reset();
    // Waited for (the client sees the drop, not the simulator logging it), not 20 ms.
    for (const deadline = Date.now() + 2_000; sim.simulator.requests.list().length === 0;) {
      assert.ok(Date.now() < deadline, 'the dropped call was logged within 2 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(
      sim.simulator.requests.list().map((r) => [r.method, r.session_id, r.status]),
      [['DELETE', 'ws_gone', 0]],
    );
  });

  void it('is served by the console, filtered by method and session, and cleared by a reset', async () => {
    const a = await createSession(sim.baseUrl);
    const b = await createSession(sim.baseUrl);
    await call(`${api}/sessions/${a}/revoke`, { method: 'POST' });
    await call(`${sim.baseUrl}/v1/widget/sessions/${b}`, withKey(KEY_A, 'DELETE'));
    const deletesOfA = await call(`${api}/requests?method=DELETE&session_id=${a}`);
    assert.equal(deletesOfA.status, 200);
    assert.deepEqual(
      deletesOfA.body.requests.map((r: { method: string; session_id: string; status: number }) => [
        r.method,
        r.session_id,
        r.status,
      ]),
      [['DELETE', a, 200]],
    );
    assert.equal((await call(`${api}/requests`)).body.requests.length, 4);
    assert.equal(deletesOfA.text.includes(KEY_A), false);

    await call(`${api}/reset`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ faults: true }),
    });
    assert.deepEqual((await call(`${api}/requests`)).body, { requests: [] });
  });
});
