// The docs site as a function of the repository: an address in, a page out. `npm run docs` serves
// it (grader/cli/docs.ts); `--build DIR` writes every page reachable from the home page.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeXml } from '../../shared/diagrams/svg.ts';
import { orderFlowSvg } from '../../shared/diagrams/order-flow-svg.ts';
import { topologySvg } from '../../shared/diagrams/topology-svg.ts';
import { buildTopology, DEFAULT_TOPOLOGY_SETTINGS } from '../../shared/topology/topology.ts';
import { layoutPage } from './layout.ts';
import { diagramsIn, highlight, renderMarkdown } from './markdown.ts';
import { markdownSources, relativeUrl, sourceOf, urlOf } from './pages.ts';

export interface SitePage {
  status: number;
  contentType: string;
  body: string | Buffer;
}

const DIAGRAMS: Record<string, () => string | Promise<string>> = {
  topology: () => topologySvg(),
  // The topology with AUDIT_STREAM=on (milestone 10): audit.stream in place of audit.queue.
  'topology-audit-stream': () => topologySvg(buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, auditStream: true })),
  'order-flow': () => orderFlowSvg(),
};
const ASSETS: Record<string, () => string> = {
  'assets/site.css': () => fs.readFileSync(fileURLToPath(new URL('./assets/site.css', import.meta.url)), 'utf8'),
  'assets/highlight.css': () => fs.readFileSync(createRequire(import.meta.url).resolve('highlight.js/styles/github.css'), 'utf8'),
};

const LANGUAGES: Record<string, string> = {
  '.ts': 'typescript',
  '.js': 'javascript',
  '.json': 'json',
  '.yml': 'yaml',
  '.yaml': 'yaml',
  '.sh': 'bash',
  '.conf': 'ini',
  '.css': 'css',
  '': 'bash',
};

const RAW_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
};

const html = (body: string): SitePage => ({ status: 200, contentType: 'text/html; charset=utf-8', body });

/** The page at a site address (no leading slash), or a 404 page. */
export async function renderUrl(url: string, root: string): Promise<SitePage> {
  const clean = url.replace(/^\//, '').split(/[?#]/)[0] as string;
  const asset = ASSETS[clean];
  if (asset) return { status: 200, contentType: 'text/css; charset=utf-8', body: asset() };
  const diagramName = /^diagrams\/([a-z-]+)\.svg$/.exec(clean)?.[1];
  const diagram = diagramName && Object.hasOwn(DIAGRAMS, diagramName) ? DIAGRAMS[diagramName] : undefined;
  if (diagram) return { status: 200, contentType: 'image/svg+xml', body: await diagram() };
  const source = sourceOf(clean, root);
  if (!source)
    return {
      status: 404,
      contentType: 'text/html; charset=utf-8',
      body: await layoutPage(
        {
          repoPath: '404.md',
          title: 'Not found',
          base: '/',
          body: `<h1>Not found</h1><p>Nothing is at <code>${escapeXml(clean)}</code>. <a href="./">Start here</a>.</p>`,
        },
        root,
      ),
    };
  const absolute = path.join(root, source.repoPath);
  if (source.kind === 'raw')
    return {
      status: 200,
      contentType: RAW_TYPES[path.extname(source.repoPath)] ?? 'application/octet-stream',
      body: fs.readFileSync(absolute),
    };
  if (source.kind === 'markdown') {
    const markdown = fs.readFileSync(absolute, 'utf8');
    const drawn = Object.fromEntries(
      await Promise.all(
        diagramsIn(markdown)
          .filter((name) => Object.hasOwn(DIAGRAMS, name))
          .map(async (name) => [name, await (DIAGRAMS[name] as () => string | Promise<string>)()] as const),
      ),
    );
    const rendered = renderMarkdown(markdown, source.repoPath, root, drawn);
    return html(await layoutPage({ repoPath: source.repoPath, title: rendered.title, body: rendered.html }, root));
  }
  const pageUrl = urlOf(source.repoPath, root);
  if (source.kind === 'folder') {
    const entries = fs.readdirSync(absolute, { withFileTypes: true }).filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules');
    const items = entries.map((e) => {
      const target = urlOf(`${source.repoPath}/${e.name}${e.isDirectory() ? '/' : ''}`, root);
      return `<li><a href="${relativeUrl(pageUrl, target)}">${escapeXml(e.name)}${e.isDirectory() ? '/' : ''}</a></li>`;
    });
    return html(
      await layoutPage(
        {
          repoPath: `${source.repoPath}/`,
          title: `${source.repoPath}/`,
          body: `<h1><code>${escapeXml(source.repoPath)}/</code></h1><ul>${items.join('')}</ul>`,
        },
        root,
      ),
    );
  }
  const code = fs.readFileSync(absolute, 'utf8');
  const language = LANGUAGES[path.extname(source.repoPath)] ?? '';
  const body = `<h1><code>${escapeXml(path.basename(source.repoPath))}</code></h1><p class="source-path">${escapeXml(source.repoPath)}</p><pre class="hljs" tabindex="0"><code>${highlight(code, language)}</code></pre>`;
  return html(await layoutPage({ repoPath: source.repoPath, title: source.repoPath, body }, root));
}

/** Every address the site links to internally, found by following links from the home page. */
export async function crawl(root: string, visit?: (url: string, page: SitePage) => void): Promise<Map<string, SitePage>> {
  const pages = new Map<string, SitePage>();
  const queue = ['', ...markdownSources().map((p) => urlOf(p, root)), ...Object.keys(ASSETS)];
  while (queue.length > 0) {
    const url = queue.shift() as string;
    if (pages.has(url)) continue;
    const page = await renderUrl(url, root);
    pages.set(url, page);
    visit?.(url, page);
    if (page.status !== 200 || typeof page.body !== 'string' || !page.contentType.startsWith('text/html')) continue;
    for (const match of page.body.matchAll(/(?:href|src)="([^"#]*)(#[^"]*)?"/g)) {
      const href = match[1] as string;
      if (href === '' || /^[a-z]+:/i.test(href)) continue;
      const resolved = new URL(href, `http://site/${url}`).pathname.slice(1);
      if (!pages.has(resolved)) queue.push(resolved);
    }
  }
  return pages;
}

/** Writes the site as static files: `dir/` is `index.html`, everything else as its address. */
export async function buildSite(root: string, outDir: string): Promise<{ pages: number; broken: string[] }> {
  const pages = await crawl(root);
  const broken: string[] = [];
  for (const [url, page] of pages) {
    if (page.status !== 200) {
      broken.push(url);
      continue;
    }
    const file = path.join(outDir, url === '' || url.endsWith('/') ? `${url}index.html` : url);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, page.body);
  }
  return { pages: pages.size - broken.length, broken };
}
