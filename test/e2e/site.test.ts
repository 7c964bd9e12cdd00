// The demo site (`/`) used the way a person uses it: sign in, talk to the
// avatar, log out (online, offline, with two tabs open), press Back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  avatarLive,
  events,
  EXPECTED,
  newContext,
  sessionStatus,
  Shots,
  signIn,
  skip,
  sleep,
  snapshotOnClick,
  demoForSuite,
  talk,
  until,
  vendorCalls,
  waitForEvent,
  widget,
} from './harness.js';

void describe('demo site', { skip }, () => {
  const demo = demoForSuite();
  const shots = new Shots('site');

  void it('sign in → the avatar answers → log out: gone at once, terminated at the simulator, the page says so', async () => {
    const context = await newContext(demo);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/`);
    await page.getByRole('heading', { name: 'Sign in to talk to the avatar' }).waitFor();
    await shots.take(page, 'signed-out');

    const sessionId = await signIn(page, demo.origin, 'Ada');
    await avatarLive(page);
    await talk(page, 'hello', /Ask me anything/);
    assert.equal(sessionStatus(demo, sessionId), 'active');
    await page.locator('#event-log li[data-event="konpro-session-start"]').waitFor();
    await shots.take(page, 'live');

    // A slow proxy keeps the page on the terminated state long enough to see it.
    demo.simulator.faults.update({ proxy: { latencyMs: 2000 } });
    const atClick = await snapshotOnClick(page, '#logout');
    await page.getByRole('button', { name: 'Log out' }).click();
    await until(() => atClick() !== undefined, 'the click was read');
    assert.deepEqual(
      { state: atClick()?.state, frames: atClick()?.frames },
      { state: 'terminated', frames: 0 },
      'in the task of the click the widget is gone and the terminated panel shows',
    );
    await page.getByText('You logged out: the widget was removed at once.').waitFor();
    await page.getByText('Ending your avatar session…').waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Start a new session' }).isVisible(),
      false,
      'no restart while signing out',
    );
    await shots.take(page, 'logging-out');

    await page.getByText('You signed out. Your avatar session was ended').waitFor();
    await page.getByRole('heading', { name: 'Sign in to talk to the avatar' }).waitFor();
    assert.equal(sessionStatus(demo, sessionId), 'terminated');
    const deletes = await vendorCalls(demo, { method: 'DELETE', sessionId });
    assert.deepEqual(
      deletes.map((call) => call.status),
      [200],
      'one DELETE reached the simulator',
    );
    const end = await waitForEvent(page, 'konpro-session-end', { sessionId });
    assert.equal(end.detail.reason, 'logout');
    assert.equal((await waitForEvent(page, 'konpro-delete', { sessionId })).detail.outcome, 'deleted');
    await shots.take(page, 'signed-out-after-logout');
    await context.close();
  });

  void it('the Back button after logging out does not bring a live widget back', async () => {
    const context = await newContext(demo);
    const page = await context.newPage();
    const sessionId = await signIn(page, demo.origin, 'Grace');
    await avatarLive(page);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You signed out.').waitFor();

    await page.goBack();
    await page.waitForLoadState('load');
    // Long enough for anything that would come back to do so: a status check, a widget poll.
    await sleep(2500);
    const view = await widget(page);
    assert.notEqual(view.state, 'active');
    assert.equal(view.frames, 0);
    assert.equal(view.embeds, 0);
    assert.equal(
      events(page, 'konpro-session-start').some((e) => e.detail.sessionId === sessionId && e.at > Date.now() - 2600),
      false,
      'the ended session was not mounted again',
    );
    await page.getByRole('heading', { name: 'Sign in to talk to the avatar' }).waitFor();
    assert.equal(sessionStatus(demo, sessionId), 'terminated');
    await context.close();
  });

  void it('offline logout: the widget goes at once; the DELETE is delivered after reconnecting', async () => {
    const context = await newContext(demo, { allow: [EXPECTED.offline] });
    const page = await context.newPage();
    const sessionId = await signIn(page, demo.origin, 'Linus');
    await avatarLive(page);

    await context.setOffline(true);
    const atClick = await snapshotOnClick(page, '#logout');
    await page.getByRole('button', { name: 'Log out' }).click();
    await until(() => atClick() !== undefined, 'the click was read');
    assert.deepEqual({ state: atClick()?.state, frames: atClick()?.frames }, { state: 'terminated', frames: 0 });
    assert.equal(
      (await waitForEvent(page, 'konpro-delete', { sessionId, outcome: 'queued' })).detail.outcome,
      'queued',
    );
    await page.getByText('You are offline.').waitFor();
    await shots.take(page, 'offline-logout-queued');
    // Nothing can reach the simulator while offline; the session is still alive there.
    await sleep(1000);
    assert.deepEqual(await vendorCalls(demo, { method: 'DELETE', sessionId }), []);
    assert.equal(sessionStatus(demo, sessionId), 'active');
    assert.equal((await widget(page)).frames, 0, 'still gone');

    await context.setOffline(false);
    await until(
      async () => (await vendorCalls(demo, { method: 'DELETE', sessionId })).length > 0,
      'the DELETE after reconnecting',
      15_000,
    );
    assert.equal(sessionStatus(demo, sessionId), 'terminated');
    await waitForEvent(page, 'konpro-delete', { sessionId, outcome: 'deleted' });
    // Then the page finishes signing out.
    await page.getByText('You signed out.').waitFor();
    assert.deepEqual(
      (await vendorCalls(demo, { method: 'DELETE', sessionId })).map((call) => call.status),
      [200],
    );
    await context.close();
  });

  void it('two tabs: logging out in one removes the widget from both, and one DELETE reaches the simulator', async () => {
    const context = await newContext(demo);
    const first = await context.newPage();
    const sessionId = await signIn(first, demo.origin, 'Barbara');
    await avatarLive(first);

    const [second] = await Promise.all([
      context.waitForEvent('page'),
      first.getByRole('link', { name: 'Open this page in a second tab' }).click(),
    ]);
    await second.locator('konpro-widget-guard[state="active"]').waitFor();
    assert.equal((await widget(second)).sessionId, sessionId, 'the second tab shows the same session');
    await avatarLive(second);
    await shots.take(second, 'second-tab-live');

    const atClick = await snapshotOnClick(first, '#logout');
    await first.getByRole('button', { name: 'Log out' }).click();
    await until(() => atClick() !== undefined, 'the click was read');
    assert.equal(atClick()?.frames, 0);
    const ended = await waitForEvent(second, 'konpro-session-end', { sessionId });
    assert.equal(ended.detail.reason, 'other-tab');
    const view = await widget(second);
    assert.deepEqual({ state: view.state, frames: view.frames }, { state: 'terminated', frames: 0 });
    await shots.take(second, 'second-tab-ended');

    await first.getByText('You signed out.').waitFor();
    // The other tab learns of the sign-out too, and shows the sign-in form.
    await second.getByRole('heading', { name: 'Sign in to talk to the avatar' }).waitFor();
    // Room for a second DELETE, should any tab send one. Nothing in the pages marks a send that should
    // not happen (the one-sender rule has its marker-timed tests in test/outbox and test/tabs): a tab
    // that sent one would do so as it ends, before the sign-in form above showed; a second of loopback on top.
    await sleep(1000);
    assert.deepEqual(
      (await vendorCalls(demo, { method: 'DELETE', sessionId })).map((call) => call.status),
      [200],
      'exactly one DELETE reached the simulator',
    );
    assert.equal(sessionStatus(demo, sessionId), 'terminated');
    await context.close();
  });
});
