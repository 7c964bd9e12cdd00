// Runs a file of test/package/fixtures in a Node process of its own, against the built package
// (dist/, through package.json's exports, as a consumer imports it by name).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** It had to be killed: something kept it running after its work was done. */
  timedOut: boolean;
}

/** Fails at once, saying what to do, when there is no build to test. */
export function assertBuilt(): void {
  assert.ok(existsSync(`${root}dist/index.js`), 'dist/ is missing: run `npm run build` before these tests');
}

/** Runs `node fixtures/{file}` from the package root and waits until it exits, or kills it after `timeoutMs`. */
export function runFixture(file: string, env: Record<string, string> = {}, timeoutMs = 10_000): Promise<NodeRun> {
  assertBuilt();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fileURLToPath(new URL(`fixtures/${file}`, import.meta.url))],
      { cwd: root, env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const killed = error !== null && 'killed' in error && error.killed === true;
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr,
          timedOut: killed,
        });
      },
    );
  });
}

/** The last line of a run's output, parsed. */
export function lastJsonLine<T>(run: NodeRun): T {
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
