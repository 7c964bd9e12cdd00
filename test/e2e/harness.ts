// What every end-to-end test needs: the demo server (in-process, on a free
// port), Debian's Chromium through playwright-core, a watch on console
// errors, the guard's events as they fire, screenshots saved as artifacts,
// and questions to the simulator.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { after, afterEach, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { chromiumArgs, executablePath, fakeMediaArgs, missingBrowser } from '../support/chromium.mjs';
import { requires } from '../support/prerequisites.js';
import type { DemoServer } from '../../demo/server.js';
import { startDemoServer } from '../../demo/server.js';
import type { KonproSimulator, LoggedRequest } from '../../demo/simulator/index.js';
import { BUNDLE_PATH } from '../../demo/site/pages.js';

/** A reason to skip (one clear message), or `false`; a skip fails the run (see prerequisites.ts). */
export const skip = requires(missingBrowser);

const ARGS = [...chromiumArgs, ...fakeMediaArgs];

/** Git-ignored; CI keeps it as the run's artifacts. */
export const SHOTS_DIR = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));

export interface Demo {
  server: DemoServer;
  simulator: KonproSimulator;
  browser: Browser;
  origin: string;
  /** Console errors and warnings, and page errors, of every page opened through `newContext`. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * The demo server (against its simulator) and a browser for the tests of one
 * suite; call it inside `describe`. Ready before the first test, stopped
 * after the last; after each test the faults are cleared, and no page may
 * have logged a console error. `orphanAfterMs`: the proxy's, shortened.
 */
export function demoForSuite(options: { orphanAfterMs?: number } = {}): Demo {
  // Filled in before the first test: the suite keeps one reference throughout.
  const demo = {} as Demo;
  let started = false;
  before(async () => {
    Object.assign(demo, await startDemo({}, options.orphanAfterMs));
    started = true;
  });
  after(() => started && demo.close());
  afterEach(() => {
    demo.simulator.faults.reset();
    assert.deepEqual(demo.problems.splice(0), [], 'no console errors or page errors');
  });
  return demo;
}

async function startDemo(env: Record<string, string> = {}, orphanAfterMs?: number): Promise<Demo> {
  assert.ok(
    existsSync(BUNDLE_PATH),
    'dist/konpro-widget-guard.min.js is missing: run `npm run build` before the end-to-end tests',
  );
  const server = await startDemoServer({
    port: 0,
    host: '127.0.0.1',
    env,
    log: () => {},
    ...(orphanAfterMs === undefined ? {} : { orphanAfterMs }),
  });
  const browser = await chromium.launch({ executablePath, args: ARGS });
  assert.ok(server.simulator, 'the tests run against the simulator');
  return {
    server,
    simulator: server.simulator,
    browser,
    origin: server.origin,
    problems: [],
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Console lines that are the behaviour under test, not a fault of the page. */
export const EXPECTED = {
  /** The widget runtime's 401 SESSION_TERMINATED: the network log line of the termination itself. */
  terminated401: /Failed to load resource: the server responded with a status of 401/,
  /** Requests made while the browser is offline. */
  offline: /net::ERR_INTERNET_DISCONNECTED/,
};

export interface ContextOptions {
  /** Console errors matching these are expected in this test. */
  allow?: RegExp[];
  viewport?: { width: number; height: number };
}

export interface GuardEvent {
  /** The tab that fired it. */
  page: Page;
  type: string;
  detail: {
    sessionId?: string;
    reason?: string;
    outcome?: string;
    secondsLeft?: number;
    code?: string;
    message?: string;
  };
  /**
   * When it fired, by the page's clock (`Date.now()` there: the same clock as this process's), not
   * when this process heard of it, which a busy machine delays.
   */
  at: number;
}

interface Report {
  page: Page;
  name: string;
  value: unknown;
}

const recordedEvents = new WeakMap<BrowserContext, GuardEvent[]>();
const recordedReports = new WeakMap<BrowserContext, Report[]>();

/**
 * A fresh browser profile (its own cookies, storage and tabs). Every
 * `konpro-*` event of its pages is sent to this process as it fires, so none
 * is lost when a page navigates; console problems go to `demo.problems`.
 */
export async function newContext(demo: Demo, options: ContextOptions = {}): Promise<BrowserContext> {
  const context = await demo.browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const events: GuardEvent[] = [];
  const reports: Report[] = [];
  recordedEvents.set(context, events);
  recordedReports.set(context, reports);
  await context.exposeBinding('__konproEvent', ({ page }, type: string, detail: GuardEvent['detail'], at: number) => {
    events.push({ page, type, detail, at });
  });
  await context.exposeBinding('__konproReport', ({ page }, name: string, value: unknown) => {
    reports.push({ page, name, value });
  });
  await context.addInitScript(() => {
    const send = (window as unknown as { __konproEvent(type: string, detail: unknown, at: number): Promise<void> })
      .__konproEvent;
    for (const type of [
      'konpro-session-start',
      'konpro-session-end',
      'konpro-delete',
      'konpro-idle-warning',
      'konpro-guard-error',
    ]) {
      document.addEventListener(type, (event) => void send(type, (event as CustomEvent).detail, Date.now()), {
        capture: true,
      });
    }
  });
  const allow = [EXPECTED.terminated401, ...(options.allow ?? [])];
  context.on('page', (page) => {
    page.on('pageerror', (error) => demo.problems.push(`pageerror on ${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      if (allow.some((pattern) => pattern.test(message.text()))) return;
      demo.problems.push(`console.${message.type()} on ${page.url()}: ${message.text()}`);
    });
  });
  return context;
}

/** The guard events of a context (every tab) or of one tab, oldest first. */
export function events(scope: BrowserContext | Page, type?: string): GuardEvent[] {
  const page = 'context' in scope ? scope : undefined;
  const all = recordedEvents.get(page ? page.context() : (scope as BrowserContext)) ?? [];
  return all.filter((e) => (type === undefined || e.type === type) && (page === undefined || e.page === page));
}

function matches(event: GuardEvent, match: Partial<GuardEvent['detail']>): boolean {
  return Object.entries(match).every(([key, value]) => (event.detail as Record<string, unknown>)[key] === value);
}

/** Waits until the tab (or any tab of the context) fired `type` with the detail fields of `match`. */
export async function waitForEvent(
  scope: BrowserContext | Page,
  type: string,
  match: Partial<GuardEvent['detail']> = {},
  timeout = 15_000,
): Promise<GuardEvent> {
  const find = () => events(scope, type).find((e) => matches(e, match));
  await until(() => find() !== undefined, `${type} ${JSON.stringify(match)}`, timeout);
  return find()!;
}

export interface WidgetView {
  state: string | null;
  sessionId: string | null;
  /** Iframes the guard owns (in its shadow root). */
  frames: number;
  /** `<konpro-avatar>` elements in the guard's light DOM (the in-page embed). */
  embeds: number;
  /** `src` of the guard's iframe, if any. */
  frameSrc: string | null;
}

/** What a user would see of the widget, read from the DOM. */
export function widget(page: Page): Promise<WidgetView> {
  return page.evaluate(() => {
    const guard = document.querySelector('konpro-widget-guard');
    const frame = guard?.shadowRoot?.querySelector('iframe') ?? null;
    return {
      state: guard?.getAttribute('state') ?? null,
      sessionId: guard?.getAttribute('session-id') ?? null,
      frames: guard?.shadowRoot?.querySelectorAll('iframe').length ?? 0,
      embeds: guard?.querySelectorAll('konpro-avatar').length ?? 0,
      frameSrc: frame?.getAttribute('src') ?? null,
    };
  });
}

/**
 * Reads the widget from inside the page during the next click on `selector`,
 * right after the guard's own capture-phase handler: what the user sees in
 * the very task of the click. Returns a getter for that reading.
 */
export async function snapshotOnClick(page: Page, selector: string): Promise<() => WidgetView | undefined> {
  await page.evaluate((selector) => {
    const report = (window as unknown as { __konproReport(name: string, value: unknown): Promise<void> })
      .__konproReport;
    document.querySelector(selector)?.addEventListener(
      'click',
      () => {
        // The same reading as widget() (a function cannot be shipped into a page whose CSP forbids eval).
        const guard = document.querySelector('konpro-widget-guard');
        const frame = guard?.shadowRoot?.querySelector('iframe') ?? null;
        void report('click', {
          state: guard?.getAttribute('state') ?? null,
          sessionId: guard?.getAttribute('session-id') ?? null,
          frames: guard?.shadowRoot?.querySelectorAll('iframe').length ?? 0,
          embeds: guard?.querySelectorAll('konpro-avatar').length ?? 0,
          frameSrc: frame?.getAttribute('src') ?? null,
        });
      },
      { once: true },
    );
  }, selector);
  return () =>
    recordedReports.get(page.context())?.find((r) => r.page === page && r.name === 'click')?.value as
      WidgetView | undefined;
}

/** Signs in on `/` (with `query`, e.g. `?embed=1`) and waits for a live widget; returns its session id. */
export async function signIn(page: Page, origin: string, name: string, query = ''): Promise<string> {
  await page.goto(`${origin}/${query}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('konpro-widget-guard[state="active"]').waitFor();
  const { sessionId } = await widget(page);
  assert.ok(sessionId, 'the guard shows a session');
  return sessionId;
}

/** Two devices (browser profiles) of one user, each signed in with its own session, each following the event stream. */
export async function twoDevices(demo: Demo, name: string): Promise<Array<{ page: Page; sessionId: string }>> {
  const devices = [];
  for (let i = 0; i < 2; i++) {
    const page = await (await newContext(demo)).newPage();
    devices.push({ page, sessionId: await signIn(page, demo.origin, name) });
  }
  assert.notEqual(devices[0].sessionId, devices[1].sessionId, 'each device has its own session');
  // Both pages report their session on the stream.
  await until(async () => {
    const listed = await demo.server.proxy.listSessions({ userId: `person:${name}` });
    return listed.length === 2 && listed.every((s) => s.pages === 1);
  }, 'both devices on the event stream');
  return devices;
}

/** The simulated avatar in the guard: in its iframe, or in the page (embed). */
export function avatar(page: Page, embed = false) {
  return embed
    ? page.locator('konpro-widget-guard konpro-avatar')
    : page.frameLocator('konpro-widget-guard iframe').locator('konpro-avatar');
}

/** Waits for the simulated avatar to be live (its runtime answered). */
export async function avatarLive(page: Page, embed = false): Promise<void> {
  const live = 'konpro-avatar[state="active"]';
  await (
    embed ? page.locator(`konpro-widget-guard ${live}`) : page.frameLocator('konpro-widget-guard iframe').locator(live)
  ).waitFor();
}

/** Asks the simulated avatar something and waits for the words `answer` in its reply. */
export async function talk(page: Page, text: string, answer: RegExp, embed = false): Promise<void> {
  const root = avatar(page, embed);
  await root.getByRole('textbox', { name: 'Message to the avatar' }).fill(text);
  await root.getByRole('button', { name: 'Send message' }).click();
  // The caption appears word by word, as the avatar "speaks".
  await root.locator('.caption', { hasText: answer }).waitFor();
}

// --- The simulator, from the outside ------------------------------------------------------------

/** `active` or `terminated`, as the vendor API would answer. */
export function sessionStatus(demo: Demo, sessionId: string): string | undefined {
  const { store } = demo.simulator;
  const record = store.get(sessionId);
  return record && (store.endReason(record) === null ? 'active' : 'terminated');
}

/** Session-API calls the simulator received, through the console's JSON route. */
export async function vendorCalls(
  demo: Demo,
  filter: { method?: string; sessionId?: string } = {},
): Promise<LoggedRequest[]> {
  const query = new URLSearchParams();
  if (filter.method) query.set('method', filter.method);
  if (filter.sessionId) query.set('session_id', filter.sessionId);
  const response = await fetch(`${demo.origin}/konpro/console/api/requests?${query}`);
  return ((await response.json()) as { requests: LoggedRequest[] }).requests;
}

/** Polls `check` until it holds (for state outside a page, such as the simulator's). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// --- Screenshots -----------------------------------------------------------------------------------

export interface Shot {
  state: string;
  path: string;
  bytes: number;
  hash: string;
}

/**
 * Screenshots of named states, saved as test-results/e2e/{series}--{state}.png.
 * Each must be a non-empty PNG and differ from every other shot of the series.
 */
export class Shots {
  readonly taken: Shot[] = [];
  constructor(readonly series: string) {}

  async take(page: Page, state: string, options: { fullPage?: boolean } = {}): Promise<Shot> {
    await mkdir(SHOTS_DIR, { recursive: true });
    const path = `${SHOTS_DIR}${this.series}--${state}.png`;
    // Animations and caret frozen: two shots differ because the state does.
    const png = await page.screenshot({ fullPage: options.fullPage ?? false, animations: 'disabled', caret: 'hide' });
    await writeFile(path, png);
    assert.ok(png.length > 1000, `${path} is not empty (${png.length} bytes)`);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', `${path} is a PNG`);
    const shot = { state, path, bytes: png.length, hash: createHash('sha256').update(png).digest('hex') };
    const same = this.taken.find((other) => other.hash === shot.hash);
    assert.equal(same, undefined, `the screenshot of "${state}" is identical to "${same?.state}"`);
    this.taken.push(shot);
    return shot;
  }
}
