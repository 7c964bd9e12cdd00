// Browser tests: @web/test-runner in headless Chromium (Debian's /usr/bin/chromium, or CHROME_PATH).
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { testBackend } from './support/test-backend.mjs';
import { browserSession, cdpFor, cdpPlugin } from './support/cdp-plugin.mjs';
import { chromiumArgs, executablePath, fakeMediaArgs, missingBrowser } from './support/chromium.mjs';

if (missingBrowser) {
  console.error(missingBrowser);
  process.exit(1);
}

const args = [...chromiumArgs, '--disable-quic', ...fakeMediaArgs];

export default {
  rootDir: '.',
  // Browser tests mirror src/ (test/element, test/session, test/detection, ...); *.node.test.ts run in
  // Node (npm run test:node), as do test/proxy, test/demo, test/e2e and test/bench.
  files: [
    'test/{element,session,detection,outbox,tabs,platform,teardown,net,shared,push}/**/*.test.ts',
    '!test/**/*.node.test.ts',
  ],
  nodeResolve: true,
  concurrency: 2,
  testsFinishTimeout: 180_000,
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.json' }), cdpPlugin()],
  middleware: [testBackend()],
  browsers: [
    chromeLauncher({
      launchOptions: { executablePath, headless: true, args },
      // Each test file in a window of its own: tabs of one window hide each other, and the guard
      // (rightly) behaves differently in a hidden page.
      createPage: async ({ context }) => {
        const cdp = await browserSession(context.browser());
        const { targetId } = await cdp.send('Target.createTarget', {
          url: 'about:blank',
          newWindow: true,
          ...(context.id ? { browserContextId: context.id } : {}),
        });
        const target = await context.browser().waitForTarget((t) => t._targetId === targetId);
        const page = await target.page();
        // Every test window behaves as the focused one, as a person's would: otherwise the two
        // windows running at once take focus from each other (focus and keys then go astray).
        await (await cdpFor(page)).send('Emulation.setFocusEmulationEnabled', { enabled: true });
        return page;
      },
    }),
  ],
  testFramework: { config: { timeout: 15_000 } },
  // Lit's dev-mode notice is expected in tests (dev mode is kept for its misuse checks).
  filterBrowserLogs: ({ args }) => !String(args[0]).includes('Lit is in dev mode'),
};
