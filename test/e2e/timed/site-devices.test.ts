// The demo's own buttons for ending a user's avatar on every device, used as the README's "Try it"
// walks through them: one user signed in on two devices (two browser contexts), then "Sign out
// everywhere" on one of them, or "Revoke on every device" in the console. The other device's widget
// goes within a second, without a reload (its guard has `push`), and the vendor saw both deletes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  demoForSuite,
  newContext,
  sessionStatus,
  skip,
  twoDevices,
  until,
  vendorCalls,
  waitForEvent,
  widget,
  type Demo,
} from '../harness.js';

let users = 0;
/** A name no other test of the run signs in with (the demo's user id is `person:<name>`). */
const someone = () => `Devices ${Date.now().toString(36)} ${++users}`;

/** The widget on `page` ended with `reason` within a second of `started`; its session is deleted at the vendor. */
async function goneWithin(demo: Demo, device: { page: Page; sessionId: string }, started: number, reason: string) {
  const end = await waitForEvent(device.page, 'konpro-session-end', { sessionId: device.sessionId }, 3_000);
  assert.equal(end.detail.reason, reason);
  assert.ok(end.at - started < 1_000, `the widget went ${end.at - started} ms after the click`);
  const view = await widget(device.page);
  assert.equal(view.frames, 0, 'no widget frame is left');
  await until(() => sessionStatus(demo, device.sessionId) === 'terminated', 'the session is terminated at the vendor');
  assert.equal(
    (await vendorCalls(demo, { method: 'DELETE', sessionId: device.sessionId })).filter((c) => c.status === 200).length,
    1,
    'one confirmed DELETE of the session at the vendor',
  );
}

void describe('demo site: one user, two devices', { skip }, () => {
  const demo = demoForSuite();

  void it('"Sign out everywhere" on one device ends the widget on the other within a second', async () => {
    const name = someone();
    const [here, there] = await twoDevices(demo, name);
    const started = Date.now();
    await here.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    // The device that clicked: gone in the click, a logout.
    const own = await waitForEvent(here.page, 'konpro-session-end', { sessionId: here.sessionId });
    assert.equal(own.detail.reason, 'logout');
    // The other device: gone through its event stream, without a reload.
    await goneWithin(demo, there, started, 'revoked');
    await there.page.getByText('The site ended this session on every device').waitFor();
    await here.page.getByRole('heading', { name: 'Sign in to talk to the avatar' }).waitFor();
    await until(() => sessionStatus(demo, here.sessionId) === 'terminated', 'the clicking device’s session ended');
    assert.deepEqual(await demo.server.proxy.listSessions({ userId: `person:${name}` }), [], 'nothing left');
  });

  void it('"Revoke on every device" in the console ends both devices’ widgets within a second', async () => {
    const name = someone();
    const devices = await twoDevices(demo, name);
    const console = await (await newContext(demo)).newPage();
    await console.goto(`${demo.origin}/konpro/console/`);
    const revoke = console.getByRole('button', { name: `Revoke ${name} on every device` });
    await revoke.waitFor();
    const started = Date.now();
    await revoke.click();
    for (const device of devices) await goneWithin(demo, device, started, 'revoked');
    await console.getByText(`Revoked ${name} on every device: 2 ended`).waitFor();
  });
});
