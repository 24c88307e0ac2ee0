// The docs site of `npm run docs`, in a real browser (headless Chromium): every page renders
// without a console error, every internal link leads to a page that exists and every #anchor to a
// heading on it, lessons show their checks and previous/next, and the diagrams are there. And on
// every screen: no page scrolls sideways at a phone's width or a desktop's, axe-core finds no
// serious accessibility problem, the sidebar folds away on a phone, and every label of a diagram
// can be read (no overlap, nothing cut off, 12 px or more at 1280 px).
import http, { type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumInstalled, launchChromium, pageErrors } from '../../tests/support/chromium.ts';
import { diagramLabelProblems, seriousAxeViolations, sidewaysOverflow, WIDTHS } from '../../tests/support/page-checks.ts';
import { serveDocs } from '../cli/docs.ts';
import { MILESTONES } from '../manifest.ts';
import { renderMarkdown } from '../site/markdown.ts';
import { crawl, type SitePage } from '../site/site.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// CI installs chromium (.ci/run); elsewhere a missing browser skips the browser part, saying why.
const browserMissing = !chromiumInstalled() && !process.env.CI;

describe('npm run docs', () => {
  let pages: Map<string, SitePage>;
  let server: Server;
  let base: string;
  // The pages crawl() rendered, served as they are: the browser checks of every page at every width
  // need not wait for each page to be rendered again.
  let rendered: Server;
  let renderedBase: string;

  beforeAll(async () => {
    pages = await crawl(ROOT);
    ({ server, url: base } = await serveDocs(ROOT, 0, '127.0.0.1'));
    rendered = http.createServer((request, response) => {
      const page = pages.get(decodeURIComponent((request.url ?? '/').slice(1).split(/[?#]/)[0] as string));
      response.writeHead(page?.status ?? 404, { 'content-type': page?.contentType ?? 'text/plain' });
      response.end(page?.body ?? 'not crawled');
    });
    await new Promise<void>((resolve) => rendered.listen(0, '127.0.0.1', () => resolve()));
    const address = rendered.address();
    renderedBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  });
  afterAll(async () => {
    for (const s of [server, rendered]) await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  });

  it('links only to pages that exist, from every page reachable from the home page', () => {
    const broken = [...pages].filter(([, page]) => page.status !== 200).map(([url]) => url);
    expect(broken, 'internal links that lead nowhere').toEqual([]);
    for (const m of MILESTONES) expect(pages.has(`milestones/${m.slug}/`), `the lesson of milestone ${m.number}`).toBe(true);
  });

  it('links only to #anchors that exist on their page', () => {
    const missing: string[] = [];
    for (const [url, page] of pages) {
      if (typeof page.body !== 'string' || !page.contentType.startsWith('text/html')) continue;
      for (const match of page.body.matchAll(/href="([^"]*)#([^"]+)"/g)) {
        const target = new URL(match[1] || url.split('/').pop() || './', `http://site/${url}`).pathname.slice(1);
        const html = target === url ? page.body : pages.get(target)?.body;
        if (typeof html === 'string' && !html.includes(`id="${match[2]}"`)) missing.push(`${url} → ${target}#${match[2]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  // One browser for the file: launching Chromium is the slow part.
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const newPage = async () => {
    browser ??= await launchChromium();
    return browser.newPage();
  };
  afterAll(async () => {
    await browser?.dispose();
  });
  const htmlPages = () => [...pages].filter(([, page]) => page.contentType.startsWith('text/html')).map(([url]) => url);

  it('drops HTML comments wherever Markdown puts them, keeps them in code, and escapes other raw HTML', () => {
    const source = [
      '# Title',
      '',
      '<!-- generated: by a script -->',
      '',
      'Text <!-- inline --> and <b>bold</b>, a<br>b',
      '',
      '<!--',
      'two lines',
      '-->',
      '',
      '```html',
      '<!-- in code -->',
      '```',
      '',
      '<!-- diagram: topology -->',
      '',
    ].join('\n');
    const { html } = renderMarkdown(source, 'docs/example.md', ROOT, { topology: '<svg class="drawn"></svg>' });
    expect(html).not.toMatch(/generated|inline|two lines/);
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('a<br>b');
    expect(html).toContain('&lt;!-- in code --&gt;');
    expect(html).toMatch(/<figure class="diagram-figure"><svg class="drawn"><\/svg>/);
  });

  it('never shows an HTML comment as text (the generated-file and diagram markers)', () => {
    const shown: string[] = [];
    for (const [url, page] of pages) {
      if (typeof page.body !== 'string' || !page.contentType.startsWith('text/html')) continue;
      // Outside code, where a comment is written about, never shown as a comment.
      const outsideCode = page.body.replace(/<pre[\s\S]*?<\/pre>|<code>[\s\S]*?<\/code>/g, '');
      if (/&lt;!--/.test(outsideCode)) shown.push(url);
    }
    expect(shown).toEqual([]);
  });

  /** Every page of the site, the highlighted source listings included (one template around other code, but each its own page). */
  const pagesToCheck = () => {
    const pages = htmlPages();
    expect(
      pages.some((url) => url.startsWith('source/') && url.endsWith('.ts.html')) &&
        pages.some((url) => url.startsWith('source/') && url.endsWith('/')),
      'the site has source pages of both kinds',
    ).toBe(true);
    return pages;
  };

  it.skipIf(browserMissing)(
    'no page scrolls sideways at 390, 800, 1280 or 1920 px, and images fit their column',
    { timeout: 300_000 },
    async () => {
      const page = await newPage();
      const wide: string[] = [];
      for (const url of pagesToCheck()) {
        await page.setViewportSize({ width: 1280, height: 800 });
        await page.goto(new URL(url, renderedBase).href);
        for (const width of WIDTHS) {
          await page.setViewportSize({ width, height: 800 });
          const overflow = await sidewaysOverflow(page);
          const images = await page
            .locator('main img, main svg')
            .evaluateAll(
              (elements) =>
                elements.filter(
                  (e) =>
                    e.getBoundingClientRect().right > (document.querySelector('main') as HTMLElement).getBoundingClientRect().right + 0.5,
                ).length,
            );
          if (overflow > 0 || images > 0)
            wide.push(`${url} at ${width} px: ${overflow} px too wide, ${images} pictures wider than the column`);
        }
      }
      await page.close();
      expect(wide).toEqual([]);
    },
  );

  it.skipIf(browserMissing)('axe-core finds no serious or critical problem on any page', { timeout: 300_000 }, async () => {
    const page = await newPage();
    const found: string[] = [];
    for (const url of [...pagesToCheck(), 'no-such-page']) {
      await page.goto(new URL(url, url === 'no-such-page' ? base : renderedBase).href);
      for (const problem of await seriousAxeViolations(page))
        found.push(`${url}: ${problem.id} (${problem.impact}) ${problem.help}\n    ${problem.nodes.join('\n    ')}`);
    }
    // And on a phone, with the contents folded away.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(new URL('milestones/05-acks-prefetch/', base).href);
    for (const problem of await seriousAxeViolations(page))
      found.push(`phone: ${problem.id} ${problem.help}\n    ${problem.nodes.join('\n    ')}`);
    await page.close();
    expect(found).toEqual([]);
  });

  it.skipIf(browserMissing)(
    'has a skip link first, and on a phone folds the sidebar away so the page comes first',
    { timeout: 60_000 },
    async () => {
      const page = await newPage();
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.goto(new URL('milestones/05-acks-prefetch/', base).href);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the content');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.id), 'the skip link moves the focus to the content').toBe('content');
      expect(await page.locator('nav.sidebar a[aria-current="page"]').isVisible(), 'the sidebar is open on a wide screen').toBe(true);

      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(new URL('milestones/05-acks-prefetch/', base).href);
      expect(await page.locator('nav.sidebar a[aria-current="page"]').isVisible(), 'folded on a phone').toBe(false);
      const title = await page.locator('main h1').boundingBox();
      expect(title && title.y + title.height, 'the lesson title is on the first screen').toBeLessThan(300);
      await page.locator('nav.sidebar summary').click();
      expect(await page.locator('nav.sidebar a[aria-current="page"]').isVisible(), 'and opens with Contents').toBe(true);
      await page.close();
    },
  );

  it.skipIf(browserMissing)(
    'draws every diagram label readable: no overlap, nothing cut off, 12 px or more at 1280 px',
    { timeout: 60_000 },
    async () => {
      const page = await newPage();
      const problems: string[] = [];
      for (const [url, viewport] of [
        ['docs/topology.html', { width: 1280, height: 720 }],
        ['docs/architecture.html', { width: 1280, height: 720 }],
        ['docs/topology.html', { width: 1920, height: 1080 }],
      ] as const) {
        await page.setViewportSize(viewport);
        await page.goto(new URL(url, base).href);
        for (const p of await diagramLabelProblems(page, 'figure.diagram-figure svg'))
          problems.push(`${url} at ${viewport.width} px: ${p.kind} "${p.text}" ${p.detail}`);
      }
      // On a phone the picture shrinks to its column: still nothing overlaps or is cut off (the link opens it full size).
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(new URL('docs/topology.html', base).href);
      for (const p of await diagramLabelProblems(page, 'figure.diagram-figure svg', 0))
        problems.push(`topology at 390 px: ${p.kind} "${p.text}" ${p.detail}`);
      const own = await page.request.get(new URL('diagrams/topology.svg', base).href);
      expect(own.headers()['content-type']).toContain('image/svg+xml');
      await page.close();
      expect(problems).toEqual([]);
    },
  );

  it.skipIf(browserMissing)('renders every Markdown page in Chromium without a console error', { timeout: 120_000 }, async () => {
    {
      const page = await newPage();
      const errors = pageErrors(page);
      const markdownPages = htmlPages().filter((url) => !url.startsWith('source/'));
      for (const url of markdownPages) {
        const response = await page.goto(new URL(url, base).href);
        expect(response?.status(), url).toBe(200);
        expect(await page.locator('main h1').count(), `${url} has a title`).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
      // The README's screenshots load.
      await page.goto(base);
      const images = await page
        .locator('main img')
        .evaluateAll((imgs) => imgs.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth));
      expect(images.length).toBeGreaterThanOrEqual(3);
      expect(
        images.filter((width) => width === 0),
        'images that did not load',
      ).toEqual([]);
      // A lesson: its panel lists the checks, and it links to the next lesson.
      await page.goto(new URL('milestones/05-acks-prefetch/', base).href);
      const checks = await MILESTONES[4]!.checks();
      await expect(page.locator('.lesson-panel li').count()).resolves.toBe(checks.length);
      await page.locator('a[rel="next"]').click();
      await page.waitForURL(/06-dead-letters/);
      // The diagrams drawn from the topology data.
      await page.goto(new URL('docs/topology.html', base).href);
      expect(await page.locator('figure svg .node.queue').count()).toBeGreaterThan(10);
      await page.goto(new URL('docs/architecture.html', base).href);
      expect(await page.locator('figure svg .lifeline').count()).toBe(6);
      await page.close();
    }
  });
});
