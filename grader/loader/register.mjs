// The TypeScript loader of the grading child (`node --import ./grader/loader/register.mjs`): what
// tsx does for it, less what it costs to start. tsx's start (its compiler and settings loaded in both
// threads) is about 0.3 s of CPU of the child's ~0.5 s before it loads anything, and the child's
// start is what the learner waits for before the first check (docs/grader-performance.md).
// hooks.mjs compiles a .ts file with esbuild (tsx's own compiler, with tsx's options) only when its
// compiled form is not cached yet: the learner's file after a save; the grader's files once.
// Where esbuild cannot be found, tsx as before.
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
let esbuild;
try {
  // esbuild comes with tsx: the one tsx itself would use.
  esbuild = pathToFileURL(createRequire(require.resolve('tsx/package.json')).resolve('esbuild')).href;
} catch {
  esbuild = undefined;
}
if (esbuild && process.env.GRADER_LOADER !== 'tsx') {
  // Stack traces name the .ts file and line (each compiled file carries its source map), as with tsx.
  process.setSourceMapsEnabled(true);
  register('./hooks.mjs', import.meta.url, { data: { esbuild, warm: process.env.GRADER_WARM_COMPILER === '1' } });
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
}
