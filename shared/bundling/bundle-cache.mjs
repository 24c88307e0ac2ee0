// What the two prebuilt bundles share: `npm run grade`'s command (grader/cli/grade-bundle.mjs) and
// `npm start`'s processes (solutions/supervisor/bundle.mjs). Each is built with esbuild from the
// TypeScript sources, kept under node_modules/.cache, and rebuilt when a source it was built from
// changes. Plain JavaScript: it runs before any TypeScript loader exists.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** node_modules/.cache/<name>/<checkout>: node_modules may be shared by several checkouts (a symlink), so one folder per checkout. */
export function checkoutCacheDir(root, name) {
  const checkout = createHash('sha256').update(fs.realpathSync(root)).digest('hex').slice(0, 12);
  return path.join(root, 'node_modules', '.cache', name, checkout);
}

/** Was the bundle described by `meta` built by this format, for this node, from the sources as they are now? */
export function builtFromCurrentSources(meta, format) {
  if (meta?.format !== format || meta.node !== process.version) return false;
  for (const [file, mtimeMs] of Object.entries(meta.inputs)) {
    try {
      if (fs.statSync(file).mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * What a bundle's meta file records: its format, the node it was built for, and each input's mtime:
 * the sources esbuild read, `extraInputs` (the file that builds it) and this file, since a change to
 * how a bundle is built is a change to the bundle.
 */
export function bundleMeta(format, root, metafile, extraInputs = []) {
  const inputs = {};
  const own = fileURLToPath(import.meta.url);
  for (const file of [own, ...extraInputs, ...Object.keys(metafile.inputs).map((input) => path.resolve(root, input))])
    inputs[file] = fs.statSync(file).mtimeMs;
  return { format, node: process.version, inputs };
}

/**
 * An esbuild plugin for the project's own .ts files: `import.meta.url` (and .dirname, .filename) in
 * each source becomes that source's own, so paths built from it are the same as unbundled; a dynamic
 * import that `dynamicImport` matches becomes `globalThis[importHelper](<source URL>, …)`, which the
 * bundle's user defines (a package imported as it is; a .ts file through tsx, as the original file).
 */
export function sourceRewritePlugin(name, importHelper, dynamicImport) {
  return {
    name,
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const url = JSON.stringify(pathToFileURL(args.path).href);
        const source = await fs.promises.readFile(args.path, 'utf8');
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, url)
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
          .replace(dynamicImport, `globalThis.${importHelper}(${url}, `);
        return { contents, loader: 'ts' };
      });
    },
  };
}
