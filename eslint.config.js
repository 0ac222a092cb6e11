// ESLint flat config: typescript-eslint recommended rules, plus the project's hot-path discipline
// (no ambient clocks or randomness in the data plane and the generators; see ARCHITECTURE.md §3).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/dataplane/**/*.ts', 'src/controlplane/generate/**/*.ts', 'src/ca/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock (src/common/clock.ts).' },
        { object: 'Math', property: 'random', message: 'Use the injected Random (src/common/random.ts).' },
      ],
    },
  },
);
