// Builds three things from src/ (see the exports map in package.json):
// - dist/*.js + *.d.ts: the ESM package, one file per module, Lit and idb-keyval external;
// - dist/proxy/*: the server side (`konpro-widget-guard/proxy`);
// - dist/konpro-widget-guard.min.js: one self-contained minified file for a plain <script type="module">.
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const compilerOptions = { noEmit: false, outDir: 'dist', rootDir: 'src', declaration: true, declarationDir: 'dist', sourceMap: true };
const include = ['src/**/*.ts'];

export default [
  {
    input: { index: 'src/index.ts', 'proxy/index': 'src/proxy/index.ts' },
    output: { dir: 'dist', format: 'es', preserveModules: true, preserveModulesRoot: 'src', sourcemap: true },
    external: [/^lit(\/|$)/, /^@lit\//, /^idb-keyval(\/|$)/, /^node:/],
    plugins: [typescript({ tsconfig: './tsconfig.json', include, filterRoot: '.', compilerOptions })],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/konpro-widget-guard.min.js', format: 'es', sourcemap: true },
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', include, filterRoot: '.', compilerOptions: { ...compilerOptions, declaration: false, declarationDir: undefined, outDir: 'dist' } }),
      terser({ ecma: 2022, module: true, format: { comments: false } }),
    ],
  },
];
