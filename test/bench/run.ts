/**
 * `npm run bench`: every figure of issues 8 and 18, each beside its baseline measured
 * in the same run, printed as a table and written to bench-results.json.
 *
 *   npm run bench                      the full run (under 15 minutes on two cores)
 *   npm run bench -- --quick           fewer iterations, for development (indicative only)
 *   npm run bench -- --only=teardown   some figures (size, teardown, second-tab, interception,
 *                                      delivery, memory, proxy, fanout, streams, orphans, store, push)
 *   npm run bench -- --markdown        also print the table as Markdown (for the README)
 *   BENCH_BUNDLE=path/to/other.min.js  measure a candidate build against the same baselines
 *
 * Timing figures are reported, never enforced: the exit code only says
 * whether every measurement ran (2: a usage error). A figure that fails is one
 * row "failed: <its error's first line>" (its stack in bench-results.json,
 * under `failures`), and the others still run.
 */
import { writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.js';
import { measureDelivery } from './delivery.js';
import { measureFanout } from './fanout.js';
import { measureInterception } from './interception.js';
import { measureMemory } from './memory.js';
import { measureOrphans } from './orphans.js';
import { measureProxyThroughput } from './proxy-throughput.js';
import { measurePush } from './push.js';
import { failedRow, formatMarkdown, formatTable, type BenchOptions, type FigureResult, type Row } from './report.js';
import { measureSecondTab } from './second-tab.js';
import { BUNDLE_FILE, startBenchServer, type BenchServer } from './server.js';
import { measureSize } from './size.js';
import { measureStoreThroughput } from './store-throughput.js';
import { measureStreams } from './streams.js';
import { measureTeardown } from './teardown.js';

const RESULTS = fileURLToPath(new URL('../../bench-results.json', import.meta.url));

interface Figure {
  key: string;
  browser: boolean;
  run(context: { browser: Browser; server: BenchServer; options: BenchOptions }): Promise<FigureResult>;
}

const FIGURES: Figure[] = [
  { key: 'size', browser: false, run: ({ options }) => measureSize(options) },
  {
    key: 'teardown',
    browser: true,
    run: ({ browser, server, options }) => measureTeardown(browser, server.origin, options),
  },
  {
    key: 'second-tab',
    browser: true,
    run: ({ browser, server, options }) => measureSecondTab(browser, server.origin, options),
  },
  {
    key: 'interception',
    browser: true,
    run: ({ browser, server, options }) => measureInterception(browser, server.origin, options),
  },
  { key: 'delivery', browser: true, run: ({ browser, server, options }) => measureDelivery(browser, server, options) },
  {
    key: 'memory',
    browser: true,
    run: ({ browser, server, options }) => measureMemory(browser, server.origin, options),
  },
  { key: 'proxy', browser: false, run: ({ options }) => measureProxyThroughput(options) },
  { key: 'fanout', browser: false, run: ({ options }) => measureFanout(options) },
  { key: 'streams', browser: false, run: ({ options }) => measureStreams(options) },
  { key: 'orphans', browser: false, run: ({ options }) => measureOrphans(options) },
  { key: 'store', browser: false, run: ({ options }) => measureStoreThroughput(options) },
  { key: 'push', browser: true, run: ({ browser, options }) => measurePush(browser, options) },
];

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): {
  options: BenchOptions;
  only: Set<string> | undefined;
  markdown: boolean;
} {
  const known = FIGURES.map((figure) => figure.key);
  const only = argv.filter((arg) => arg.startsWith('--only='));
  if (only.length > 1) throw new UsageError('--only= given more than once; list the figures in one, comma-separated');
  const keys = only[0] === undefined ? undefined : only[0].slice('--only='.length).split(',');
  if (keys?.some((key) => key === ''))
    throw new UsageError(`--only= needs figure names, comma-separated: ${known.join(', ')}`);
  const unknown = (keys ?? []).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown figure${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ')}`,
    );
  const flags = argv.filter((arg) => !arg.startsWith('--only=') && arg !== '--quick' && arg !== '--markdown');
  if (flags.length > 0)
    throw new UsageError(
      `unknown argument${flags.length > 1 ? 's' : ''} ${flags.join(' ')}; known: --quick, --markdown, --only=<figures>`,
    );
  return {
    options: { quick: argv.includes('--quick') },
    only: keys && new Set(keys),
    markdown: argv.includes('--markdown'),
  };
}

