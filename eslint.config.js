import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // No emulator-specific code in the application.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/emulator/**', '**/host/**'] }],
    },
  },
  {
    // The domain owns decisions and must not import an SDK (design.md, "Architecture"). Listed after the src/**
    // block because a later block's options replace an earlier one's for the same rule.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@azure/*', '**/emulator/**', '**/host/**'] }],
    },
  },
);
