// Lint rules for the whole tree: ESLint's and typescript-eslint's recommended
// sets, syntax-level only (no type information: linting the tree takes seconds),
// plus the 120-column limit that prettier cannot enforce on strings and comments.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'build/', '.tap/', 'src/spec/generated/', 'src/seccomp/tables/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, Bun: 'readonly' } },
    rules: {
      'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true }],
      // An empty catch is how this code says "absent is fine" (ENOENT on cleanup).
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
);
