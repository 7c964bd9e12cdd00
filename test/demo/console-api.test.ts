// The console's JSON routes: list, create, revoke (through the documented
// DELETE over HTTP, server-side), reset; and the simulator's own options.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createKonproSimulator } from '../../demo/simulator/index.js';
import type { RunningSimulator } from './helpers.js';
import { assertVendorError, call, createSession, KEY_A, KEY_B, startSimulator, withKey } from './helpers.js';

let sim: RunningSimulator;
let api: string;
before(async () => {
  sim = await startSimulator();
  api = `${sim.baseUrl}/console/api`;
});
after(() => sim.close());
beforeEach(() => {
  sim.simulator.store.clear();
  sim.simulator.faults.reset();
});

const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

void describe('console API', () => {
  void it('lists sessions newest first with owner, state and widget URL, and never a key', async () => {
    const first = await createSession(sim.baseUrl, KEY_A);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await createSession(sim.baseUrl, KEY_B);
    const answer = await call(`${api}/sessions`);
    assert.equal(answer.status, 200);
    assert.deepEqual(
      answer.body.sessions.map((s: { session_id: string; account_id: string }) => [s.session_id, s.account_id]),
      [
        [second, 'acct_b'],
        [first, 'acct_a'],
      ],
    );
    assert.equal(answer.body.sessions[0].widget_url, `/konpro/widget/?session_id=${second}`);
    assert.equal(answer.text.includes(KEY_A) || answer.text.includes(KEY_B), false);
  });

  void it('revokes a session through the documented DELETE and answers what the vendor said', async () => {
    const id = await createSession(sim.baseUrl, KEY_A);
    const answer = await post(`${api}/sessions/${id}/revoke`);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, JSON.stringify({ message: 'Session terminated successfully', session_id: id }));
    assert.match(answer.headers.get('x-request-id') ?? '', /^req_/);
    assert.equal((await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A))).body.status, 'terminated');
    assertVendorError(
      await call(`${sim.baseUrl}/v1/widget/runtime/session`, { headers: { Authorization: `Bearer ${id}` } }),
      401,
      'SESSION_TERMINATED',
    );
    // Revoking again is the vendor's 404.
    assertVendorError(await post(`${api}/sessions/${id}/revoke`), 404, 'RESOURCE_NOT_FOUND');
  });

  void it("revokes with the owning account's key", async () => {
    const id = await createSession(sim.baseUrl, KEY_B);
    assert.equal((await post(`${api}/sessions/${id}/revoke`)).status, 200);
  });

  void it('goes over the vendor path: a vendor outage fails the revoke and keeps the session', async () => {
    const id = await createSession(sim.baseUrl);
    sim.simulator.faults.update({ vendor: { offline: true } });
    assertVendorError(await post(`${api}/sessions/${id}/revoke`), 502, 'UPSTREAM_UNREACHABLE');
    sim.simulator.faults.update({ vendor: { offline: false, errorRate: 1 } });
    assert.ok(
      [500, 503].includes((await post(`${api}/sessions/${id}/revoke`)).status),
      'with the vendor failing every request, the revoke did not fail with its 500 or 503',
    );
    sim.simulator.faults.reset();
    assert.equal((await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A))).body.status, 'active');
  });

  void it('refuses unknown and malformed ids', async () => {
    assertVendorError(await post(`${api}/sessions/ws_nope/revoke`), 404, 'RESOURCE_NOT_FOUND');
    assertVendorError(await post(`${api}/sessions/a.b/revoke`), 400, 'INVALID_REQUEST');
  });

  void it('creates test sessions through the documented POST', async () => {
    const answer = await post(`${api}/sessions`, { max_duration: 90, agentic_avatar_id: 'avatar_console' });
    assert.equal(answer.status, 201);
    assert.equal(answer.body.agentic_avatar_id, 'avatar_console');
    assert.equal(Date.parse(answer.body.expires_at) - Date.parse(answer.body.created_at), 90_000);
    assert.equal(answer.body.widget_url, `/konpro/widget/?session_id=${answer.body.session_id}`);
    const ofB = await post(`${api}/sessions`, { account_id: 'acct_b' });
    assert.equal(sim.simulator.store.get(ofB.body.session_id)?.accountId, 'acct_b');
    assertVendorError(await post(`${api}/sessions`, { max_duration: 0 }), 400, 'VALIDATION_ERROR');
    assertVendorError(await post(`${api}/sessions`, { account_id: 'acct_nobody' }), 400, 'VALIDATION_ERROR');
  });

  void it('resets sessions and faults', async () => {
    await createSession(sim.baseUrl);
    sim.simulator.faults.update({ proxy: { latencyMs: 5 } });
    const kept = await post(`${api}/reset`, { faults: false });
    assert.equal(kept.body.sessions, 0);
    assert.equal(sim.simulator.faults.state.proxy.latencyMs, 5);
    assert.equal((await post(`${api}/reset`)).status, 200);
    assert.equal(sim.simulator.faults.state.proxy.latencyMs, 0);
  });

  void it('refuses cross-origin writes (a form on another site cannot revoke)', async () => {
    const id = await createSession(sim.baseUrl);
    assertVendorError(
      await post(`${api}/sessions/${id}/revoke`, undefined, { Origin: 'https://evil.example' }),
      403,
      'INSUFFICIENT_PERMISSIONS',
    );
    assertVendorError(
      await post(`${api}/reset`, undefined, { 'Sec-Fetch-Site': 'cross-site' }),
      403,
      'INSUFFICIENT_PERMISSIONS',
    );
    assert.equal(sim.simulator.store.size, 1);
    assert.equal((await post(`${api}/sessions/${id}/revoke`, undefined, { Origin: sim.origin })).status, 200);
  });

  void it('answers 404 for unknown console routes', async () => {
    assertVendorError(await call(`${api}/nothing`), 404, 'RESOURCE_NOT_FOUND');
    assertVendorError(await call(`${api}/sessions`, { method: 'DELETE' }), 404, 'RESOURCE_NOT_FOUND');
  });
});

