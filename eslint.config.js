// ESLint flat config: typescript-eslint's type-aware recommended rules over every TypeScript
// file the compiler sees (tsconfig.json includes src, test, bench and infra), plus ESLint's
// recommended rules for the plain .mjs scripts. Formatting is Prettier's job, not ESLint's.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'data/', 'test/fixtures/', '.dvc/', 'image-model/', 'tmp/'] },
  {
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `{ before: _b, ...rest }` drops a field on purpose; `_`-prefixed names are deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Off on purpose: many async functions here implement async contracts over synchronous
      // code (the SQLite tracking stores and the local remote behind the same interfaces as
      // PostgreSQL, REST and S3; Fastify handlers). `async` is what turns their throws into
      // rejections, which the callers and the contract suites rely on.
      '@typescript-eslint/require-await': 'off',
      // node:test's test()/describe() return promises that the runner itself awaits and reports;
      // awaiting them at top level would only serialise files the runner already orders.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after'] },
          ],
        },
      ],
    },
  },
  {
    // Tests read response bodies as the `any` that JSON.parse and inject().json() return and
    // assert on their fields; the assertion is the type check there, so the no-unsafe-* family
    // (which guards production code against untyped data) is off for test files only.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [eslint.configs.recommended],
    languageOptions: {
      globals: globals.node,
    },
  },
);
