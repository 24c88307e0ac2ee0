// ESLint (npm run lint; part of npm test): typescript-eslint's type-checked recommended rules over
// the whole project. Their point here is the promise rules: a floating promise (a publish, a close,
// a handler whose rejection nobody sees) is the commonest bug in amqplib code, and
// no-floating-promises / no-misused-promises catch it. Formatting is Prettier's (npm run format):
// none of these presets turns on a stylistic rule, so the two do not fight.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Besides these, ESLint skips node_modules/ by itself. dist/ is the image build's output.
    ignores: ['dist/', 'data/', '.data/', '.progress/', '.grade-results/', 'coverage/'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        // The TypeScript project service: each file is checked with the tsconfig.json that holds it;
        // the few JavaScript files outside it (the .mjs launchers and container checks, the
        // dashboard page's script, this file) get a default project.
        projectService: {
          allowDefaultProject: [
            '*.js',
            'docker/*.mjs',
            'grader/*.mjs',
            'grader/cli/*.mjs',
            'grader/loader/*.mjs',
            'solutions/*.mjs',
            'solutions/supervisor/*.mjs',
            'shared/bundling/*.mjs',
            'solutions/services/*/*.mjs',
            'scripts/containers/*.mjs',
            'solutions/dashboard/page/*.js',
          ],
          // Eight by default; the project has sixteen such files, each small, so the slowdown is small.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 20,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Rules of the preset left out, each for its reason:
      //
      // The no-unsafe-* family flags every use of an `any`. Here nearly all of them come from
      // amqplib's typings (a message's headers, correlationId, replyTo... are `any`) and from
      // JSON.parse; what comes off the wire is checked at run time (zod schemas, the grader's own
      // checks) rather than by a cast at each use, so the rules would ask for ~130 casts that catch
      // nothing.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // The project's contexts (the grader's CheckContext, a handler's { db, emit, log }) are plain
      // objects of closures, declared with method syntax, and are destructured everywhere; none of
      // them uses `this`, so each of the ~70 findings was a false alarm.
      '@typescript-eslint/unbound-method': 'off',
      // An async function without an await is deliberate here: it turns a throw into a rejection
      // and fits an async signature (handlers, check bodies, test doubles). The promise rules still
      // catch the mistakes that matter (an un-awaited call).
      '@typescript-eslint/require-await': 'off',
      // Every finding was a deliberate String() of a value of unknown shape in a diagnostic (a caught
      // error, a header off the wire, what a learner's function returned). restrict-template-expressions
      // still catches an object put into a message by mistake.
      '@typescript-eslint/no-base-to-string': 'off',
      // A cast TypeScript no longer needs is harmless. The 17 found are in 16 files that other work
      // is changing at the same time; to turn on (and `eslint --fix`) once that has landed.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // A caught value passed on as it is (reject(error) in a catch) keeps whatever was thrown;
      // a literal or an object that is not an Error is still flagged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // A variable declared early and assigned once later, because callbacks defined in between
      // (a signal handler, a reconnect hook) read it, cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],

      // Unused names: a leading _ says "on purpose" (a rest sibling dropped from a copy, an
      // Express error handler's fourth parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The learner's exercise files are stubs: their functions take the parameters the learner is
    // to use, and import what the finished exercise needs.
    files: ['milestones/**'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    // The live dashboard's page script runs in the browser.
    files: ['solutions/dashboard/page/**'],
    languageOptions: { globals: globals.browser },
  },
);
