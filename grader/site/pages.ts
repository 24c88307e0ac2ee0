// Which files the docs site shows, and at which address. A Markdown page `dir/README.md` is at
// `dir/`, any other `dir/name.md` at `dir/name.html`; a repository file a page links to (a .ts
// file, the compose file) gets a page of its own under `source/`, highlighted.
import fs from 'node:fs';
import path from 'node:path';
import { MILESTONES } from '../manifest.ts';

/** The Markdown pages, in the order of the site's navigation. */
export function markdownSources(): string[] {
  return [
    'README.md',
    'milestones/README.md',
    ...MILESTONES.map((m) => `milestones/${m.slug}/README.md`),
    'docs/architecture.md',
    'docs/topology.md',
    'docs/operations.md',
    'docs/configuration.md',
    'docs/containers.md',
    'docs/performance.md',
    'docs/reliability.md',
    'docs/grader-performance.md',
    'grader/README.md',
  ];
}

/** Site address of a repository path (file or folder), without a leading slash: '' is the home page. */
export function urlOf(repoPath: string, root: string): string {
  const clean = repoPath.replace(/^\.\//, '').replace(/\/$/, '');
  if (clean === '' || clean === 'README.md') return '';
  const absolute = path.join(root, clean);
  const isDir = fs.existsSync(absolute) && fs.statSync(absolute).isDirectory();
  if (isDir) return fs.existsSync(path.join(absolute, 'README.md')) ? `${clean}/` : `source/${clean}/`;
  if (clean.endsWith('/README.md')) return `${clean.slice(0, -'README.md'.length)}`;
  if (clean.endsWith('.md')) return `${clean.slice(0, -3)}.html`;
  return `source/${clean}.html`;
}

/** The repository path behind a site address, or undefined when there is none to show. */
export function sourceOf(url: string, root: string): { kind: 'markdown' | 'file' | 'folder' | 'raw'; repoPath: string } | undefined {
  const clean = decodeURIComponent(url.replace(/^\//, '').split(/[?#]/)[0] as string);
  // Only the project's own files: no parent folders, no dependencies, state or git internals.
  if (clean.split('/').some((part) => part === '..' || HIDDEN.has(part))) return undefined;
  const pages = markdownSources();
  const markdown = pages.find((page) => urlOf(page, root) === clean);
  if (markdown) return { kind: 'markdown', repoPath: markdown };
  if (clean.startsWith('files/') && isFile(path.join(root, clean.slice('files/'.length))))
    return { kind: 'raw', repoPath: clean.slice('files/'.length) };
  if (clean.startsWith('source/')) {
    const rest = clean.slice('source/'.length);
    if (rest.endsWith('/') && isFolder(path.join(root, rest))) return { kind: 'folder', repoPath: rest.slice(0, -1) };
    if (rest.endsWith('.html') && isFile(path.join(root, rest.slice(0, -5)))) return { kind: 'file', repoPath: rest.slice(0, -5) };
  }
  return undefined;
}

const HIDDEN = new Set(['.git', '.progress', '.grade-results', 'node_modules', 'data', '.env']);

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
const isFolder = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();

/** The link from one site address to another, relative, so the site works under any base path. */
export function relativeUrl(from: string, to: string): string {
  const fromDir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
  const up = fromDir.split('/').filter(Boolean).length;
  const [target, hash] = to.split('#') as [string, string | undefined];
  const common = (() => {
    let i = 0;
    const a = fromDir.split('/').filter(Boolean);
    const b = target.split('/');
    while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
    return i;
  })();
  const rel = `${'../'.repeat(up - common)}${target.split('/').slice(common).join('/')}` || './';
  return hash !== undefined ? `${rel}#${hash}` : rel;
}
