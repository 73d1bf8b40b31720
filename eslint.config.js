// @ts-check
/**
 * ESLint (flat config) for `npm run lint`, which .ci/run runs before the tests.
 *
 * Layers, in order: the recommended JS and typescript-eslint rules for every file; a few
 * type-aware rules (promises) on the code that tsconfig.node.json / tsconfig.web.json cover;
 * the react-hooks rules for the renderer; and the import-direction rules that keep the three
 * places apart (the house style notes, STYLE.md: "enforce the direction with lint"):
 *   - the engine (electron/engine/) never loads `electron` at runtime (`import type` is fine)
 *     and never imports the Electron shell (electron/desktop/), so it runs headless under plain Node;
 *   - inside the engine, no folder imports one of a higher layer (ENGINE_LAYERS), and there are
 *     no import cycles (import-x/no-cycle sees value imports; tests/unit/architecture checks the
 *     type-only ones too);
 *   - the renderer (renderer/src/) imports only shared/, its own files and npm packages;
 *   - shared/ imports nothing from electron/ or renderer/.
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';

/** Resolves `./x.js` to `./x.ts` as NodeNext and Bundler resolution do, so path rules see real files. */
const resolver = createNodeResolver({
  extensions: ['.ts', '.tsx', '.cts', '.mts', '.js', '.mjs', '.cjs', '.json', '.node'],
  extensionAlias: { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'], '.cjs': ['.cts', '.cjs'] },
});

/** How import-x finds and reads the files an import points to (shared with eslint.cycles.config.js). */
export const importSettings = {
  'import-x/resolver-next': [resolver],
  'import-x/extensions': ['.ts', '.tsx', '.cts', '.mts', '.js', '.mjs', '.cjs'],
  'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx', '.cts', '.mts'] },
};

/** Files type-checked by tsconfig.node.json or tsconfig.web.json (tests/ and build/ are not). */
const TYPED_FILES = ['electron/**/*.ts', 'electron/**/*.cts', 'shared/**/*.ts', 'renderer/src/**/*.{ts,tsx}'];

/** The Electron shell (main process, preload, IPC, window and tray): the only files that may load `electron` at runtime. */
const SHELL_FILES = ['electron/desktop/**'];

/**
 * The engine's layers, lowest first (README, "Architecture"). A folder may import its own layer
 * and the layers below it, never one above: the parts both the relay and the locator use sit
 * low, the wiring (engine.ts, cli.ts) sits on top. Several folders may share a layer when they
 * do not import each other.
 */
const ENGINE_LAYERS = [
  ['core'],
  ['codec'],
  ['routing'],
  ['upstream'],
  ['relay'],
  ['history', 'demo', 'logs'],
  ['live', 'config'],
  ['fleet'],
  ['admin'],
  ['engine.ts', 'cli.ts'],
];

/** import-x/no-restricted-paths zones: each layer's folders may not import any folder of a layer above. */
function engineLayerZones() {
  const at = (name) => `./electron/engine/${name}`;
  return ENGINE_LAYERS.flatMap((layer, index) => {
    const above = ENGINE_LAYERS.slice(index + 1)
      .flat()
      .map(at);
    if (above.length === 0) return [];
    return layer.map((name) => ({
      target: at(name),
      from: above,
      message: `electron/engine/${name} sits below ${ENGINE_LAYERS.slice(index + 1)
        .flat()
        .join(', ')}: lower layers never import higher ones (README, Architecture).`,
    }));
  });
}

export default defineConfig(
  {
    ignores: ['dist/', 'release/', 'node_modules/', 'tests/bench/results/', 'electron/engine/demo/assets/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    settings: importSettings,
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  // JavaScript files (build/, tests/, electron/bin/, these configs) run on Node. TypeScript files
  // take their globals from their tsconfig (typescript-eslint turns no-undef off for them).
  { files: ['**/*.{js,mjs,cjs}'], languageOptions: { globals: globals.node } },
  {
    rules: {
      // `_`-prefixed names mark an argument or binding kept on purpose (signatures, destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    rules: {
      // The `\x00`-style classes in the code are deliberate (rejecting control characters in
      // playlists, headers and names) and commented; the rule exists to catch accidental ones.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['tests/**'],
    rules: {
      // Tests read JSON answers from real servers through helpers typed `any` on purpose
      // (tests/helpers/api-client.ts); typing ApiClient.call per path from shared/api.ts comes first.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.cjs', '**/*.cts'],
    rules: {
      // CommonJS files (tests/fixtures/nms-origin.cjs) load modules with require().
      '@typescript-eslint/no-require-imports': 'off',
    },
  },

  // Type-aware rules, only where a tsconfig covers the file and only the cheap, high-value ones.
  {
    files: TYPED_FILES,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },

  // The renderer: React's rules of hooks, plus the React Compiler checks (purity, refs, ...).
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },

  // Import direction.
  {
    files: ['electron/**/*.{ts,cts,mjs}'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './electron/engine',
              from: ['./electron/desktop', './electron/bin'],
              message: 'The engine runs headless: it never imports the Electron shell (electron/desktop) or the launchers.',
            },
            ...engineLayerZones(),
          ],
        },
      ],
      // No import circles, type-only ones included: a circle means two files are one concern or a seam is missing.
      'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false }],
      'import-x/no-unresolved': 'error',
    },
  },
  {
    files: ['electron/**/*.{ts,cts,mjs}'],
    ignores: SHELL_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              allowTypeImports: true,
              message: 'The engine runs headless: only electron/desktop/ loads electron at runtime (import type is fine).',
            },
          ],
          patterns: [{ group: ['electron/*'], allowTypeImports: true, message: 'The engine runs headless: load electron only from the shell.' }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression[source.value=/^electron(\\u002F|$)/]', message: 'The engine runs headless: no import() of electron outside the shell.' },
        {
          selector: "CallExpression[callee.name='require'][arguments.0.value=/^electron(\\u002F|$)/]",
          message: 'The engine runs headless: no require() of electron outside the shell.',
        },
      ],
    },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}', 'shared/**/*.ts'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './renderer/src',
              from: './',
              except: ['./renderer/src', './shared', './node_modules'],
              message: 'The renderer imports only shared/, its own files and npm packages.',
            },
            { target: './shared', from: ['./electron', './renderer'], message: 'shared/ is used by both sides and imports neither.' },
          ],
        },
      ],
      // A path the resolver cannot follow would slip past the zones above; TypeScript resolves the same imports.
      'import-x/no-unresolved': 'error',
      // Both run in the browser too (shared/ is bundled into the renderer): no Node built-ins.
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'Runs in the browser: no Node built-ins.' }] }],
    },
  },
);
