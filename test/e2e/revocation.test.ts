// Revoking a session in the simulator console removes the widget from every
// open tab, without a reload, through each way the guard can learn of it.
// Query switches leave exactly one detection path on in each case:
//
// - in-page embed: the widget's runtime calls in the page answer 401 SESSION_TERMINATED (`?embed=1&check-interval=0&poll=1`);
// - iframe message: the widget frame posts `konpro-session-terminated` (`?check-interval=0`);
// - status checks: the guard's `GET {proxy}/{id}` says `terminated` (`?embed=1&poll=3600&check-interval=1`: the widget does not poll).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page, Response } from 'playwright-core';
import {
  avatarLive,
  newContext,
  sessionStatus,
  Shots,
  signIn,
  skip,
  demoForSuite,
  waitForEvent,
  widget,
} from './harness.js';

interface DetectionPath {
  name: string;
  query: string;
  embed: boolean;
  /** What the requests of the tab that detected the revocation show. */
  check(requests: SeenRequest[], sessionId: string): void;
}

interface SeenRequest {
  url: string;
  status: number;
  /** Made by the page itself, not by the widget's iframe. */
  mainFrame: boolean;
}

const runtime401 = (r: SeenRequest) => r.url.includes('/konpro/v1/widget/runtime/') && r.status === 401;
const statusCheck = (sessionId: string) => (r: SeenRequest) => r.url.endsWith(`/api/widget-sessions/${sessionId}`);

const PATHS: DetectionPath[] = [
  {
    name: 'in-page embed script responses',
    query: '?embed=1&check-interval=0&poll=1',
    embed: true,
    check(requests, sessionId) {
      assert.ok(
        requests.some((r) => r.mainFrame && runtime401(r)),
        'the page saw the runtime answer 401',
      );
      assert.equal(requests.filter(statusCheck(sessionId)).length, 0, 'no status checks');
    },
  },
  {
    name: 'iframe message',
    query: '?check-interval=0',
    embed: false,
    check(requests, sessionId) {
      assert.ok(
        requests.some((r) => !r.mainFrame && runtime401(r)),
        'the widget frame saw the runtime answer 401',
      );
      assert.equal(
        requests.filter((r) => r.mainFrame && runtime401(r)).length,
        0,
        'the page itself made no runtime calls',
      );
      assert.equal(requests.filter(statusCheck(sessionId)).length, 0, 'no status checks');
    },
  },
  {
    name: 'status checks',
    query: '?embed=1&poll=3600&check-interval=1',
    embed: true,
    check(requests, sessionId) {
      assert.ok(requests.some(statusCheck(sessionId)), 'the guard checked the status');
      assert.equal(requests.filter(runtime401).length, 0, 'the widget never heard of the revocation');
    },
  },
];

/** Every answer a tab (page or widget frame) receives. */
function recordResponses(page: Page): SeenRequest[] {
  const seen: SeenRequest[] = [];
  page.on('response', (response: Response) => {
    seen.push({ url: response.url(), status: response.status(), mainFrame: response.frame() === page.mainFrame() });
  });
  return seen;
}

void describe('revoking from the simulator console', { skip }, () => {
  const demo = demoForSuite();
  const shots = new Shots('revocation');

  for (const [index, path] of PATHS.entries()) {
    void it(`removes the widget from every open tab, without a reload: ${path.name}`, async () => {
      const context = await newContext(demo);
      const first = await context.newPage();
      const seen = new Map<Page, SeenRequest[]>([[first, recordResponses(first)]]);
      const sessionId = await signIn(first, demo.origin, `Revoked ${index}`, path.query);
      await avatarLive(first, path.embed);
      const [second] = await Promise.all([
        context.waitForEvent('page'),
        first.getByRole('link', { name: 'Open this page in a second tab' }).click(),
      ]);
      seen.set(second, recordResponses(second));
      await second.locator('konpro-widget-guard[state="active"]').waitFor();
      assert.equal((await widget(second)).sessionId, sessionId, 'both tabs show the same session');
      await avatarLive(second, path.embed);
      const tabs = [first, second];
      // A reload would lose this mark.
      for (const tab of tabs) await tab.evaluate(() => ((window as unknown as { mark: string }).mark = 'not reloaded'));

      // The console, reached from the demo page, as a person would.
      const [consolePage] = await Promise.all([
        context.waitForEvent('page'),
        first
          .getByRole('navigation', { name: 'Demo pages' })
          .getByRole('link', { name: /Simulator console/ })
          .click(),
      ]);
      const revoke = consolePage.getByRole('button', { name: `Revoke session ${sessionId}` });
      await revoke.click();
      await consolePage.getByText(`DELETE /v1/widget/sessions/${sessionId} → 200`).waitFor();
      assert.equal(sessionStatus(demo, sessionId), 'terminated');
      if (index === 0) await shots.take(consolePage, 'console-after-revoke');

      const reasons: string[] = [];
      for (const tab of tabs) {
        const end = await waitForEvent(tab, 'konpro-session-end', { sessionId }, 10_000);
        reasons.push(end.detail.reason ?? '');
        const view = await widget(tab);
        assert.deepEqual(
          { state: view.state, frames: view.frames, embeds: view.embeds },
          { state: 'terminated', frames: 0, embeds: 0 },
        );
        assert.equal(await tab.evaluate(() => (window as unknown as { mark?: string }).mark), 'not reloaded');
      }
      assert.ok(
        reasons.includes('terminated'),
        `one tab detected the revocation itself (reasons: ${reasons.join(', ')})`,
      );
      assert.ok(
        reasons.every((reason) => reason === 'terminated' || reason === 'other-tab'),
        reasons.join(', '),
      );
      const detected = tabs[reasons.indexOf('terminated')];
      path.check(seen.get(detected) ?? [], sessionId);
      await detected.getByText('The avatar service ended this session').waitFor();
      await shots.take(detected, `revoked-by-${path.name.replace(/\W+/g, '-')}`);
      await context.close();
    });
  }
});
