// Request targets that mean one path to a filter in front of the proxy (a WAF rule, an audit log,
// path-scoped middleware) and another once normalised: dot segments, encoded dot segments,
// backslashes and encoded slashes. The proxy refuses them with 400 and never routes them to a
// session, even for a user who owns that session. Sent raw over node:http, as a client would.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { toNodeListener } from '../../src/proxy/index.js';
import { BASE_PATH, createSession, fakeVendorForFile, makeProxy, remember, SITE } from './support/harness.js';

const vendor = fakeVendorForFile();
const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Sends `target` byte for byte (fetch would normalise it first), as the guard in a page of SITE would. */
function raw(
  origin: string,
  method: string,
  target: string,
  cookies: readonly string[],
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  const headers = {
    'x-konpro-guard': '1',
    origin: SITE,
    'sec-fetch-site': 'same-origin',
    cookie: ['site_user=alice', ...cookies].join('; '),
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: target, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        remember(body);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject).end();
  });
}

void describe('ambiguous request targets', () => {
  void it('answers 400 to dot segments, encoded dots, backslashes and encoded slashes, and asks the vendor nothing', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    const url = await serve(toNodeListener(proxy));
    vendor.requests.length = 0;
    const targets = [
      `/api/x/%2e%2e/widget-sessions/${sessionId}`,
      `/api/x/%2E%2E/widget-sessions/${sessionId}`,
      `/api/x/.%2e/widget-sessions/${sessionId}`,
      `/api/x/../widget-sessions/${sessionId}`,
      `${BASE_PATH}/./${sessionId}`,
      `${BASE_PATH}/%2e/${sessionId}`,
      `${BASE_PATH}/x/../${sessionId}`,
      `${BASE_PATH}\\${sessionId}`,
      `/api\\widget-sessions/${sessionId}`,
      `${BASE_PATH}%2f${sessionId}`,
      `${BASE_PATH}%5C${sessionId}`,
      `/api%2Fwidget-sessions/${sessionId}`,
      `/api/x/%2e%2e/widget-sessions/${sessionId}?y=1`,
    ];
    for (const method of ['GET', 'DELETE']) {
      for (const target of targets) {
        const answer = await raw(url, method, target, [cookie]);
        if (answer.status === 404) continue; // Not the proxy's path even after normalising: nothing routed.
        assert.equal(answer.status, 400, `${method} ${target}: ${answer.body}`);
        assert.equal(JSON.parse(answer.body).error.code, 'VALIDATION_ERROR');
      }
    }
    assert.deepEqual(vendor.requests, [], 'no target reached the session at the vendor');
    assert.equal(vendor.sessions.has(sessionId), true);
    // The ones that normalise onto the session route are the ones that matter: at least those got 400.
    const routed = await raw(url, 'DELETE', `/api/x/%2e%2e/widget-sessions/${sessionId}`, [cookie]);
    assert.equal(routed.status, 400);
  });

  void it('refuses a dot segment that would turn a session path into the collection (a create)', async () => {
    const { proxy } = makeProxy(vendor);
    const url = await serve(toNodeListener(proxy));
    for (const target of [`${BASE_PATH}/.`, `${BASE_PATH}/%2e`, `${BASE_PATH}/x/..`]) {
      assert.equal((await raw(url, 'POST', target, [])).status, 400, target);
    }
    assert.equal(vendor.requests.length, 0, 'no session was created');
  });

  void it('still answers plain targets, with a query, as before', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    const url = await serve(toNodeListener(proxy));
    assert.equal((await raw(url, 'GET', `${BASE_PATH}/${sessionId}?x=../..%2f`, [cookie])).status, 200);
    assert.equal((await raw(url, 'DELETE', `${BASE_PATH}/${sessionId}`, [cookie])).status, 200);
  });
});
