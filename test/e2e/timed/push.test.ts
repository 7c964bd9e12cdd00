// A server-side end reaches every device at once, through the demo's `push` guard: one user signed in
// on two devices (two browser contexts), then `revokeUser`, or an identity provider's back-channel
// logout (issue 16; also the demo's own "Sign out at the identity provider" button), ends both widgets
// within a second, and the vendor saw both deletes. A browser
// killed outright (no pagehide, no logout) leaves a session nobody shows: the orphan sweep deletes it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { createBackChannelLogout, toNodeListener } from '../../../src/proxy/index.js';
import { CLIENT_ID, ISSUER, signingKey, signLogoutToken } from '../../proxy/support/identity-provider.js';
import { chromiumArgs, executablePath, fakeMediaArgs } from '../../support/chromium.mjs';
import {
  demoForSuite,
  newContext,
  sessionStatus,
  signIn,
  skip,
  twoDevices,
  until,
  vendorCalls,
  waitForEvent,
  widget,
  type Demo,
} from '../harness.js';

const ORPHAN_AFTER_MS = 2_000;

let users = 0;
/** A name no other test of the run signs in with (the demo's user id is `person:<name>`). */
const someone = () => `Push ${Date.now().toString(36)} ${++users}`;

/** Both widgets end with `reason` within a second of `started`, and the vendor deleted both sessions. */
async function bothGone(
  demo: Demo,
  devices: Array<{ page: Page; sessionId: string }>,
  started: number,
  reason: string,
) {
  for (const { page, sessionId } of devices) {
    const end = await waitForEvent(page, 'konpro-session-end', { sessionId }, 2_000);
    assert.equal(end.detail.reason, reason);
    assert.ok(end.at - started < 1_000, `the widget went ${end.at - started} ms after the server ended it`);
    const view = await widget(page);
    assert.deepEqual({ state: view.state, frames: view.frames }, { state: 'terminated', frames: 0 });
    assert.equal((await vendorCalls(demo, { method: 'DELETE', sessionId })).length, 1, 'one DELETE at the vendor');
    assert.equal(sessionStatus(demo, sessionId), 'terminated');
  }
  await devices[0].page.getByText('The site ended this session on every device').waitFor();
}

void describe('push: the server ends a user’s widgets on every device', { skip }, () => {
  const demo = demoForSuite({ orphanAfterMs: ORPHAN_AFTER_MS });

  void it('revokeUser: both devices’ widgets are gone within a second, and the vendor saw both deletes', async () => {
    const name = someone();
    const devices = await twoDevices(demo, name);
    const started = Date.now();
    const result = await demo.server.proxy.revokeUser(`person:${name}`);
    assert.deepEqual([...result.ended].sort(), devices.map((d) => d.sessionId).sort());
    await bothGone(demo, devices, started, 'revoked');
  });

  void it('an identity provider’s back-channel logout (OpenID Connect) ends both devices’ widgets within a second', async () => {
    const key = await signingKey('ES256', 'e2e-key');
    const logout = createBackChannelLogout({
      issuer: ISSUER,
      audience: CLIENT_ID,
      jwks: { keys: [key.publicJwk] },
      userId: (claims) => (typeof claims.sub === 'string' ? `person:${claims.sub}` : null),
      proxy: demo.server.proxy,
      log: () => {},
    });
    const server = createServer(toNodeListener(logout));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const name = someone();
      const devices = await twoDevices(demo, name);
      const token = await signLogoutToken(key, { claims: { sub: name, sid: undefined } });
      const started = Date.now();
      // What the provider sends to the site's back-channel logout URI.
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
      assert.equal(response.status, 200, await response.text());
      await bothGone(demo, devices, started, 'revoked');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  void it('the demo’s “Sign out at the identity provider” ends the widget on the user’s other device within a second', async () => {
    const name = someone();
    const devices = await twoDevices(demo, name);
    const [{ page }] = devices;
    const started = Date.now();
    await page.getByRole('button', { name: 'Sign out at the identity provider' }).click();
    await bothGone(demo, devices, started, 'revoked');
    // The page's log shows what the site's back-channel logout endpoint answered the provider.
    await page.locator('#event-log li[data-event="back-channel-logout"]', { hasText: 'answer: 200' }).waitFor();
    await page.getByText('Signed out at the identity provider').waitFor();
  });

  void it('a browser killed outright: its session is deleted at the vendor after orphanAfterMs; a live device’s is not', async () => {
    const name = someone();
    const alive = await (await newContext(demo)).newPage();
    const aliveId = await signIn(alive, demo.origin, name);
    const doomed = await chromium.launchServer({ executablePath, args: [...chromiumArgs, ...fakeMediaArgs] });
    let killed = false;
    try {
      const browser = await chromium.connect(doomed.wsEndpoint());
      const tab = await (await browser.newContext()).newPage();
      const doomedId = await signIn(tab, demo.origin, name);
      await until(
        async () => (await demo.server.proxy.listSessions({ userId: `person:${name}` })).every((s) => s.pages === 1),
        'both on the stream',
      );
      await doomed.kill(); // no pagehide, no logout, no goodbye: a crash, a power cut
      killed = true;
      const at = Date.now();
      await until(
        async () => {
          await demo.server.proxy.sweep();
          return (await vendorCalls(demo, { method: 'DELETE', sessionId: doomedId })).length > 0;
        },
        'the orphan deleted at the vendor',
        ORPHAN_AFTER_MS + 10_000,
      );
      assert.ok(Date.now() - at >= ORPHAN_AFTER_MS - 500, 'not before orphanAfterMs');
      assert.equal(sessionStatus(demo, doomedId), 'terminated');
      // The live device, which shows its session all along, keeps it; it hears of the other's end.
      await demo.server.proxy.sweep();
      assert.equal(sessionStatus(demo, aliveId), 'active');
      assert.equal((await widget(alive)).state, 'active');
      assert.deepEqual(
        (await demo.server.proxy.listSessions({ userId: `person:${name}` })).map((s) => s.sessionId),
        [aliveId],
      );
    } finally {
      if (!killed) await doomed.close();
    }
  });
});
