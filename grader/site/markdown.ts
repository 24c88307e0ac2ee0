// Markdown to HTML for the docs site: markdown-it with GitHub-style heading anchors, code
// highlighted by highlight.js, raw HTML shown as text (escaped) except HTML comments, which are
// dropped as GitHub drops them (`<!-- diagram: … -->` becomes its picture), and every relative link
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

/** The diagrams a page's source asks for, so that they can be drawn before it is rendered. */
export function diagramsIn(source: string): string[] {
  return [...new Set([...source.matchAll(DIAGRAM_MARKER)].map((m) => m[1] as string))];
}

const COMMENT = /<!--[\s\S]*?-->/g;

export interface RenderedMarkdown {
  html: string;
  title: string;
  /** Repository paths the page links to (for the static build). */
  links: string[];
}

/** `diagrams`: the drawn pictures by name (see diagramsIn). */
export function renderMarkdown(source: string, repoPath: string, root: string, diagrams: Record<string, string>): RenderedMarkdown {
  // html: true only so that markdown-it finds comments where CommonMark says they are (never inside
  // code); the rules below drop the comments and escape every other piece of raw HTML as text.
  const pageUrl = urlOf(repoPath, root);
  const md = new MarkdownIt({
    html: true,
    linkify: false,
    typographer: false,
    highlight: (code, lang) => `<pre class="hljs" tabindex="0"><code>${highlight(code, lang)}</code></pre>`,
  });
  // A code block or a table may scroll sideways on a narrow screen: the keyboard must be able to scroll it too.
  md.renderer.rules.table_open = () => '<table tabindex="0">\n';
  md.renderer.rules.html_block = (tokens, idx) => {
    const content = tokens[idx]?.content ?? '';
    const diagram = /^<!-- diagram: ([a-z-]+) -->\s*$/.exec(content)?.[1];
    if (diagram)
      return diagrams[diagram]
        ? `<figure class="diagram-figure">${diagrams[diagram]}<figcaption><a href="${relativeUrl(pageUrl, `diagrams/${diagram}.svg`)}">Open the picture on its own</a> (to zoom in on a small screen)</figcaption></figure>\n`
        : '';
    const rest = content.replace(COMMENT, '');
    return rest.trim() === '' ? '' : `<p>${escapeXml(rest)}</p>\n`;
  };
  md.renderer.rules.html_inline = (tokens, idx) => {
    const content = tokens[idx]?.content ?? '';
    // A line break in a table cell (docs/topology.md's arguments) breaks the line, as on GitHub.
    return /^<br\s*\/?>$/i.test(content) ? '<br>' : escapeXml(content.replace(COMMENT, ''));
  };
  md.use(anchor, { slugify, permalink: anchor.permalink.headerLink() });
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
  const html = md.render(source);
  const title = /^# (.+)$/m.exec(source)?.[1] ?? repoPath;
  return { html, title, links };
}
