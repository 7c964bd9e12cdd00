// The simulated avatar widget in real Chromium, both ways a vendor ships it:
// - the iframe page, cross-origin inside a parent page: it talks, its
//   microphone runs, and when the session is revoked from the console it
//   stops its microphone and posts {type: "konpro-session-terminated"} up;
// - the in-page embed: its runtime calls go through the page's fetch, where
//   a guard sees the 401 SESSION_TERMINATED after revocation; and removing
//   the element stops everything.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Frame, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { createKonproSimulator } from '../../demo/simulator/index.js';
import type { KonproSimulator } from '../../demo/simulator/index.js';
import { chromiumArgs, executablePath, fakeMediaArgs, missingBrowser } from '../support/chromium.mjs';
import { requires } from '../support/prerequisites.js';

const skip = requires(missingBrowser);
const ARGS = [...chromiumArgs, ...fakeMediaArgs];

// Records every microphone track a frame obtains, so the test can see them stop.
const TRACK_RECORDER = `
  window.__tracks = [];
  if (navigator.mediaDevices) {
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      window.__tracks.push(...stream.getTracks());
      return stream;
    };
  }
`;

// What a guard does in the page: wraps fetch and reads the answers.
const FETCH_RECORDER = `
  window.__answers = [];
  const pageFetch = window.fetch;
  window.fetch = async (...args) => {
    const response = await pageFetch(...args);
    const url = String(args[0] instanceof Request ? args[0].url : args[0]);
    response.clone().json().then(
      (body) => window.__answers.push({ url, status: response.status, body }),
      () => window.__answers.push({ url, status: response.status, body: null }),
    );
    return response;
  };
`;

/** What the recorders above and the parent pages below keep on `window`. */
interface Recorded {
  __tracks: MediaStreamTrack[];
  __answers: Array<{
    url: string;
    status: number;
    body: { error: { code: string; details: { session_id: string } }; request_id: string } | null;
  }>;
  messages: Array<{ origin: string; data: { type?: string; session_id?: string } }>;
}

const page = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"></head><body>${body}</body></html>`;

