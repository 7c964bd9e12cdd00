// Fault injection on both paths: the simulated vendor API, and the proxy's
// path as the demo server mounts it (`faults.apply(req, res, 'proxy')` first).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FaultInjector, FaultPatchError } from '../../demo/simulator/index.js';
import type { KonproSimulator } from '../../demo/simulator/index.js';
import type { RunningSimulator } from './helpers.js';
import { assertVendorError, call, createSession, KEY_A, rawRequest, startSimulator, withKey } from './helpers.js';

/** Alternates which 5xx an error-rate fault picks: the injector draws twice per failed request. */
let draws: number[] = [];
const random = (): number => draws.shift() ?? 0.5;

let sim: RunningSimulator;
/** A stand-in for the demo server: simulator first, then proxy faults, then "the proxy". */
let site: Server;
let siteOrigin: string;

function mountLikeTheDemo(simulator: KonproSimulator): Server {
  return createServer((req, res) => {
    void (async () => {
      if (await simulator.handle(req, res)) return;
      if (req.url?.startsWith('/api/widget-sessions')) {
        if ((await simulator.faults.apply(req, res, 'proxy')) === 'handled') return;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"proxied":true}');
        return;
      }
      res.writeHead(404);
      res.end();
    })();
  });
}

before(async () => {
  sim = await startSimulator({ random });
  site = mountLikeTheDemo(sim.simulator);
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
after(async () => {
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
  await sim.close();
});
beforeEach(() => {
  sim.simulator.faults.reset();
  sim.simulator.store.clear();
  draws = [];
});

const setFaults = (patch: unknown) =>
  call(`${sim.baseUrl}/console/api/faults`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(patch),
  });

void describe('vendor faults', () => {
  void it('adds latency', async () => {
    assert.equal((await setFaults({ vendor: { latencyMs: 300 } })).status, 200);
    const started = performance.now();
    assert.equal(
      (await call(`${sim.baseUrl}/v1/widget/sessions`, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' }))).status,
      201,
    );
    assert.ok(performance.now() - started >= 290, 'the create came back sooner than the 300 ms of vendor latency');
  });

  void it('fails every request at error rate 1 with 503 SERVICE_UNAVAILABLE or 500 PROCESSING_ERROR', async () => {
    const id = await createSession(sim.baseUrl);
    await setFaults({ vendor: { errorRate: 1 } });
    draws = [0.99, 0.1, 0.99, 0.9];
    const unavailable = await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE'));
    assertVendorError(unavailable, 503, 'SERVICE_UNAVAILABLE');
    assert.equal(unavailable.headers.get('retry-after'), '1');
    assertVendorError(
      await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A, 'DELETE')),
      500,
      'PROCESSING_ERROR',
    );
    // The widget runtime is the vendor too; a failure is not a termination.
    const runtime = await call(`${sim.baseUrl}/v1/widget/runtime/session`, {
      headers: { Authorization: `Bearer ${id}` },
    });
    assert.ok(
      [500, 503].includes(runtime.status),
      `the failing widget runtime answered ${runtime.status}, not a 500 or 503`,
    );
    // Nothing was deleted behind the errors.
    await setFaults({ vendor: { errorRate: 0 } });
    assert.equal((await call(`${sim.baseUrl}/v1/widget/sessions/${id}`, withKey(KEY_A))).body.status, 'active');
  });

  void it('fails only the drawn share of requests', async () => {
    await setFaults({ vendor: { errorRate: 0.5 } });
    draws = [0.7, 0.2, 0.1];
    assert.equal(
      (await call(`${sim.baseUrl}/v1/widget/sessions`, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' }))).status,
      201,
    );
    assertVendorError(
      await call(`${sim.baseUrl}/v1/widget/sessions`, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' })),
      503,
      'SERVICE_UNAVAILABLE',
    );
  });

  void it('goes offline: the connection is destroyed without an answer', async () => {
    await setFaults({ vendor: { offline: true } });
    const answer = await rawRequest(
      sim.origin,
      'POST',
      '/konpro/v1/widget/sessions',
      { 'x-api-key': KEY_A },
      '{"agentic_avatar_id":"a"}',
    );
    assert.ok('error' in answer, 'no HTTP answer');
    assert.match(answer.error.code ?? answer.error.message, /ECONNRESET|socket hang up/);
    await assert.rejects(fetch(`${sim.baseUrl}/v1/widget/runtime/session`));
    assert.equal(sim.simulator.store.size, 0);
  });

  void it('rate-limits with 429 RATE_LIMIT_EXCEEDED and Retry-After', async () => {
    await setFaults({ vendor: { rateLimitPerMinute: 2 } });
    const url = `${sim.baseUrl}/v1/widget/sessions`;
    assert.equal((await call(url, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' }))).status, 201);
    assert.equal((await call(url, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' }))).status, 201);
    const limited = await call(url, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' }));
    const error = assertVendorError(limited, 429, 'RATE_LIMIT_EXCEEDED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.deepEqual(error.error.details, { limit: 2, window_seconds: 60, retry_after_seconds: retryAfter });
  });

  void it('leaves the console, the widget files and the proxy path alone', async () => {
    await setFaults({ vendor: { offline: true } });
    assert.equal((await call(`${sim.baseUrl}/console/api/sessions`)).status, 200);
    assert.equal((await call(`${sim.baseUrl}/widget/embed.js`)).status, 200);
    assert.equal((await call(`${siteOrigin}/api/widget-sessions`)).status, 200);
  });

  void it('answers CORS preflights even when failing', async () => {
    await setFaults({ vendor: { errorRate: 1 } });
    const answer = await call(`${sim.baseUrl}/v1/widget/runtime/session`, { method: 'OPTIONS' });
    assert.equal(answer.status, 204);
  });
});

void describe('proxy faults (the demo server applies them before its proxy)', () => {
  const proxyUrl = () => `${siteOrigin}/api/widget-sessions/ws_x`;

  void it('adds latency', async () => {
    await setFaults({ proxy: { latencyMs: 250 } });
    const started = performance.now();
    assert.deepEqual((await call(proxyUrl())).body, { proxied: true });
    assert.ok(performance.now() - started >= 240, 'the proxied call came back sooner than the 250 ms of proxy latency');
  });

  void it('answers 5xx in the vendor schema at error rate 1', async () => {
    await setFaults({ proxy: { errorRate: 1 } });
    draws = [0.5, 0.2];
    assertVendorError(await call(proxyUrl(), { method: 'DELETE' }), 503, 'SERVICE_UNAVAILABLE');
  });

  void it('goes offline', async () => {
    await setFaults({ proxy: { offline: true } });
    const answer = await rawRequest(siteOrigin, 'DELETE', '/api/widget-sessions/ws_x');
    assert.ok('error' in answer, 'the offline proxy still answered the DELETE');
  });

  void it('rate-limits', async () => {
    await setFaults({ proxy: { rateLimitPerMinute: 1 } });
    assert.equal((await call(proxyUrl())).status, 200);
    assertVendorError(await call(proxyUrl()), 429, 'RATE_LIMIT_EXCEEDED');
  });

  void it('leaves the vendor API alone', async () => {
    await setFaults({ proxy: { offline: true, errorRate: 1 } });
    assert.equal(
      (await call(`${siteOrigin}/konpro/v1/widget/sessions`, withKey(KEY_A, 'POST', { agentic_avatar_id: 'a' })))
        .status,
      201,
    );
  });
});

void describe('fault settings', () => {
  void it('merge patches and read back through the console API', async () => {
    await setFaults({ vendor: { latencyMs: 10 } });
    const answer = await setFaults({ vendor: { offline: true }, proxy: { errorRate: 0.25 } });
    assert.deepEqual(answer.body, {
      vendor: { latencyMs: 10, errorRate: 0, offline: true, rateLimitPerMinute: 0 },
      proxy: { latencyMs: 0, errorRate: 0.25, offline: false, rateLimitPerMinute: 0 },
    });
    assert.deepEqual((await call(`${sim.baseUrl}/console/api/faults`)).body, answer.body);
    assert.deepEqual(sim.simulator.faults.state, answer.body);
  });

  void it('refuse bad values with 400 VALIDATION_ERROR and change nothing', async () => {
    for (const patch of [
      { vendor: { latencyMs: -1 } },
      { vendor: { latencyMs: 60_001 } },
      { vendor: { latencyMs: 1.5 } },
      { vendor: { errorRate: 1.1 } },
      { vendor: { errorRate: '0.5' } },
      { proxy: { offline: 'yes' } },
      { proxy: { rateLimitPerMinute: -3 } },
      { proxy: { unknown: 1 } },
      { database: { offline: true } },
      { vendor: 'offline' },
      [],
    ]) {
      assertVendorError(await setFaults(patch), 400, 'VALIDATION_ERROR');
    }
    assert.deepEqual(sim.simulator.faults.state, new FaultInjector().state);
  });

  void it('throw FaultPatchError from update() with one problem per field', () => {
    const faults = new FaultInjector();
    assert.throws(
      () => faults.update({ vendor: { latencyMs: -1, offline: 1 } }),
      (error: unknown) => error instanceof FaultPatchError && error.problems.length === 2,
    );
  });

  void it('clear with reset', async () => {
    await setFaults({ vendor: { offline: true }, proxy: { latencyMs: 5 } });
    const answer = await call(`${sim.baseUrl}/console/api/reset`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"sessions": false}',
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(sim.simulator.faults.state, new FaultInjector().state);
  });
});
