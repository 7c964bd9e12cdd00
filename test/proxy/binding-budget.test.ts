// However many sessions one browser creates (a kiosk reloading its auto-start page all day), its
// binding cookies stay a few KB: each create first drops what needs no delete (unreadable, expired,
// sessions past their expiry, retired bindings) and, at the limit, ends the oldest session at the
// vendor before it drops that binding. No binding is dropped while its session may still run.
// Over real HTTP, with a browser-like cookie jar, so a Cookie header the server refuses (431) shows.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { classifyResponse, Verdict } from '../../src/detection/classify-response.js';
import { toFetchRequest, toNodeListener, type WidgetSessionProxy } from '../../src/proxy/index.js';
import { CookieJar } from './support/cookie-jar.js';
import { openStream } from './support/event-stream.js';
import { reply } from './support/fake-vendor.js';
import { BASE_PATH, fakeVendorForFile, makeProxy, read, SITE, type Answer } from './support/harness.js';

const vendor = fakeVendorForFile();
/** The most bindings a browser holds after a create (as the README states). */
const MAX_BINDINGS = 10;
const LONGEST_ID = (n: number) => `${String(n).padStart(6, '0')}${'x'.repeat(122)}`;

let proxy: WidgetSessionProxy;
let url: string;
let server: Server;
/** A browser on SITE (TLS terminated in front of this server), signed in as alice. */
class Browser {
  readonly jar = new CookieJar(SITE);

