// @ts-check
/**
 * Lint, and the walls between layers (../shared/design/architecture.md § Walls), checked rather than hoped for:
 * - the renderer imports only src-shared and its own files (no Node, no Electron, no main-side code);
 * - src-shared imports nothing but zod and itself: both sides load it;
 * - engine/ imports neither store/, runner/, api/, server/, cli/ nor electron;
 * - tfjs only in engine/, and the code the Electron main process and `serve` load never imports the engine's
 *   computing modules statically (commands that compute load them with import());
 * - cli/, server/ and electron/ reach the store and the runner only to wire a lab, never to read or write runs.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

const NODE_BUILTINS = {
  regex: '^(node:|(fs|path|os|child_process|http|https|net|crypto|url|worker_threads|stream|events|module)(/|$))',
  message: 'Node modules are not available here.',
};
const ELECTRON_PATTERN = {
  regex: '^electron(/|$)',
  message: 'Electron is imported only by src-main/electron (its binary downloads on first require in plain Node).',
};
const TFJS = { regex: '^@tensorflow/', message: 'tfjs is loaded only by engine/ code that runs in workers or in commands that compute.' };
const SQLITE = { regex: '^better-sqlite3$', message: 'SQLite is the store’s business.' };
const MAIN_FROM_RENDERER = {
  regex: '(^|/)src-main(/|$)',
  message: 'The renderer imports only @shared/* and its own files; put what both sides need in src-shared/.',
};
const RENDERER = { regex: '(^|/)src-renderer(/|$)', message: 'Nothing outside the renderer imports renderer code.' };
// Static imports of the engine's computing modules (they load tfjs); types and dynamic import() are fine.
const ENGINE_COMPUTE = {
  regex: '(^|/)engine/(tf|backend|losses/(?!types$)[^/]+|synthetic/(experiment|model))$',
  allowTypeImports: true,
  message: 'This module loads tfjs: the main process and `serve` must start without it (use import() in a command that computes).',
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'src-main/engine/generated/**', 'test-results/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
      // `(a(), b())` in arrow bodies is used sparingly on purpose in chart code
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
    },
  },
  {
    files: ['src-renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [ELECTRON_PATTERN, MAIN_FROM_RENDERER, NODE_BUILTINS, TFJS, SQLITE] }],
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ELECTRON_PATTERN,
            { regex: '(^|/)src-main(/|$)|^\\.\\./', message: 'src-shared imports only itself and zod: both sides load it.' },
            RENDERER,
            NODE_BUILTINS,
            TFJS,
            SQLITE,
            { regex: '^vue$', message: 'src-shared has no UI code.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/**/*.ts'],
    // the worker is where training runs: it is the one process besides engine/ that loads tfjs
    ignores: ['src-main/electron/**', 'src-main/engine/**', 'src-main/runner/worker.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [ELECTRON_PATTERN, TFJS, RENDERER, ENGINE_COMPUTE] }],
    },
  },
  {
    files: ['src-main/cli/**/*.ts', 'src-main/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ELECTRON_PATTERN,
            TFJS,
            RENDERER,
            ENGINE_COMPUTE,
            {
              regex: '^\\.\\./(store|runner)/(?!paths$|launch-child$)',
              allowTypeImports: true,
              message: 'Front doors call the service (lab.service), never the store or the runner directly.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            TFJS,
            RENDERER,
            ENGINE_COMPUTE,
            {
              regex: '^\\.\\./(store|runner)/(?!paths$|launch-utility$)',
              allowTypeImports: true,
              message: 'Front doors call the service (lab.service), never the store or the runner directly.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/runner/worker.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ELECTRON_PATTERN, RENDERER] }] },
  },
  {
    files: ['src-main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ELECTRON_PATTERN,
            RENDERER,
            {
              regex: '^(\\.\\./)+(store|runner|api|server|cli|electron)(/|$)',
              message: 'engine/ is pure computation: no store, runner, api, front doors or Electron.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.{js,mjs}', '*.config.{js,ts}'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
