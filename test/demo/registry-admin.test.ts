// The demo's registry: two browsers of one user, seen in the console's registry view as two devices;
// "Sign out everywhere" in one ends both sessions at the vendor and reaches the other's event stream;
// the console's "Revoke on every device"; a cross-site post is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DemoServer } from '../../demo/server.js';
import { startDemoServer } from '../../demo/server.js';
import { openStream } from '../proxy/support/event-stream.js';

let demo: DemoServer;
let origin: string;
before(async () => {
  demo = await startDemoServer({ port: 0, env: {}, log: () => {} });
  origin = demo.origin;
});
after(() => demo.close());

const pairs = (response: Response) => response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);

/** A browser signed in as `name`, with the avatar session its guard started. */
async function browser(name: string): Promise<{ cookies: string[]; sessionId: string }> {
  const signIn = await fetch(`${origin}/auth/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
    body: new URLSearchParams({ name, next: '/' }).toString(),
  });
  const cookies = pairs(signIn);
  const created = await fetch(`${origin}/api/widget-sessions`, {
    method: 'POST',
    headers: { 'X-Konpro-Guard': '1', Origin: origin, Cookie: cookies.join('; ') },
  });
  assert.equal(created.status, 201);
  const { session_id: sessionId } = (await created.json()) as { session_id: string };
  return { cookies: [...cookies, ...pairs(created)], sessionId };
}

const registry = async () =>
  (
    (await (await fetch(`${origin}/admin/registry`)).json()) as {
      users: Array<{ user_id: string; devices: number; pages: number; last_seen_at: string }>;
    }
  ).users;

const ended = (id: string) => demo.simulator!.store.endReason(demo.simulator!.store.get(id)!);

void describe('demo registry', () => {
  void it('two browsers of Ada are two devices; "Sign out everywhere" in one ends both, and the other hears it', async () => {
    const laptop = await browser('Ada');
    const phone = await browser('Ada');
    const grace = await browser('Grace');
    const phoneStream = await openStream(origin, {
      cookies: phone.cookies,
      sessions: [phone.sessionId],
      origin,
    });
    assert.equal(phoneStream.status, 200, phoneStream.text);

    const ada = (await registry()).find((u) => u.user_id === 'person:Ada');
    assert.equal(ada?.devices, 2);
    assert.ok(Date.parse(ada.last_seen_at) > 0, `the registry shows no last-seen time for Ada: ${ada.last_seen_at}`);

    const signOut = await fetch(`${origin}/auth/signout`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: origin,
        Cookie: laptop.cookies.join('; '),
      },
      body: new URLSearchParams({ next: '/', everywhere: '1' }).toString(),
    });
    assert.equal(signOut.status, 303);
    assert.equal(ended(laptop.sessionId), 'deleted');
    assert.equal(ended(phone.sessionId), 'deleted', 'the other device’s session too');
    assert.equal(ended(grace.sessionId), null, 'nobody else’s');
    // The stream carries every ended session of its user: the laptop's and the phone's own.
    const events = await phoneStream.waitForEvents(2, 1_000);
    assert.deepEqual(
      events.map((e) => JSON.parse(e.data!)).sort((a, b) => (a.session_id < b.session_id ? -1 : 1)),
      [laptop.sessionId, phone.sessionId].sort().map((id) => ({ session_id: id, reason: 'revoked' })),
    );
    assert.deepEqual(
      (await registry()).map((u) => u.user_id),
      ['person:Grace'],
    );
    phoneStream.close();
  });

  void it('the console revokes a user on every device; a post from another site is refused', async () => {
    const one = await browser('Linus');
    const two = await browser('Linus');
    const post = (headers: Record<string, string>) =>
      fetch(`${origin}/admin/registry/revoke`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ user_id: 'person:Linus' }),
      });
    assert.equal((await post({ Origin: 'https://evil.test' })).status, 403);
    assert.equal(ended(one.sessionId), null);
    const answer = await post({ Origin: origin });
    assert.equal(answer.status, 200);
    const result = (await answer.json()) as { ended: string[]; failed: string[] };
    assert.deepEqual([...result.ended].sort(), [one.sessionId, two.sessionId].sort());
    assert.equal(ended(two.sessionId), 'deleted');
    const bad = await fetch(`${origin}/admin/registry/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: '{}',
    });
    assert.equal(bad.status, 400);
  });
});
