// The demo with REDIS_URL: two demo servers on one Redis (the second uses the first's simulator as its
// vendor, as the README's two-process recipe does) share one registry, so the first one's console
// lists a session made through the second and "Revoke on every device" reaches the second's stream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DemoServer } from '../../demo/server.js';
import { startDemoServer } from '../../demo/server.js';
import { openStream } from '../proxy/support/event-stream.js';
import { RedisServer } from '../proxy/support/redis-server.js';

const redis = new RedisServer();
const SECRET = 'redis-demo-secret-redis-demo-secret-0123456789';
const API_KEY = 'kp_demo_redis_0123456789abcdef';
let first: DemoServer;
let second: DemoServer;

// One hook each way, in order: Node 20 runs a file's root hooks side by side.
before(async () => {
  await redis.start();
  const shared = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `demo-${process.pid}:`,
    DEMO_SECRET: SECRET,
    KONPRO_API_KEY: API_KEY,
  };
  first = await startDemoServer({ port: 0, env: shared, log: () => {} });
  second = await startDemoServer({
    port: 0,
    env: {
      ...shared,
      KONPRO_API_BASE: first.vendorBase,
      KONPRO_AVATAR_ID: 'avatar_demo',
      KONPRO_WIDGET_URL: `${first.origin}${first.simulator!.widgetUrl('SESSION').replace('SESSION', '{session_id}')}`,
    },
    log: () => {},
  });
});
after(async () => {
  await second?.close();
  await first?.close();
  await redis.stop();
});

const pairs = (response: Response) => response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);

void describe('demo with REDIS_URL', () => {
  void it('says where its store is, without the URL', () => {
    assert.match(first.storeDescription ?? '', /^Redis at 127\.0\.0\.1:\d+ \(prefix demo-\d+:\)/);
    assert.equal(second.simulator, undefined, 'the second process uses the first one’s simulator');
  });

  void it('two demo processes share the console: the first lists and revokes a session whose page is on the second', async () => {
    const origin = second.origin;
    const signIn = await fetch(`${origin}/auth/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
      body: new URLSearchParams({ name: 'Ada', next: '/' }).toString(),
    });
    const cookies = pairs(signIn);
    const created = await fetch(`${origin}/api/widget-sessions`, {
      method: 'POST',
      headers: { 'X-Konpro-Guard': '1', Origin: origin, Cookie: cookies.join('; ') },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { session_id: sessionId } = (await created.json()) as { session_id: string };
    const stream = await openStream(origin, {
      cookies: [...cookies, ...pairs(created)],
      sessions: [sessionId],
      origin,
    });
    assert.equal(stream.status, 200, stream.text);

    const listed = (await (await fetch(`${first.origin}/admin/registry`)).json()) as {
      users: Array<{ user_id: string; sessions: Array<{ session_id: string }> }>;
    };
    assert.deepEqual(
      listed.users.find((user) => user.user_id === 'person:Ada')?.sessions.map((s) => s.session_id),
      [sessionId],
    );

    const revoke = await fetch(`${first.origin}/admin/registry/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: first.origin },
      body: JSON.stringify({ user_id: 'person:Ada' }),
    });
    assert.equal(revoke.status, 200);
    const [event] = await stream.waitForEvents(1, 1_000);
    assert.deepEqual(JSON.parse(event.data!), { session_id: sessionId, reason: 'revoked' });
    assert.equal(first.simulator!.store.endReason(first.simulator!.store.get(sessionId)!), 'deleted');
    stream.close();
  });
});