  async send(method: string, path: string): Promise<Answer> {
    const answer = await fetch(`${url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        'x-konpro-guard': '1',
        origin: SITE,
        'sec-fetch-site': 'same-origin',
        cookie: ['site_user=alice', ...this.jar.pairs()].join('; '),
      },
    }).then(read);
    this.jar.store(answer.setCookie);
    return answer;
  }

  create(): Promise<Answer> {
    return this.send('POST', BASE_PATH);
  }

  bindings(): string[] {
    return this.jar.pairs().filter((pair) => pair.includes('kwg_'));
  }

  /** Bytes the binding cookies take in the Cookie header. */
  bindingBytes(): number {
    return Buffer.byteLength(this.bindings().join('; '));
  }

  /** The session ids the browser holds live (not retired) bindings for. */
  boundIds(): string[] {
    return this.bindings().map((pair) => pair.slice(pair.indexOf('=') + 1).split('.')[0]);
  }
}

void describe('binding cookies of one browser', () => {
  before(async () => {
    // Every test is a new browser of the same user on one proxy: the per-user limits stay out of the way
    // (the registry's cap is tested in cost-limits.test.ts), so only the binding budget ends sessions.
    proxy = makeProxy(vendor, { rateLimit: { creates: 1000, deletes: 1000 }, maxSessionsPerUser: 1000 }).proxy;
    const listener = toNodeListener(proxy);
    server = createServer((req, res) => {
      if (proxy.handles(req.url ?? '/')) return listener(req, res);
      // The site's logout route: the only way a user could clear bindings that made the site answer 431.
      void proxy.endSessions(toFetchRequest(req)).then(({ setCookie }) => {
        res.writeHead(303, { location: '/', 'set-cookie': setCookie }).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  void it('stay under 4 KB over 100 creates of the longest ids, with no session left running unbound', async () => {
    vendor.idOf = LONGEST_ID;
    const browser = new Browser();
    let largest = 0;
    for (let i = 0; i < 100; i++) {
      const created = await browser.create();
      assert.equal(created.status, 201, `create ${i}: ${created.status} ${created.text}`);
      largest = Math.max(largest, browser.bindingBytes());
      assert.ok(browser.bindings().length <= MAX_BINDINGS, `${browser.bindings().length} bindings after create ${i}`);
      // Every session still running at the vendor is one this browser can still end.
      assert.deepEqual([...vendor.sessions.keys()].sort(), browser.boundIds().sort(), `after create ${i}`);
    }
    assert.ok(largest < 4096, `binding cookies took ${largest} bytes`);
    assert.equal(vendor.requests.filter((r) => r.method === 'DELETE').length, 100 - MAX_BINDINGS);

    // A burst of creates from several tabs at once may each see the same cookies: still under 4 KB.
    const burst = await Promise.all([1, 2, 3, 4].map(() => browser.create()));
    assert.deepEqual(
      burst.map((a) => a.status),
      [201, 201, 201, 201],
    );
    assert.ok(browser.bindingBytes() < 4096, `${browser.bindingBytes()} bytes after a burst`);

    // The site's own routes still answer (no 431), and its logout ends every session left.
    const logout = await browser.send('POST', '/logout');
    assert.equal(logout.status, 303);
    assert.equal(vendor.sessions.size, 0);
    assert.deepEqual(browser.bindings(), []);
  });

  void it('drop retired bindings before any live one, with no vendor call', async () => {
    const browser = new Browser();
    const ids: string[] = [];
    for (let i = 0; i < MAX_BINDINGS; i++) ids.push((await browser.create()).body.session_id);
    for (const id of ids.slice(0, 3)) assert.equal((await browser.send('DELETE', `${BASE_PATH}/${id}`)).status, 200);
    vendor.requests.length = 0;
    for (let i = 0; i < 3; i++) assert.equal((await browser.create()).status, 201);
    assert.deepEqual(
      vendor.requests.map((r) => r.method),
      ['POST', 'POST', 'POST'],
      'room came from the retired bindings',
    );
    assert.equal(browser.bindings().length, MAX_BINDINGS);
    assert.deepEqual([...vendor.sessions.keys()].sort(), browser.boundIds().sort());
  });

  void it('drop a binding whose session has expired before any live one, with no vendor call', async () => {
    const browser = new Browser();
    const created: string[] = [];
    for (let i = 0; i < MAX_BINDINGS; i++) created.push((await browser.create()).body.session_id);
    // The vendor expires the first session; its binding lives on for a day (a late delete still proves ownership).
    const realNow = Date.now;
    const first = vendor.sessions.get(created[0])!;
    Date.now = () => realNow() + 3600_000 + 60_000;
    try {
      // Every session is now past its expiry: the oldest binding goes without a vendor call.
      vendor.requests.length = 0;
      assert.equal((await browser.create()).status, 201);
      assert.deepEqual(
        vendor.requests.map((r) => r.method),
        ['POST'],
      );
      assert.ok(
        !browser.boundIds().includes(first.session_id),
        'the expired oldest session is still bound after the new one',
      );
    } finally {
      Date.now = realNow;
    }
  });

  void it('at the limit, end the oldest session at the vendor, then drop its binding', async () => {
    const browser = new Browser();
    const ids: string[] = [];
    for (let i = 0; i < MAX_BINDINGS; i++) ids.push((await browser.create()).body.session_id);
    vendor.requests.length = 0;
    const created = await browser.create();
    assert.equal(created.status, 201);
    assert.deepEqual(
      vendor.requests.map((r) => `${r.method} ${r.url.split('/').at(-1)}`),
      [`DELETE ${ids[0]}`, 'POST sessions'],
    );
    assert.equal(vendor.sessions.has(ids[0]), false);
    assert.deepEqual(browser.boundIds().sort(), [...ids.slice(1), created.body.session_id].sort());
  });

  void it('an evicted session leaves the registry, and its open pages hear it was revoked', async () => {
    const browser = new Browser();
    const ids: string[] = [];
    for (let i = 0; i < MAX_BINDINGS; i++) ids.push((await browser.create()).body.session_id);
    const stream = await openStream(url, { user: 'alice', sessions: [ids[0]] });
    assert.equal(stream.status, 200, stream.text);
    await stream.waitForComments(1);
    const created = await browser.create();
    assert.equal(created.status, 201);
    assert.equal(vendor.sessions.has(ids[0]), false, 'deleted at the vendor');
    const listed = (await proxy.listSessions({ userId: 'alice' })).map((session) => session.sessionId);
    assert.ok(!listed.includes(ids[0]), 'no longer listed as live');
    assert.ok(listed.includes(created.body.session_id), 'the new session is not listed as live for alice');
    const [event] = await stream.waitForEvents(1);
    assert.deepEqual(JSON.parse(event.data!), { session_id: ids[0], reason: 'revoked' });
    stream.close();
  });

  void it('keep every binding and refuse the create, transiently, while the vendor cannot end the oldest', async () => {
    const browser = new Browser();
    const ids: string[] = [];
    for (let i = 0; i < MAX_BINDINGS; i++) ids.push((await browser.create()).body.session_id);
    vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE'));
    const refused = await browser.create();
    assert.equal(refused.status, 503, refused.text);
    assert.equal(classifyResponse(refused.status, refused.body).verdict, Verdict.Transient, 'the guard retries');
    assert.deepEqual(browser.boundIds().sort(), [...ids].sort(), 'no binding dropped');
    assert.equal(vendor.sessions.size, MAX_BINDINGS, 'no session created that could not be bound');
    const retried = await browser.create();
    assert.equal(retried.status, 201, 'the next try makes room');
    assert.equal(vendor.sessions.has(ids[0]), false);
  });

  void it('let a binding go when the vendor refuses its delete for good (another account’s session)', async () => {
    const browser = new Browser();
    for (let i = 0; i < MAX_BINDINGS; i++) await browser.create();
    vendor.queue(reply.error(403, 'INSUFFICIENT_PERMISSIONS'));
    assert.equal((await browser.create()).status, 201, 'a kiosk is never locked out by a session it cannot end');
    assert.equal(browser.bindings().length, MAX_BINDINGS);
  });

  void it('clear unreadable bindings (another secret, damaged) on a create', async () => {
    const browser = new Browser();
    browser.jar.put('__Host-kwg_AAAAAAAAAAAAAAAA', 'sess_0.1.x.y');
    browser.jar.put('kwg_BBBBBBBBBBBBBBBB', 'garbage');
    assert.equal((await browser.create()).status, 201);
    assert.deepEqual(
      browser.jar.names().filter((name) => name.includes('kwg_')).length,
      1,
      'only the new binding is left',
    );
  });
});
