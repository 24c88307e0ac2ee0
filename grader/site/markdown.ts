// Markdown to HTML for the docs site: markdown-it with GitHub-style heading anchors, code
// highlighted by highlight.js, raw HTML off (every text is escaped), and every relative link
// rewritten to the site address of what it points at, so links between lessons, docs and source
// files work on the site as they do on GitHub.
import path from 'node:path';
import hljs from 'highlight.js';
import MarkdownIt from 'markdown-it';
import anchor from 'markdown-it-anchor';
import { escapeXml } from '../../shared/diagrams/svg.ts';
import { relativeUrl, urlOf } from './pages.ts';

/** GitHub's heading ids: lower case, punctuation dropped, spaces to dashes. */
export function slugify(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function highlight(code: string, language: string): string {
  const known = language && hljs.getLanguage(language) ? language : undefined;
  return known ? hljs.highlight(code, { language: known }).value : escapeXml(code);
}

/** Markers a page may hold for pictures drawn from data: `<!-- diagram: topology -->` on a line of its own. */
const DIAGRAM_MARKER = /^<!-- diagram: ([a-z-]+) -->$/gm;

export interface RenderedMarkdown {
  html: string;
  title: string;
  /** Repository paths the page links to (for the static build). */
  links: string[];
}

export function renderMarkdown(source: string, repoPath: string, root: string, diagrams: Record<string, () => string>): RenderedMarkdown {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false, highlight: (code, lang) => `<pre class="hljs"><code>${highlight(code, lang)}</code></pre>` });
  md.use(anchor, { slugify, permalink: anchor.permalink.headerLink() });
  const pageUrl = urlOf(repoPath, root);
  const links: string[] = [];
  const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const href = token?.attrGet('href');
    if (token && href && !/^[a-z]+:/i.test(href) && !href.startsWith('#')) {
      const [target, hash] = href.split('#') as [string, string | undefined];
      const repoTarget = path.posix.normalize(path.posix.join(path.posix.dirname(repoPath), target));
      links.push(repoTarget);
      token.attrSet('href', relativeUrl(pageUrl, `${urlOf(repoTarget, root)}${hash !== undefined ? `#${hash}` : ''}`));
    }
    return defaultLink(tokens, idx, options, env, self);
  };
  // Images (the README's screenshots) are served as they are, from `files/<path>`.
  const defaultImage = md.renderer.rules.image ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const src = token?.attrGet('src');
    if (token && src && !/^[a-z]+:/i.test(src)) {
      const repoTarget = path.posix.normalize(path.posix.join(path.posix.dirname(repoPath), src));
      links.push(repoTarget);
      token.attrSet('src', relativeUrl(pageUrl, `files/${repoTarget}`));
    }
    return defaultImage(tokens, idx, options, env, self);
  };
  const withPlaceholders = source.replace(DIAGRAM_MARKER, (_, name: string) => `@@diagram-${name}@@`);
  let html = md.render(withPlaceholders);
  html = html.replace(/<p>@@diagram-([a-z-]+)@@<\/p>/g, (_, name: string) => {
    const draw = diagrams[name];
    return draw ? `<figure class="diagram-figure">${draw()}</figure>` : '';
  });
  const title = /^# (.+)$/m.exec(source)?.[1] ?? repoPath;
  return { html, title, links };
}
