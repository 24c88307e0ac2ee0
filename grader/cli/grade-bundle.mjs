// The `npm run grade` command (grade.ts and what it imports statically) as one plain JavaScript file,
// built with esbuild (tsx's own compiler) the first time and whenever one of its sources changes, and
// kept in node_modules/.cache. Loading it needs no TypeScript loader: no tsx, none of the loader
// thread Node 20 starts for one (about 0.3 s of CPU), none of the ~90 modules' transforms.
// Only the command is bundled. What it imports at run time (`import(...)`: a milestone's checks,
// runner.ts for a container broker) is rewritten to globalThis.__gradeImport, which registers tsx
// first and imports the original .ts file, so those modules and the learner's file are one copy each.
// `import.meta.url` in each source is replaced by that source's own URL, so paths built from it
// (the grading worker, the type checker) are the same as unbundled. Anything unexpected (esbuild
// missing, a read-only node_modules): loadGradeCommand returns undefined and grade-start.mjs uses tsx.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtFromCurrentSources, bundleMeta, checkoutCacheDir, sourceRewritePlugin } from '../../shared/bundling/bundle-cache.mjs';

/** Changes whenever what this file writes changes, so that an older bundle is rebuilt. */
const FORMAT = 1;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./grade.ts', import.meta.url));

/** Dynamic `import(`, not `import.meta`, not a static import, not a method named import. */
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\(/g;

async function build(dir, bundle, metaFile) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    packages: 'external',
    write: false,
    metafile: true,
    outfile: bundle,
    logLevel: 'silent',
    plugins: [sourceRewritePlugin('grade-command', '__gradeImport', DYNAMIC_IMPORT)],
  });
  // Written under a name of its own, then renamed: two commands building at once never read half a file.
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${bundle}.${process.pid}`;
  fs.writeFileSync(partial, result.outputFiles[0].text);
  fs.renameSync(partial, bundle);
  fs.writeFileSync(
    `${metaFile}.${process.pid}`,
    JSON.stringify(bundleMeta(FORMAT, ROOT, result.metafile, [fileURLToPath(import.meta.url)])),
  );
  fs.renameSync(`${metaFile}.${process.pid}`, metaFile);
}

/**
 * grade.ts's main, from the bundle (built first when missing or stale), or undefined when it cannot
 * be used. `registerTsx` is called once, before the first run-time import of a .ts file.
 */
export async function loadGradeCommand(registerTsx) {
  try {
    const dir = checkoutCacheDir(ROOT, 'workshop-grade');
    const bundle = path.join(dir, 'grade.mjs');
    const metaFile = path.join(dir, 'grade.meta.json');
    let meta;
    try {
      meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    } catch {
      meta = undefined;
    }
    if (!builtFromCurrentSources(meta, FORMAT) || !fs.existsSync(bundle)) await build(dir, bundle, metaFile);
    let registered;
    globalThis.__gradeImport = async (base, specifier) => {
      const name = String(specifier);
      if (!/^(\.{1,2}\/|\/|file:)/.test(name)) return import(name);
      registered ??= registerTsx();
      await registered;
      return import(new URL(name, base).href);
    };
    const { main } = await import(pathToFileURL(bundle).href);
    return main;
  } catch {
    return undefined;
  }
}
