// Lint for the whole tree (run from the repository root: npm run lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import lit from 'eslint-plugin-lit';
import wc from 'eslint-plugin-wc';
import litA11y from 'eslint-plugin-lit-a11y';
import globals from 'globals';

// Layering (README, How it works): which folder may import which.
const NODE_BUILTINS = { group: ['node:*'], message: 'Browser code cannot import Node built-ins.' };
const DEMO = { group: ['**/demo/**'], message: 'The library never depends on its demo.' };
const BROWSER_SIDE = {
  group: [
    'lit',
    'lit/*',
    '@lit/*',
    'idb-keyval',
    '**/element/**',
    '**/session/**',
    '**/detection/**',
    '**/outbox/**',
    '**/tabs/**',
    '**/platform/**',
    '**/teardown/**',
    '**/net/**',
    '**/push/**',
    '**/index.js',
    '**/define.js',
  ],
  message: 'src/shared and src/proxy touch no DOM: they may import src/shared only (and the proxy its own files).',
};
const LIBRARY = {
  group: ['**/src/**'],
  message: 'The vendor simulator is independent of the library (so it can catch a disagreement with it).',
};
const SIMULATOR = {
  group: ['**/simulator/**'],
  message: 'The demo site uses the library and its own helpers (demo/http.ts), not the simulator’s.',
};

const ASSERT_MESSAGE =
  'Give assert.ok / assert a message saying what a user would notice is wrong: without one, a failure ' +
  'in Node 20 under tsx hangs until the file times out and names no test (nodejs/node#52962).';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**', 'test/types/**', '.tmp/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: process.cwd() } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    extends: [lit.configs['flat/recommended'], wc.configs['flat/best-practice'], litA11y.configs.recommended],
    languageOptions: { globals: globals.browser },
    rules: {
      // The browser side runs in pages, not Node: node built-ins belong in src/proxy only.
      'no-restricted-imports': ['error', { patterns: [NODE_BUILTINS, DEMO] }],
    },
  },
  {
    // DOM-free code, shared by the element and the proxy: nothing that touches a page.
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NODE_BUILTINS, DEMO, BROWSER_SIDE] }] },
  },
  {
    // The server side: Node built-ins are fine, the browser side is not.
    files: ['src/proxy/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [DEMO, BROWSER_SIDE] }] },
  },
  {
    // The simulator is the vendor: it validates ids and bodies as the vendor documents, on its own.
    files: ['demo/simulator/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LIBRARY] }] },
  },
  {
    // The demo site is a site using the library; the vendor's simulator is not its toolbox.
    files: ['demo/site/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SIMULATOR] }] },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.mocha, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tests patch timers and fetch on purpose.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Node's test runner: in Node 20 a failing assert.ok(x) without a message makes the runner re-read
    // the test's source to build one, which under tsx takes so long that the file runs into its time
    // limit and no test is named (nodejs/node#52962). The browser suites (as web-test-runner.config.mjs
    // lists them) use chai's expect instead.
    files: ['test/**/*.ts', 'demo/**/*.test.ts'],
    ignores: [
      'test/{element,session,detection,outbox,tabs,platform,teardown,net,shared,push}/**/*.ts',
      '!**/*.node.test.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length<2]",
          message: ASSERT_MESSAGE,
        },
        { selector: "CallExpression[callee.name='assert'][arguments.length<2]", message: ASSERT_MESSAGE },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.jsx', 'demo/**/*.js', '.ci/*.mjs'],
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
  },
  {
    // CommonJS consumers of the package, as tests run them.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
);
