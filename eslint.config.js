// Lint rules: the recommended sets plus the few that guard this codebase's conventions.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        clearImmediate: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
        performance: 'readonly', queueMicrotask: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly',
        structuredClone: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error',
        { selector: 'TSEnumDeclaration', message: 'Use const objects: enums are not erasable syntax.' },
        { selector: 'TSModuleDeclaration[kind!="global"]', message: 'Namespaces are not erasable syntax.' },
        { selector: 'TSParameterProperty', message: 'Parameter properties are not erasable syntax.' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // The codec is pure: nothing but node:crypto and node:buffer.
    files: ['src/stun/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex: '^node:(?!crypto$|buffer$)', message: 'The STUN codec is pure: only node:crypto and node:buffer.' },
        { regex: '^(?!node:|\\.)', message: 'The STUN codec imports no packages.' },
        { regex: '^\\.\\./(\\.\\./|[a-z-]+/)', message: 'The STUN codec imports nothing outside src/stun.' },
      ] }],
    },
  },
  {
    // Protocol code observes through plain stats objects; it never imports OpenTelemetry.
    files: ['src/turn/**/*.ts', 'src/server/**/*.ts', 'src/stats/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@opentelemetry/*'], message: 'Protocol code never imports OpenTelemetry (docs/style.md 6).' },
      ] }],
    },
  },
);
