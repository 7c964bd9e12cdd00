// toNodeListener through a real node:http server, and as Express-style middleware (next()
// simulated): what is particular to Node. What every framework must do (the create / read /
// delete cycle, cross-origin refusal, every Set-Cookie, the logout route) is the shared
// contract in adapters.test.ts, run there for node:http and a real Express among the others.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { incomingMessageOf, toFetchRequest, toNodeListener } from '../../src/proxy/index.js';
import { API_KEY } from './support/fake-vendor.js';
import { assertError, fakeVendorForFile, BASE_PATH, makeProxy, read } from './support/harness.js';

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

/** A raw HTTP/1.1 request, for request targets and Host headers fetch would not send. */
function rawRequest(
  origin: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

void describe('toNodeListener on node:http', () => {
  void it('answers 404 in the vendor schema for paths the proxy does not handle', async () => {
    const { proxy } = makeProxy(vendor);
    const url = await serve(toNodeListener(proxy));
    assertError(await fetch(`${url}/somewhere/else`).then(read), 404, 'RESOURCE_NOT_FOUND');
    assert.equal(vendor.requests.length, 0);
  });

  void it('turns an exception into a 500 in the vendor schema that leaks nothing', async () => {
    const url = await serve(
      toNodeListener(() => {
        throw new Error(`boom with ${API_KEY}`);
      }),
    );
    const answer = await fetch(url).then(read);
    assertError(answer, 500, 'INTERNAL_ERROR');
    assert.ok(!answer.text.includes('boom'), 'the 500 repeats the exception’s message');
  });

  void it('keeps request targets and Host headers from changing where a request goes', async () => {
    const { proxy } = makeProxy(vendor, { authorize: () => 'alice' });
    const url = await serve(toNodeListener(proxy));
    const seen: string[] = [];
    const spy = await serve((req, res) => {
      seen.push(toFetchRequest(req).url);
      res.end();
    });
    await rawRequest(spy, '//evil.test/api/widget-sessions', { host: 'site.test' });
    await rawRequest(spy, '/api/widget-sessions/x?y=1', { host: 'evil.test/other?' });
    await rawRequest(spy, 'http://other.test/api/widget-sessions/abc', { host: 'site.test:8080' });
    assert.deepEqual(seen, [
      'http://site.test//evil.test/api/widget-sessions',
      'http://localhost/api/widget-sessions/x?y=1',
      'http://site.test:8080/api/widget-sessions/abc',
    ]);
    const answer = await rawRequest(url, `//evil.test${BASE_PATH}`, { 'x-konpro-guard': '1' });
    assert.equal(answer.status, 404);
    assert.equal(vendor.requests.length, 0);
  });
});

void describe('toNodeListener as Express middleware', () => {
  void it('handles its own paths and passes every other request to next()', async () => {
    const { proxy } = makeProxy(vendor, { authorize: () => 'alice' });
    const middleware = toNodeListener(proxy);
    const passedOn: string[] = [];
    // What Express does: call the middleware with a next() that runs the rest of the app.
    const url = await serve((req, res) =>
      middleware(req, res, () => {
        passedOn.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'text/plain' }).end('the rest of the app');
      }),
    );

    const other = await fetch(`${url}/about`).then(read);
    assert.equal(other.text, 'the rest of the app');
    const lookalike = await fetch(`${url}${BASE_PATH}-old/x`).then(read);
    assert.equal(lookalike.text, 'the rest of the app');
    assert.deepEqual(passedOn, ['/about', `${BASE_PATH}-old/x`]);

    const created = await fetch(`${url}${BASE_PATH}`, { method: 'POST', headers: { 'x-konpro-guard': '1' } }).then(
      read,
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(passedOn.length, 2, 'the proxy answered; next() was not called');
  });

  void it('lets authorize() read what earlier middleware put on req (incomingMessageOf)', async () => {
    const { proxy } = makeProxy(vendor, {
      authorize: (request) => {
        const req: (IncomingMessage & { user?: { id: string } }) | undefined = incomingMessageOf(request);
        return req?.user?.id ?? null;
      },
    });
    const middleware = toNodeListener(proxy);
    // Like an app's session middleware: it signs the request in before the proxy runs.
    const url = await serve((req, res) => {
      if (req.headers['x-test-signed-in']) Object.assign(req, { user: { id: 'carol' } });
      middleware(req, res);
    });
    const signedIn = await fetch(`${url}${BASE_PATH}`, {
      method: 'POST',
      headers: { 'x-konpro-guard': '1', 'x-test-signed-in': '1' },
    }).then(read);
    assert.equal(signedIn.status, 201, signedIn.text);
    assertError(
      await fetch(`${url}${BASE_PATH}`, { method: 'POST', headers: { 'x-konpro-guard': '1' } }).then(read),
      401,
      'AUTHENTICATION_REQUIRED',
    );
  });

  void it('works under an Express mount path (app.use(basePath, middleware))', async () => {
    const { proxy } = makeProxy(vendor, { authorize: () => 'alice' });
    const middleware = toNodeListener(proxy);
    let nextCalled = false;
    // Express under a mount path: req.url loses the prefix, req.originalUrl keeps it.
    const url = await serve((req, res) => {
      const mounted = Object.assign(req, { originalUrl: req.url, url: req.url!.slice(BASE_PATH.length) || '/' });
      middleware(mounted, res, () => {
        nextCalled = true;
        res.end();
      });
    });
    const created = await fetch(`${url}${BASE_PATH}`, { method: 'POST', headers: { 'x-konpro-guard': '1' } }).then(
      read,
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(nextCalled, false);
  });
});
