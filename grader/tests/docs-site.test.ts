// The docs site of `npm run docs`, in a real browser (headless Chromium): every page renders
// without a console error, every internal link leads to a page that exists and every #anchor to a
// heading on it, lessons show their checks and previous/next, and the diagrams are there.
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumInstalled, launchChromium, pageErrors } from '../../tests/support/chromium.ts';
import { serveDocs } from '../cli/docs.ts';
import { MILESTONES } from '../manifest.ts';
import { crawl, type SitePage } from '../site/site.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// CI installs chromium (.ci/run); elsewhere a missing browser skips the browser part, saying why.
const browserMissing = !chromiumInstalled() && !process.env.CI;

describe('npm run docs', () => {
  let pages: Map<string, SitePage>;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    pages = await crawl(ROOT);
    ({ server, url: base } = await serveDocs(ROOT, 0, '127.0.0.1'));
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

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

  it.skipIf(browserMissing)('renders every Markdown page in Chromium without a console error', { timeout: 120_000 }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      const markdownPages = [...pages.keys()].filter((url) => !/^(source|assets|files)\//.test(url));
      for (const url of markdownPages) {
        const response = await page.goto(new URL(url, base).href);
        expect(response?.status(), url).toBe(200);
        expect(await page.locator('main h1').count(), `${url} has a title`).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
      // The README's screenshots load.
      await page.goto(base);
      const images = await page.locator('main img').evaluateAll((imgs) => imgs.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth));
      expect(images.length).toBeGreaterThanOrEqual(3);
      expect(images.filter((width) => width === 0), 'images that did not load').toEqual([]);
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
    } finally {
      await browser.dispose();
    }
  });
});