const describe = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message}`);
    return 2;
  }
  const { options, only, markdown } = args;
  const figures = FIGURES.filter((figure) => !only || only.has(figure.key));
  const started = Date.now();
  const results: FigureResult[] = [];
  const timings: Record<string, number> = {};
  const failures: Record<string, string> = {};
  // Last resort: a promise a figure started and never awaited must not end the run. What rejects
  // (or throws from a callback) is recorded against the figure running then, which counts as failed.
  let running = '(setup)';
  const strays: Array<{ key: string; error: unknown }> = [];
  const onStray = (error: unknown) => {
    strays.push({ key: running, error });
    process.stderr.write(`\nbench: unhandled error during ${running}: ${describe(error)}\n`);
  };
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);

  const server = await startBenchServer();
  let browser: Browser | undefined;
  let chromiumVersion: string | null = null;
  try {
    for (const figure of figures) {
      const at = Date.now();
      running = figure.key;
      process.stderr.write(`bench: ${figure.key}${options.quick ? ' (quick)' : ''}… `);
      let result: FigureResult | undefined;
      const errors: unknown[] = [];
      try {
        // A figure that killed or crashed the browser does not take the next ones with it.
        if (figure.browser && !browser?.isConnected()) {
          browser = await launchBrowser();
          chromiumVersion = browser.version();
        }
        result = await figure.run({ browser: browser!, server, options });
      } catch (error) {
        errors.push(error);
      }
      // Node reports an unhandled rejection a tick after the promise settles: let this figure's arrive.
      await new Promise((resolve) => setImmediate(resolve));
      errors.push(...strays.filter((stray) => stray.key === figure.key).map((stray) => stray.error));
      timings[figure.key] = (Date.now() - at) / 1000;
      if (errors.length === 0) {
        results.push(result!);
        process.stderr.write(`${timings[figure.key].toFixed(1)} s\n`);
        continue;
      }
      failures[figure.key] = errors.map(describe).join('\n');
      process.stderr.write(`failed after ${timings[figure.key].toFixed(1)} s\n${failures[figure.key]}\n`);
      // What it measured before an unhandled error, if it returned at all, stays beside the failure.
      results.push({
        name: figure.key,
        rows: [failedRow(figure.key, errors[0]), ...(result?.rows ?? [])],
        raw: { failed: errors.map(describe), measured: result?.raw },
      });
    }
  } finally {
    running = '(teardown)';
    await browser?.close().catch(() => undefined);
    await server.close();
  }
  for (const { key, error } of strays)
    if (!figures.some((figure) => figure.key === key))
      failures[key] = failures[key] ? `${failures[key]}\n${describe(error)}` : describe(error);

  const rows: Row[] = results.flatMap((result) => result.rows);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    chromium: chromiumVersion,
  };
  const header = [
    `konpro-widget-guard bench, ${new Date().toISOString()}${options.quick ? ' (--quick: indicative only)' : ''}`,
    `${machine.cpu} × ${machine.cores}, ${machine.memoryGB} GB, ${machine.os}; Node ${machine.node}${machine.chromium ? `, Chromium ${machine.chromium}` : ''}`,
    process.env.BENCH_BUNDLE ? `bundle: ${BUNDLE_FILE} (BENCH_BUNDLE)` : '',
    'Each figure is measured beside its baseline in the same run; on a noisy machine, the ratios are what count.',
  ].filter(Boolean);
  console.log(`\n${header.join('\n')}\n\n${formatTable(rows)}\n`);
  if (markdown) console.log(`${formatMarkdown(rows)}\n`);
  await writeFile(
    RESULTS,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        quick: options.quick,
        bundle: BUNDLE_FILE,
        machine,
        seconds: { total: (Date.now() - started) / 1000, ...timings },
        table: rows,
        figures: Object.fromEntries(results.map((result) => [result.name, result.raw])),
        failures,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`Figures written to ${RESULTS} (${((Date.now() - started) / 1000).toFixed(0)} s).`);
  if (Object.keys(failures).length > 0)
    console.error(`bench: ${Object.keys(failures).join(', ')} could not be measured (see above)`);
  return Object.keys(failures).length > 0 ? 1 : 0;
}

process.exitCode = await main();
