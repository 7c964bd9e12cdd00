// The kiosk page (`/kiosk`): it starts a session by itself; left alone it
// counts down, resets, ends the old session at the vendor and starts a new
// one; any activity during the countdown cancels the reset. Short idle times
// come from the page's query switches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  avatar,
  avatarLive,
  events,
  newContext,
  sessionStatus,
  Shots,
  skip,
  sleep,
  demoForSuite,
  talk,
  until,
  vendorCalls,
  waitForEvent,
  widget,
} from './harness.js';

/** The guard's countdown (part `warning`, in its shadow root). */
const warningOf = (page: Page) => page.locator('konpro-widget-guard [part~="warning"]');

async function liveSession(page: Page): Promise<string> {
  await page.locator('konpro-widget-guard[state="active"]').waitFor();
  const { sessionId } = await widget(page);
  assert.ok(sessionId, 'the active guard shows a widget with no session id');
  await avatarLive(page);
  return sessionId;
}

/** The next session the guard starts after `previous`. */
async function nextSession(page: Page, previous: string, timeout = 10_000): Promise<string> {
  const started = () => events(page, 'konpro-session-start').find((e) => e.detail.sessionId !== previous);
  await until(() => started() !== undefined, 'a new session', timeout);
  return started()!.detail.sessionId!;
}

void describe('kiosk', { skip }, () => {
  const demo = demoForSuite();
  const shots = new Shots('kiosk');

  void it('idle → countdown → reset: the old session is terminated at the simulator and a new one is live', async () => {
    const context = await newContext(demo);
    const page = await context.newPage();
    // A slow proxy holds the attract screen up while the first session starts.
    demo.simulator.faults.update({ proxy: { latencyMs: 1200 } });
    // Seconds generous enough for a busy CI machine to look at the countdown before it ends.
    await page.goto(`${demo.origin}/kiosk?idle-timeout=6&idle-warning=4`);
    await page.getByText('Hello! Ask me anything.').waitFor();
    await shots.take(page, 'attract');
    demo.simulator.faults.reset();
    const first = await liveSession(page);
    // Someone uses it (input in the widget frame counts as activity), then walks away.
    await talk(page, 'hello', /Ask me anything/);
    await shots.take(page, 'in-use');

    // Nobody touches it.
    const warning = await waitForEvent(page, 'konpro-idle-warning', {}, 10_000);
    assert.ok(
      (warning.detail.secondsLeft ?? 0) > 0 && (warning.detail.secondsLeft ?? 0) <= 4,
      `secondsLeft ${warning.detail.secondsLeft}`,
    );
    const countdown = warningOf(page);
    await countdown.waitFor({ state: 'visible' });
    assert.match(await countdown.innerText(), /\d/, 'the countdown shows the seconds left');
    assert.ok(
      await countdown.evaluate(
        (el) =>
          el.matches('[role], [aria-live]') ||
          el.querySelector('[role="alert"], [role="status"], [role="timer"], [aria-live]') !== null,
      ),
      'the countdown is announced (a live region or an alert)',
    );
    await countdown.getByRole('button', { name: /still here/i }).waitFor();
    await shots.take(page, 'countdown');

    const end = await waitForEvent(page, 'konpro-session-end', { sessionId: first }, 10_000);
    assert.equal(end.detail.reason, 'idle');
    const second = await nextSession(page, first);
    assert.equal(await liveSession(page), second);
    await until(() => sessionStatus(demo, first) === 'terminated', 'the old session terminated at the simulator');
    assert.deepEqual(
      (await vendorCalls(demo, { method: 'DELETE', sessionId: first })).map((call) => call.status),
      [200],
    );
    assert.equal(sessionStatus(demo, second), 'active');
    // A fresh conversation: nothing of the last visitor's is left.
    await avatar(page).locator('.you').waitFor({ state: 'hidden' });
    await shots.take(page, 'after-idle-reset');
    await context.close();
  });

  void it('activity during the countdown cancels the reset', async () => {
    const context = await newContext(demo);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/kiosk?idle-timeout=6&idle-warning=4`);
    const session = await liveSession(page);

    // A pointer and a key in the page itself (input inside the widget frame reaches the page only as messages).
    const warnedAt = (await waitForEvent(page, 'konpro-idle-warning', {}, 10_000)).at;
    await warningOf(page).waitFor({ state: 'visible' });
    // Raw input at the bottom edge (the page's bar, or a countdown overlay over it), never over the widget frame.
    const { height } = page.viewportSize()!;
    await page.mouse.move(10, height - 12);
    await page.mouse.move(60, height - 20, { steps: 3 });
    await page.keyboard.press('Shift');
    const activeAt = Date.now();
    await warningOf(page).waitFor({ state: 'hidden' });
    // Past the moment the reset was due: nothing ended.
    await sleep(Math.max(0, warnedAt + 4000 + 800 - Date.now()));
    assert.deepEqual(events(page, 'konpro-session-end'), []);
    assert.equal((await widget(page)).sessionId, session);

    // The countdown's own button counts as activity too.
    await until(() => events(page, 'konpro-idle-warning').some((e) => e.at > activeAt), 'a second countdown', 10_000);
    await warningOf(page).waitFor({ state: 'visible' });
    await warningOf(page)
      .getByRole('button', { name: /still here/i })
      .click();
    await warningOf(page).waitFor({ state: 'hidden' });
    await sleep(4000 + 500);
    assert.deepEqual(events(page, 'konpro-session-end'), []);
    const view = await widget(page);
    assert.deepEqual({ state: view.state, sessionId: view.sessionId }, { state: 'active', sessionId: session });
    assert.equal(sessionStatus(demo, session), 'active');
    await context.close();
  });

  void it('"Reset now" ends the session at the simulator and starts a fresh one', async () => {
    const context = await newContext(demo);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/kiosk`);
    const first = await liveSession(page);
    await page.getByRole('button', { name: 'Reset now' }).click();
    const end = await waitForEvent(page, 'konpro-session-end', { sessionId: first });
    assert.equal(end.detail.reason, 'reset');
    const second = await nextSession(page, first);
    assert.equal(await liveSession(page), second);
    await until(() => sessionStatus(demo, first) === 'terminated', 'the old session terminated at the simulator');
    assert.equal(sessionStatus(demo, second), 'active');
    await context.close();
  });
});
