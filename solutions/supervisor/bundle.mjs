// `npm start`'s processes (the supervisor, each service, the dashboard) as plain JavaScript, built
// with esbuild (tsx's own compiler) the first time and whenever one of their sources changes, and
// kept in node_modules/.cache. Eight processes each paying tsx's loader (a loader thread, about 0.5 s
// of CPU on this project's 2-core machines) and its per-module transforms were most of the time
// npm start took to be ready (docs/architecture.md, "npm start").
// One build with three entry points and shared chunks, the packages they use inside it (all but a
// few: EXTERNAL): each process loads only what its entry needs, in a few files instead of hundreds.
// `import.meta.url` in each source is replaced by that source's own URL, so paths built from it (the
// repository root, the dashboard's page, the order service's read worker) are the same as unbundled.
// What a source imports from a computed name (`import(url)`: the learner's layers) is rewritten to
// globalThis.__startImport (defined at the top of every file of the bundle): a package is imported
// as it is; a .ts file through tsx, registered then, as the original file.
// Anything unexpected (esbuild missing, a read-only node_modules): prepareStartBundle returns
// undefined and start.mjs runs everything through tsx, as before.
// Only the reference code is bundled: on the learner's layers (--layers mine) the services run
// through tsx (service-process.ts), so the learner's stack traces name their .ts files and lines.
// The bundle's own source maps are written beside it, not loaded (node --enable-source-maps costs
// each process about 15% more CPU to start): SERVICE_NODE_ARGS=--enable-source-maps turns them on.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtFromCurrentSources, bundleMeta, checkoutCacheDir, sourceRewritePlugin } from '../../shared/bundling/bundle-cache.mjs';

/** Changes whenever what this file writes changes, so that an older bundle is rebuilt. */
const FORMAT = 1;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = {
  start: fileURLToPath(new URL('../start.ts', import.meta.url)),
  'run-service': fileURLToPath(new URL('../run-service.ts', import.meta.url)),
  'run-dashboard': fileURLToPath(new URL('../dashboard/run-dashboard.ts', import.meta.url)),
};

/**
 * Dynamic `import(` of a computed specifier (not `import.meta`, not a static import, not a method
 * named import). One of a string (`import('./x.ts')`, `import('testcontainers')`) esbuild resolves
 * itself: a chunk of the bundle, or a package imported as it is.
 */
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\((?!\s*['"])/g;
const EXTERNAL = ['better-sqlite3', 'testcontainers', 'tsx', 'esbuild', 'elkjs'];
// A CommonJS package bundled into ESM calls require() for Node's own modules: give it one.
const RUN_TIME_IMPORT = `import { createRequire as __startCreateRequire } from 'node:module';
const require = __startCreateRequire(import.meta.url);
globalThis.__startImport ??= async (base, specifier) => {
  const name = String(specifier);
  if (!/^(\\.{1,2}\\/|\\/|file:)/.test(name)) return import(name);
  await (globalThis.__startTsx ??= import('tsx/esm/api').then(({ register }) => register()));
  return import(new URL(name, base).href);
};`;

/** How many builds are kept: a build in use by an npm start still running stays while newer ones come. */
const BUILDS_KEPT = 3;

/** Is the build in `dir` made from the sources as they are now? */
function fresh(dir) {
  let meta;
  try {
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'bundle.meta.json'), 'utf8'));
  } catch {
    return false;
  }
  if (!builtFromCurrentSources(meta, FORMAT)) return false;
  return Object.keys(ENTRIES).every((name) => fs.existsSync(path.join(dir, `${name}.mjs`)));
}

/**
 * Builds into a new folder of its own and then points `current` at it. A build is never changed
 * or replaced in place: an npm start reading one (or starting a service from it, an hour later)
 * never sees half of one, and two starts building at once each use their own.
 */
async function build(cache) {
  const esbuild = await import('esbuild');
  const name = `build-${Date.now()}-${process.pid}`;
  const dir = path.join(cache, name);
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    // The packages too, but for those that must stay files of their own: a native addon
    // (better-sqlite3), what is only imported at run time and rarely (testcontainers, tsx, esbuild),
    // and elkjs (one large file already). Resolving and loading ~190 CommonJS modules one by one
    // cost each service about 0.2 s of CPU more than the same code in a few chunks.
    external: EXTERNAL,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: RUN_TIME_IMPORT },
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceRewritePlugin('start-command', '__startImport', DYNAMIC_IMPORT)],
  });
  fs.writeFileSync(
    path.join(dir, 'bundle.meta.json'),
    JSON.stringify(bundleMeta(FORMAT, ROOT, result.metafile, [fileURLToPath(import.meta.url)])),
  );
  // Written under a name of its own, then renamed: a reader never sees half a pointer.
  const pointer = path.join(cache, 'current');
  fs.writeFileSync(`${pointer}.${process.pid}`, name);
  fs.renameSync(`${pointer}.${process.pid}`, pointer);
  const older = fs
    .readdirSync(cache)
    .filter((entry) => entry.startsWith('build-') && entry !== name)
    .map((entry) => ({ entry, at: fs.statSync(path.join(cache, entry)).mtimeMs }))
    .sort((a, b) => b.at - a.at)
    .slice(BUILDS_KEPT - 1);
  for (const { entry } of older) fs.rmSync(path.join(cache, entry), { recursive: true, force: true });
  return dir;
}

/** The entry points' files by name (built first when missing or stale), or undefined when the bundle cannot be used. */
export async function prepareStartBundle() {
  try {
    const cache = checkoutCacheDir(ROOT, 'workshop-start');
    fs.mkdirSync(cache, { recursive: true });
    let dir;
    try {
      dir = path.join(cache, fs.readFileSync(path.join(cache, 'current'), 'utf8').trim());
    } catch {
      dir = undefined;
    }
    if (dir === undefined || !fresh(dir)) dir = await build(cache);
    return Object.fromEntries(Object.keys(ENTRIES).map((name) => [name, path.join(dir, `${name}.mjs`)]));
  } catch {
    return undefined;
  }
}
