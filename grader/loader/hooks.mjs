// Module hooks for the grading child (registered by register.mjs, run in Node's loader thread):
// a .ts file outside node_modules is loaded as its esbuild-compiled JavaScript, cached on disk by
// its path and content (node_modules/.cache/workshop-ts), so an unchanged file is a file read. The
// options are tsx's (target this Node, whitespace minified, names kept, an inline source map), so
// the code runs as it does under tsx. Resolution is Node's, plus what tsx also accepts: a relative
// import without its extension, or naming .js for a .ts file.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Changes whenever the compile options change, so that older cached output is not used. */
const FORMAT = 'grader-ts-1';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'workshop-ts');
const TS = /\.[cm]?ts$/;

let esbuildUrl;
let esbuild;
let tsconfigRaw;

/** esbuild's module, and its compiler process started (by a first, empty compile). */
const compiler = () =>
  (esbuild ??= import(esbuildUrl)
    .then(async (module) => (await module.transform(''), module))
    .catch((error) => {
      esbuild = undefined;
      throw error;
    }));

export function initialize(data) {
  esbuildUrl = data.esbuild;
  // A child started ahead of a learner's file (GRADER_WARM_COMPILER=1): have the compiler ready
  // for it meanwhile, instead of starting it once the file is asked for.
  if (data.warm) compiler().catch(() => {});
  try {
    const { compilerOptions = {} } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
    const keep = [
      'target',
      'useDefineForClassFields',
      'verbatimModuleSyntax',
      'preserveValueImports',
      'importsNotUsedAsValues',
      'experimentalDecorators',
      'jsx',
      'jsxFactory',
      'jsxFragmentFactory',
      'jsxImportSource',
      'alwaysStrict',
      'strict',
    ];
    tsconfigRaw = { compilerOptions: Object.fromEntries(Object.entries(compilerOptions).filter(([key]) => keep.includes(key))) };
  } catch {
    tsconfigRaw = undefined;
  }
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = /^\.{1,2}\//.test(specifier) && context.parentURL?.startsWith('file:');
    if (!relative || (error?.code !== 'ERR_MODULE_NOT_FOUND' && error?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT')) throw error;
    const candidates = [specifier.replace(/\.([cm]?)js$/, '.$1ts'), `${specifier}.ts`, `${specifier}/index.ts`].filter(
      (candidate) => candidate !== specifier,
    );
    for (const candidate of candidates) {
      try {
        return await nextResolve(candidate, context);
      } catch {
        // the next candidate
      }
    }
    throw error;
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || url.includes('/node_modules/')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  if (!TS.test(file)) return nextLoad(url, context);
  const source = await fs.promises.readFile(file, 'utf8');
  const key = createHash('sha1').update(`${FORMAT}\0${process.version}\0${file}\0${source}`).digest('hex');
  const cached = path.join(CACHE, `${key}.mjs`);
  try {
    return { format: 'module', source: await fs.promises.readFile(cached, 'utf8'), shortCircuit: true };
  } catch {
    // not compiled yet
  }
  const options = {
    loader: 'ts',
    sourcefile: file,
    sourcemap: 'inline',
    target: `node${process.versions.node}`,
    minifyWhitespace: true,
    keepNames: true,
    ...(tsconfigRaw ? { tsconfigRaw } : {}),
  };
  const { code } = await (await compiler()).transform(source, options).catch((error) => {
    // As tsx reports it: "TransformError: Transform failed with 1 error: <file>:<line>:<col>: ERROR: …".
    error.name = 'TransformError';
    delete error.errors;
    delete error.warnings;
    throw error;
  });
  try {
    // Under a name of its own, then renamed: another process never reads half a file.
    await fs.promises.mkdir(CACHE, { recursive: true });
    const partial = `${cached}.${process.pid}`;
    await fs.promises.writeFile(partial, code);
    await fs.promises.rename(partial, cached);
  } catch {
    // a cache that cannot be written costs the next run a compile, nothing else
  }
  return { format: 'module', source: code, shortCircuit: true };
}
