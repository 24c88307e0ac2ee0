// `npm run screenshots`: the pictures in the README, taken of the real pages in headless Chromium.
// The docs site is served from this checkout on a free port; nothing else is needed (no broker).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serveDocs } from '../grader/cli/docs.ts';
import { chromiumInstalled, CHROMIUM, launchChromium } from '../tests/support/chromium.ts';

const { values } = parseArgs({ args: process.argv.slice(2), options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
if (values.help) {
  console.log('Usage: npm run screenshots [-- --out DIR]\n\nTakes the README\'s screenshots of the docs site (default DIR: docs/screenshots).');
  process.exit(0);
}
if (!chromiumInstalled()) {
  console.error(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  process.exit(1);
}
const outDir = path.resolve(values.out ?? 'docs/screenshots');
fs.mkdirSync(outDir, { recursive: true });

const shots: Array<{ file: string; url: string; clip?: string }> = [
  { file: 'docs-lesson.png', url: 'milestones/05-acks-prefetch/' },
  { file: 'docs-topology.png', url: 'docs/topology.html', clip: 'figure' },
  { file: 'docs-order-flow.png', url: 'docs/architecture.html', clip: 'figure' },
];

const { server, url: base } = await serveDocs(process.cwd(), 0, '127.0.0.1');
const browser = await launchChromium({ width: 1360, height: 860 });
try {
  const page = await browser.newPage();
  for (const shot of shots) {
    await page.goto(new URL(shot.url, base).href);
    const file = path.join(outDir, shot.file);
    if (shot.clip) await page.locator(shot.clip).first().screenshot({ path: file });
    else await page.screenshot({ path: file });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
} finally {
  await browser.dispose();
  server.close();
}
