// Lint rules for the whole tree: typescript-eslint's recommended set, type-aware where it pays.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'test/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['drivers/**/*.ts'],
    rules: {
      // DESIGN.md: drivers never reach into the store, the domain or HTTP.
      'no-restricted-imports': ['error', { patterns: ['**/gateway/store/**', '**/gateway/gate/**', '**/gateway/patrol/**', '**/gateway/video/**', '**/gateway/http/**', '**/gateway/broker/**'] }],
    },
  },
  {
    files: ['edge/**/*.ts', 'edge/**/*.tsx'],
    rules: {
      // edge/ talks to the gateway over HTTP only; contract types are the one exception (import type).
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/gateway/**/*.*', '!**/gateway/http/contracts*', '!**/gateway/http/gate-contracts*', '!**/gateway/http/patrol-contracts*', '!**/gateway/http/video-contracts*'], message: 'edge/ may import only the API contracts from gateway/' }] }],
    },
  },
);