void describe('simulated widget in Chromium', { skip }, () => {
  let simulator: KonproSimulator;
  let browser: Browser;
  const server = createServer((req, res) => {
    void (async () => {
      if (await simulator.handle(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://x');
      const html =
        url.pathname === '/iframe-parent'
          ? page(
              'Iframe parent',
              `<script>window.messages = []; addEventListener('message', (e) => messages.push({ origin: e.origin, data: e.data }));</script>
               <iframe id="widget" title="Avatar" allow="camera; microphone; autoplay" style="width:420px;height:560px;border:0" src="${url.searchParams.get('src') ?? ''}"></iframe>`,
            )
          : url.pathname === '/embed-parent'
            ? page(
                'Embed parent',
                `<script>${FETCH_RECORDER}</script>
                 <script type="module" src="${simulator.embedScriptUrl}"></script>
                 <konpro-avatar session-id="${url.searchParams.get('session_id') ?? ''}" poll-interval="1"></konpro-avatar>`,
              )
            : undefined;
      res.writeHead(html ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html ?? 'not found');
    })();
  });
  /** The site's origin; the widget is served from another one (127.0.0.1 vs localhost), as a vendor's would be. */
  let siteOrigin: string;
  let widgetOrigin: string;
  const problems: string[] = [];

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    siteOrigin = `http://localhost:${port}`;
    widgetOrigin = `http://127.0.0.1:${port}`;
    simulator = createKonproSimulator({ widgetOrigin });
    browser = await chromium.launch({ executablePath, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    await context.addInitScript(TRACK_RECORDER);
    const tab = await context.newPage();
    tab.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    tab.on('console', (message) => {
      // The one expected error: the network log line of the widget's own 401, which is the termination itself.
      if (message.type() === 'error' && !/status of 401/.test(message.text()))
        problems.push(`console: ${message.text()}`);
    });
    return tab;
  }

  async function consoleCall(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${widgetOrigin}/konpro/console/api/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const newSession = async (): Promise<string> => {
    const created = await consoleCall('sessions', { max_duration: 600 });
    assert.equal(created.status, 201);
    return created.body.session_id as string;
  };

  void it('iframe: talks, listens, and on revocation stops the microphone and tells its parent', async () => {
    const sessionId = await newSession();
    const tab = await newPage();
    const src = `${simulator.widgetUrl(sessionId)}&poll=1`;
    await tab.goto(`${siteOrigin}/iframe-parent?src=${encodeURIComponent(src)}`);
    const widget = tab.frameLocator('#widget');
    await widget.locator('konpro-avatar[state="active"]').waitFor();

    await widget.getByRole('textbox', { name: 'Message to the avatar' }).fill('hello');
    await widget.getByRole('button', { name: 'Send message' }).click();
    await widget.getByText('Ask me anything').waitFor();

    await widget.getByRole('button', { name: 'Start microphone' }).click();
    await widget.locator('konpro-avatar[mic="live"]').waitFor();
    const frame = tab.frames().find((f) => f.url().startsWith(widgetOrigin)) as Frame;
    assert.ok(frame, 'the widget frame is cross-origin');
    assert.deepEqual(await frame.evaluate(() => (window as unknown as Recorded).__tracks.map((t) => t.readyState)), [
      'live',
    ]);

    // Input in the frame reaches the parent as activity, for kiosk idle detection.
    const activity = await tab.evaluate(() =>
      (window as unknown as Recorded).messages.filter((m) => m.data?.type === 'konpro-widget-activity'),
    );
    assert.ok(
      activity.length >= 1,
      'input in the widget frame sent the page no activity message (a kiosk would go idle)',
    );
    assert.ok(
      activity.every((m: { origin: string }) => m.origin === widgetOrigin),
      'an activity message came from an origin other than the widget’s',
    );

    const revoked = await consoleCall(`sessions/${sessionId}/revoke`);
    assert.deepEqual(revoked, {
      status: 200,
      body: { message: 'Session terminated successfully', session_id: sessionId },
    });

    await tab.waitForFunction(
      () => (window as unknown as Recorded).messages.some((m) => m.data?.type === 'konpro-session-terminated'),
      null,
      { timeout: 5000 },
    );
    const terminations = await tab.evaluate(() =>
      (window as unknown as Recorded).messages.filter((m) => m.data?.type === 'konpro-session-terminated'),
    );
    assert.deepEqual(terminations, [
      { origin: widgetOrigin, data: { type: 'konpro-session-terminated', session_id: sessionId } },
    ]);

    assert.deepEqual(await frame.evaluate(() => (window as unknown as Recorded).__tracks.map((t) => t.readyState)), [
      'ended',
    ]);
    await widget.locator('konpro-avatar[state="ended"][mic="off"]').waitFor();
    await widget.getByRole('alert').getByText('Session ended').waitFor();
    assert.equal(await widget.getByRole('textbox', { name: 'Message to the avatar' }).isDisabled(), true);
    await tab.context().close();
    assert.deepEqual(problems, []);
  });

  void it('embed: its runtime calls go through the page fetch, which sees 401 SESSION_TERMINATED after revocation', async () => {
    const sessionId = await newSession();
    const tab = await newPage();
    await tab.goto(`${siteOrigin}/embed-parent?session_id=${sessionId}`);
    await tab.locator('konpro-avatar[state="active"]').waitFor();
    const first = await tab.evaluate(() => (window as unknown as Recorded).__answers[0]);
    assert.equal(first.url, `${widgetOrigin}/konpro/v1/widget/runtime/session`);
    assert.equal(first.status, 200);

    await consoleCall(`sessions/${sessionId}/revoke`);
    await tab.waitForFunction(() => (window as unknown as Recorded).__answers.some((a) => a.status === 401), null, {
      timeout: 5000,
    });
    const terminated = await tab.evaluate(() =>
      (window as unknown as Recorded).__answers.find((a) => a.status === 401),
    );
    assert.ok(terminated?.body, 'the page read the 401 body');
    assert.equal(terminated.body.error.code, 'SESSION_TERMINATED');
    assert.equal(terminated.body.error.details.session_id, sessionId);
    assert.match(terminated.body.request_id, /^req_/);
    await tab.locator('konpro-avatar[state="ended"]').waitFor();

    // Ended for good: no more calls.
    const calls = await tab.evaluate(() => (window as unknown as Recorded).__answers.length);
    await tab.waitForTimeout(1500);
    assert.equal(await tab.evaluate(() => (window as unknown as Recorded).__answers.length), calls);
    await tab.context().close();
    assert.deepEqual(problems, []);
  });

  void it('embed: leaving the document stops the microphone and the polling', async () => {
    const sessionId = await newSession();
    const tab = await newPage();
    await tab.goto(`${siteOrigin}/embed-parent?session_id=${sessionId}`);
    await tab.locator('konpro-avatar[state="active"]').waitFor();
    await tab.getByRole('button', { name: 'Start microphone' }).click();
    await tab.locator('konpro-avatar[mic="live"]').waitFor();

    const calls = await tab.evaluate(() => {
      document.querySelector('konpro-avatar')?.remove();
      return (window as unknown as Recorded).__answers.length;
    });
    assert.deepEqual(await tab.evaluate(() => (window as unknown as Recorded).__tracks.map((t) => t.readyState)), [
      'ended',
    ]);
    await tab.waitForTimeout(1500);
    assert.ok(
      (await tab.evaluate(() => (window as unknown as Recorded).__answers.length)) <= calls + 1,
      'at most the call in flight',
    );
    await tab.context().close();
    assert.deepEqual(problems, []);
  });
});
