// Checks a browser test makes of any page, as a person would meet it: accessibility (axe-core,
// injected into the page), nothing wider than the screen, and diagrams whose every label can be
// read: not on top of another label or a box, not cut off, and drawn at 12 px or more.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import type { Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * tsx (esbuild's keepNames) wraps named functions in a `__name(...)` call, which would fail inside
 * the page when these checks run from a script rather than under vitest.
 */
async function allowNamedFunctions(page: Page): Promise<void> {
  await page.evaluate('window.__name = window.__name || ((f) => f)');
}

/** The widths the site and the dashboard are checked at: a phone, a small tablet, a projector, a desktop. */
export const WIDTHS = [390, 800, 1280, 1920] as const;

export interface AxeProblem {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations of WCAG 2.1 A/AA and its best practices on the page as it is now. */
export async function seriousAxeViolations(page: Page): Promise<AxeProblem[]> {
  await allowNamedFunctions(page);
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: unknown,
          ): Promise<{
            violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
      }));
  });
}

/** How far the page scrolls sideways (0 when it fits its viewport). */
export async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
}

/**
 * What a person would meet at each of WIDTHS (the page scrolling sideways) and, on a projector and
 * on a phone (1280 and 390 px), axe-core's serious findings: one line each, none when the page is fine.
 * Leaves the viewport at 390 px.
 */
export async function widthAndAxeProblems(page: Page): Promise<string[]> {
  const problems: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    const overflow = await sidewaysOverflow(page);
    if (overflow > 0) problems.push(`sideways at ${width} px: ${overflow} px`);
  }
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    for (const problem of await seriousAxeViolations(page))
      problems.push(`axe-core at ${width} px: ${problem.id} (${problem.impact}) ${problem.help}`);
  }
  return problems;
}

export interface LabelProblem {
  kind: 'overlap' | 'over-node' | 'outside-own-node' | 'clipped' | 'too-small';
  text: string;
  detail: string;
}

/**
 * Every text of the SVG diagram matched by `selector`, as drawn now: none overlaps another, none
 * sits on a box that is not its own, a box's texts stay inside it, none is cut off by the picture
 * or by the box the picture is shown in, and each is at least `minPx` px high on screen.
 */
export async function diagramLabelProblems(page: Page, selector: string, minPx = 12): Promise<LabelProblem[]> {
  await allowNamedFunctions(page);
  return page
    .locator(selector)
    .first()
    .evaluate((svg, min) => {
      const problems: Array<{ kind: string; text: string; detail: string }> = [];
      const slack = 0.5; // sub-pixel rounding
      const intersect = (a: DOMRect, b: DOMRect) =>
        a.left < b.right - slack && b.left < a.right - slack && a.top < b.bottom - slack && b.top < a.bottom - slack;
      const inside = (a: DOMRect, b: DOMRect) =>
        a.left >= b.left - slack && a.right <= b.right + slack && a.top >= b.top - slack && a.bottom <= b.bottom + slack;
      const box = (r: DOMRect) => `${r.left.toFixed(0)},${r.top.toFixed(0)} ${r.width.toFixed(0)}×${r.height.toFixed(0)}`;
      const picture = svg as SVGSVGElement;
      const shown = picture.getBoundingClientRect();
      // What of the picture can be seen: the nearest box around it that hides or scrolls what overflows.
      let frame = shown;
      for (let parent = picture.parentElement; parent; parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowX !== 'visible') {
          frame = parent.getBoundingClientRect();
          break;
        }
      }
      const scale = shown.width / picture.viewBox.baseVal.width;
      const nodes = [...picture.querySelectorAll('.node')].map((g) => ({
        g,
        rect: (g.querySelector('rect') as SVGRectElement).getBoundingClientRect(),
      }));
      const texts = [...picture.querySelectorAll('text')].map((t) => ({
        t,
        rect: t.getBoundingClientRect(),
        own: nodes.find((n) => n.g.contains(t)),
      }));
      for (const [i, a] of texts.entries()) {
        const label = a.t.textContent ?? '';
        const px = parseFloat(getComputedStyle(a.t).fontSize) * scale;
        if (px < min - 0.01) problems.push({ kind: 'too-small', text: label, detail: `${px.toFixed(1)} px` });
        if (!inside(a.rect, shown) || !inside(a.rect, frame))
          problems.push({ kind: 'clipped', text: label, detail: `${box(a.rect)} outside ${box(inside(a.rect, shown) ? frame : shown)}` });
        if (a.own && !inside(a.rect, a.own.rect))
          problems.push({ kind: 'outside-own-node', text: label, detail: `${box(a.rect)} not in ${box(a.own.rect)}` });
        for (const n of nodes)
          if (n !== a.own && intersect(a.rect, n.rect))
            problems.push({ kind: 'over-node', text: label, detail: `on ${n.g.getAttribute('data-name') ?? n.g.textContent}` });
        for (const b of texts.slice(i + 1))
          if (intersect(a.rect, b.rect)) problems.push({ kind: 'overlap', text: label, detail: `with "${b.t.textContent}"` });
      }
      return problems;
    }, minPx) as Promise<LabelProblem[]>;
}