void describe('createKonproSimulator options', () => {
  void it('generates a dev key for acct_dev when given none', () => {
    const simulator = createKonproSimulator();
    assert.match(simulator.apiKey, /^kp_dev_[A-Za-z0-9]{32}$/);
    assert.equal(simulator.accounts.get(simulator.apiKey), 'acct_dev');
    assert.notEqual(createKonproSimulator().apiKey, simulator.apiKey);
  });

  void it('accepts the dev key it is given (KONPRO_API_KEY)', () => {
    const simulator = createKonproSimulator({ devApiKey: 'kp_from_env', apiKeys: { kp_other: 'acct_other' } });
    assert.equal(simulator.apiKey, 'kp_from_env');
    assert.deepEqual(
      [...simulator.accounts],
      [
        ['kp_other', 'acct_other'],
        ['kp_from_env', 'acct_dev'],
      ],
    );
  });

  void it('builds widget URLs on another origin and an API base for the proxy', () => {
    const simulator = createKonproSimulator({ widgetOrigin: 'http://127.0.0.1:9001', mountPath: '/vendor/' });
    assert.equal(simulator.mountPath, '/vendor');
    assert.equal(simulator.widgetUrl('ws_1'), 'http://127.0.0.1:9001/vendor/widget/?session_id=ws_1');
    assert.equal(simulator.embedScriptUrl, 'http://127.0.0.1:9001/vendor/widget/embed.js');
    assert.equal(simulator.apiBase('http://localhost:8000'), 'http://localhost:8000/vendor');
    assert.throws(() => createKonproSimulator({ mountPath: 'no-slash' }), /mountPath/);
  });

  void it('passes other URLs on to the caller', async () => {
    const simulator = createKonproSimulator();
    const handled = await simulator.handle({ url: '/api/widget-sessions', method: 'GET' } as never, {} as never);
    assert.equal(handled, false);
    assert.equal(await simulator.handle({ url: '/konprofile', method: 'GET' } as never, {} as never), false);
  });
});
