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
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Changes whenever what this file writes changes, so that an older bundle is rebuilt. */
const FORMAT = 1;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./grade.ts', import.meta.url));

/** Dynamic `import(`, not `import.meta`, not a static import, not a method named import. */
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\(/g;

function cacheDir() {
  // node_modules may be shared by several checkouts (a symlink): one folder per checkout.
  const checkout = createHash('sha256').update(fs.realpathSync(ROOT)).digest('hex').slice(0, 12);
  return path.join(ROOT, 'node_modules', '.cache', 'workshop-grade', checkout);
}

/** Is the bundle described by `meta` built from the sources as they are now? */
function fresh(meta) {
  if (meta?.format !== FORMAT || meta.node !== process.version) return false;
  for (const [file, mtimeMs] of Object.entries(meta.inputs)) {
    try {
      if (fs.statSync(file).mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function build(dir, bundle, metaFile) {
  const esbuild = await import('esbuild');
  const rewrite = {
    name: 'grade-command',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const url = JSON.stringify(pathToFileURL(args.path).href);
        const source = await fs.promises.readFile(args.path, 'utf8');
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, url)
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
          .replace(DYNAMIC_IMPORT, `globalThis.__gradeImport(${url}, `);
        return { contents, loader: 'ts' };
      });
    },
  };
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
    plugins: [rewrite],
  });
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = path.resolve(ROOT, input);
    inputs[file] = fs.statSync(file).mtimeMs;
  }
  // Written under a name of its own, then renamed: two commands building at once never read half a file.
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${bundle}.${process.pid}`;
  fs.writeFileSync(partial, result.outputFiles[0].text);
  fs.renameSync(partial, bundle);
  fs.writeFileSync(`${metaFile}.${process.pid}`, JSON.stringify({ format: FORMAT, node: process.version, inputs }));
  fs.renameSync(`${metaFile}.${process.pid}`, metaFile);
}

/**
 * grade.ts's main, from the bundle (built first when missing or stale), or undefined when it cannot
 * be used. `registerTsx` is called once, before the first run-time import of a .ts file.
 */
export async function loadGradeCommand(registerTsx) {
  try {
    const dir = cacheDir();
    const bundle = path.join(dir, 'grade.mjs');
    const metaFile = path.join(dir, 'grade.meta.json');
    let meta;
    try {
      meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    } catch {
      meta = undefined;
    }
    if (!fresh(meta) || !fs.existsSync(bundle)) await build(dir, bundle, metaFile);
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
