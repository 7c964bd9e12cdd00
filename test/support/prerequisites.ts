// What a Node test suite does when something it needs is missing (Chromium, a build): never pass
// by skipping. Under CI (CI=true) it is a failing test that names what is missing. Elsewhere the
// suite is skipped with one line saying why, and the test file exits non-zero, so `npm test` fails.
import { test } from 'node:test';

/** Whether this run is CI's (CI set to anything but "", "0" or "false"). */
export const inCI = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());

/**
 * The `skip` option for a suite or test that needs something: `false` when `missing` is `false`,
 * otherwise `missing` (the one-line reason), after failing the run as described above.
 */
export function requires(missing: string | false): string | false {
  if (missing === false) return false;
  process.exitCode = 1;
  if (inCI) {
    void test('what this suite needs is here', () => {
      throw new Error(`${missing} (CI=true: a missing prerequisite is a failure, not a skip)`);
    });
  } else {
    console.error(`skipped, so this run fails: ${missing}`);
  }
  return missing;
}
