// The one Chromium every browser test, end-to-end test and bench uses: Debian's binary (or
// CHROME_PATH), never a downloaded one, with the flags that work headless as root.
import { existsSync } from 'node:fs';

export const executablePath = process.env.CHROME_PATH || '/usr/bin/chromium';

/** Why no browser can be launched (one line that says how to get one), or `false`. */
export const missingBrowser = existsSync(executablePath)
  ? false
  : `No Chromium at ${executablePath}: install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROME_PATH to a Chrome or Chromium binary.`;

/** Headless, as root, quiet: no sandbox, GPU, background networking, updates, sync or first-run UI. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A fake camera and microphone, granted without a prompt. */
export const fakeMediaArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
