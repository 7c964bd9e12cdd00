// The demo looks finished: every page at phone (375 px) and desktop (1280 px)
// width without sideways scrolling, no console errors, no axe violations
// (WCAG 2 A/AA) in the site's own markup, and a strict CSP on every page.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { avatarLive, newContext, Shots, signIn, skip, demoForSuite, talk } from './harness.js';

// axe-core comes with the browser tests' chai-a11y-axe.
const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** WCAG 2 A/AA violations in the page's own markup (the vendor's widget is not the site's to fix). */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(await AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const result = await axe.run({ exclude: [['konpro-avatar']] }, { runOnly: ['wcag2a', 'wcag2aa'], iframes: false });
    return result.violations;
  });
  return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
}

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

void describe('the demo looks finished', { skip }, () => {
  const demo = demoForSuite();
  const shots = new Shots('look');

  for (const width of [375, 1280]) {
    void it(`every page at ${width} px: no sideways scrolling, no axe violations, no console errors`, async () => {
      const context = await newContext(demo, { viewport: { width, height: width < 600 ? 812 : 900 } });
      const page = await context.newPage();
      const check = async (state: string, axe = true) => {
        await noSidewaysScroll(page, state);
        if (axe) assert.deepEqual(await axeViolations(page), [], `${state}: axe`);
        await shots.take(page, `${state}-${width}`, { fullPage: true });
      };

      await page.goto(`${demo.origin}/`);
      await page.getByLabel('Your name').waitFor();
      await check('site-signed-out');

      await signIn(page, demo.origin, `Look ${width}`);
      await avatarLive(page);
      await page.locator('#event-log li').first().waitFor();
      await check('site-iframe');

      // The in-page embed shows the same session, and talks.
      await page.goto(`${demo.origin}/?embed=1`);
      await avatarLive(page, true);
      await talk(page, 'who are you?', /stand-in for a Konpro AI avatar/, true);
      await check('site-embed');

      await page.goto(`${demo.origin}/kiosk`);
      await avatarLive(page);
      await check('kiosk');

      // The simulator's console is the vendor's page: layout and errors only.
      await page.goto(`${demo.origin}/konpro/console/`);
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      await page.locator('#sessions tr').first().waitFor();
      await check('console', false);

      await context.close();

      // Its own profile: the 404 of the page itself is logged as a console error, and expected here.
      const lost = await newContext(demo, { viewport: { width, height: 800 }, allow: [/status of 404/] });
      const lostPage = await lost.newPage();
      const missing = await lostPage.goto(`${demo.origin}/no-such-page`);
      assert.equal(missing?.status(), 404);
      await noSidewaysScroll(lostPage, 'not-found');
      assert.deepEqual(await axeViolations(lostPage), [], 'not-found: axe');
      await shots.take(lostPage, `not-found-${width}`, { fullPage: true });
      await lost.close();
    });
  }

  void it('every page is served with a strict Content-Security-Policy and works under it', async () => {
    for (const path of ['/', '/kiosk', '/no-such-page']) {
      const response = await fetch(`${demo.origin}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /style-src 'self'(;|$)/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.match(csp, /base-uri 'none'/, path);
      assert.doesNotMatch(csp, /unsafe/, path);
      assert.equal(response.headers.get('cache-control'), 'no-store');
    }
    // Working under it: the other tests see no "Refused to ..." console errors on any page.
    const context = await newContext(demo);
    const page = await context.newPage();
    const violations: string[] = [];
    await page.exposeFunction('__cspViolation', (text: string) => violations.push(text));
    await page.addInitScript(() =>
      document.addEventListener(
        'securitypolicyviolation',
        (e) =>
          void (window as unknown as { __cspViolation(t: string): Promise<void> }).__cspViolation(
            `${e.violatedDirective} ${e.blockedURI}`,
          ),
      ),
    );
    await signIn(page, demo.origin, 'Strict');
    await avatarLive(page);
    await page.goto(`${demo.origin}/?embed=1`);
    await avatarLive(page, true);
    await page.goto(`${demo.origin}/kiosk`);
    await avatarLive(page);
    assert.deepEqual(violations, []);
    await context.close();
  });
});
