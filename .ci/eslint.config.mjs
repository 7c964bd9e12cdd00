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
