/**
 * Figure: gzip (level 9) and brotli (quality 11) size of
 * dist/konpro-widget-guard.min.js, against a Lit + idb-keyval hello-world
 * element (baseline/hello-element.js, the build's own size baseline) built
 * in the same run with the very same rollup options: the minified-bundle
 * entry of rollup.config.mjs, loaded from the file, with only its input
 * replaced (and its size-report plugin left out).
 *
 * A second build of the guard with Lit and idb-keyval left out tells how
 * much of the bundle is the guard's own code.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rollup, type OutputOptions, type RollupOptions } from 'rollup';
import { kb, type BenchOptions, type FigureResult } from './report.js';
import { BUNDLE_FILE } from './server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BASELINE_INPUT = fileURLToPath(new URL('./baseline/hello-element.js', import.meta.url));

export interface Sizes {
  raw: number;
  gzip: number;
  brotli: number;
}

interface RollupConfigModule {
  default: RollupOptions[];
  compressedSizes(code: string | Buffer): Sizes;
}

/** rollup.config.mjs, fresh: its options and its way of measuring, so bench and build measure alike. */
function loadRollupConfig(): Promise<RollupConfigModule> {
  const url = `${pathToFileURL(`${ROOT}rollup.config.mjs`).href}?bench=${Date.now()}-${Math.random()}`;
  return import(url) as Promise<RollupConfigModule>;
}

async function bundleConfig(): Promise<RollupOptions> {
  const { default: configs } = await loadRollupConfig();
  const config = configs.find((entry) => !Array.isArray(entry.output) && entry.output?.file?.endsWith('.min.js'));
  if (!config) throw new Error('rollup.config.mjs has no entry that writes a .min.js file');
  return config;
}

/** Builds in memory (nothing is written) with the bundle's options, overridden by `change`, less the plugins named in `leaveOut`. */
async function buildWith(change: Partial<RollupOptions>, leaveOut: readonly string[] = []): Promise<string> {
  const { output, plugins, ...input } = await bundleConfig();
  // The build's own size report would measure (and record) this build as if it were the guard's.
  const skip = new Set(['size-report', ...leaveOut]);
  const transforms = (Array.isArray(plugins) ? plugins : [plugins]).filter(
    (plugin) => !(plugin && typeof plugin === 'object' && 'name' in plugin && skip.has(plugin.name)),
  );
  const bundle = await rollup({ ...input, plugins: transforms, ...change, onwarn: () => {} });
  try {
    // The output options stay the bundle's own (its file name too, which the TypeScript plugin checks); generate() writes nothing.
    const { output: chunks } = await bundle.generate({ ...(output as OutputOptions), sourcemap: false });
    return chunks.map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('');
  } finally {
    await bundle.close();
  }
}

export async function measureSize(options: BenchOptions): Promise<FigureResult> {
  const { compressedSizes } = await loadRollupConfig();
  const guard = compressedSizes(await readFile(BUNDLE_FILE));
  // The baseline is JavaScript: the TypeScript plugin transforms nothing in it, only type-checks the
  // project, which --quick skips (the output is the same bytes).
  const baseline = compressedSizes(await buildWith({ input: BASELINE_INPUT }, options.quick ? ['typescript'] : []));
  // The guard without its two libraries (skipped in --quick: it type-checks src/ again).
  const ownCode = options.quick
    ? undefined
    : compressedSizes(
        await buildWith({
          external: [
            /^lit(\/|$)/,
            /^@lit\//,
            /^lit-html(\/|$)/,
            /^lit-element(\/|$)/,
            /^@lit\/reactive-element/,
            /^idb-keyval(\/|$)/,
          ],
        }),
      );
  const gzipRatio = guard.gzip / baseline.gzip;
  const brotliRatio = guard.brotli / baseline.brotli;
  const baselineName = 'Lit + idb-keyval hello world';
  return {
    name: 'size',
    rows: [
      {
        figure: 'dist/konpro-widget-guard.min.js, gzip -9',
        value: kb(guard.gzip),
        baseline: `${kb(baseline.gzip)} (${baselineName})`,
        ratio: gzipRatio,
        goal: '≤ 3.4× (the build budget), push client included',
        met: gzipRatio <= 3.4,
      },
      {
        figure: 'dist/konpro-widget-guard.min.js, brotli -q 11',
        value: kb(guard.brotli),
        baseline: `${kb(baseline.brotli)} (${baselineName})`,
        ratio: brotliRatio,
        goal: '(reported)',
        met: null,
      },
      ...(ownCode
        ? [
            {
              figure: "  of which the guard's own code (Lit, idb-keyval external), gzip",
              value: kb(ownCode.gzip),
              baseline: `room at 3.4× beside Lit + idb-keyval: ${kb(baseline.gzip * 2.4)}`,
              goal: '(reported)',
              met: null,
            },
          ]
        : []),
    ],
    raw: {
      bundle: guard,
      baseline,
      guardOwnCode: ownCode ?? null,
      gzipRatio,
      brotliRatio,
      budgetAt1_6: { gzip: Math.floor(baseline.gzip * 1.6), brotli: Math.floor(baseline.brotli * 1.6) },
    },
  };
}
