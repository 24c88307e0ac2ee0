// The frame around every page of the docs site: the sidebar (the milestones, the optional tenth included, with the learner's
// progress, the docs), and on a lesson its panel (what to edit, the commands, the checks it is
// graded on, from the manifest) and previous/next links.
import { loadProgress, type Progress } from '../../shared/workshop/progress.ts';
import { milestoneState } from '../cli/shared.ts';
import { MILESTONES, type Milestone } from '../manifest.ts';
import { escapeXml } from '../../shared/diagrams/svg.ts';
import { relativeUrl, urlOf } from './pages.ts';

const escapeHtml = escapeXml;

function progressMark(progress: Progress, milestone: Milestone): string {
  const state = milestoneState(progress, milestone);
  if (state.kind === 'passed') return '<span class="mark passed" title="passed">✓</span>';
  if (state.kind === 'partial')
    return `<span class="mark partial" title="${state.passed} of ${state.total} checks passed last time">◐</span>`;
  return '<span class="mark not-started" title="not started">·</span>';
}

/** Closed on a narrow screen (the page comes first), open on a wide one; follows the window as it resizes. */
const FOLD_CONTENTS =
  "(()=>{const d=document.getElementById('contents'),m=matchMedia('(min-width: 801px)'),f=()=>{d.open=m.matches};f();m.addEventListener('change',f)})()";

function sidebar(pageUrl: string, root: string, progress: Progress): string {
  const link = (repoPath: string, label: string, mark = '') => {
    const url = urlOf(repoPath, root);
    return `<li><a href="${relativeUrl(pageUrl, url)}"${url === pageUrl ? ' aria-current="page"' : ''}>${mark}<span>${escapeHtml(label)}</span></a></li>`;
  };
  return [
    '<nav class="sidebar" aria-label="Workshop">',
    `<a class="brand" href="${relativeUrl(pageUrl, '')}">RabbitMQ order workshop</a>`,
    // On a narrow screen the contents fold away behind "Contents"; on a wide one they are always open.
    '<details class="contents" id="contents" open><summary>Contents</summary>',
    '<ul>',
    link('README.md', 'Start here'),
    link('milestones/README.md', 'How a lesson works'),
    '</ul>',
    '<h2>Milestones</h2><ol>',
    ...MILESTONES.map((m) => link(`milestones/${m.slug}/README.md`, `${m.number}. ${m.title}`, progressMark(progress, m))),
    '</ol>',
    '<h2>The system</h2><ul>',
    link('docs/architecture.md', 'Architecture'),
    link('docs/topology.md', 'Topology'),
    link('docs/operations.md', 'Operations'),
    link('docs/configuration.md', 'Configuration'),
    link('docs/performance.md', 'Performance'),
    link('docs/reliability.md', 'Reliability'),
    '</ul>',
    '<h2>The grader</h2><ul>',
    link('grader/README.md', 'How grading works'),
    link('docs/grader-performance.md', 'Grading times'),
    '</ul>',
    '</details>',
    `<script>${FOLD_CONTENTS}</script>`,
    '</nav>',
  ].join('\n');
}

/** The box at the top of a lesson: file, commands, checks. */
async function lessonPanel(milestone: Milestone): Promise<string> {
  const checks = await milestone.checks().catch(() => []);
  const n = milestone.number;
  return [
    '<aside class="lesson-panel" aria-label="This milestone">',
    `<h2>Goal</h2><p>${escapeHtml(milestone.goal)}</p>`,
    `<h2>You edit</h2><p><code>${escapeHtml(milestone.exercise.file)}</code></p>`,
    `<h2>Commands</h2><p class="commands"><code>npm run milestone -- ${n}</code><code>npm run grade -- ${n}</code><code>npm run hint -- ${n}</code><code>npm run grade -- ${n} --watch</code></p>`,
    `<h2>Graded on</h2><ol>${checks.map((check) => `<li>${escapeHtml(check.name)}</li>`).join('')}</ol>`,
    '</aside>',
  ].join('\n');
}

function pager(pageUrl: string, root: string, milestone: Milestone): string {
  const index = MILESTONES.indexOf(milestone);
  const previous = MILESTONES[index - 1];
  const next = MILESTONES[index + 1];
  const to = (m: Milestone) => relativeUrl(pageUrl, urlOf(`milestones/${m.slug}/README.md`, root));
  return [
    '<nav class="pager" aria-label="Previous and next milestone">',
    previous ? `<a rel="prev" href="${to(previous)}">← ${previous.number}. ${escapeHtml(previous.title)}</a>` : '<span></span>',
    next ? `<a rel="next" href="${to(next)}">${next.number}. ${escapeHtml(next.title)} →</a>` : '<span></span>',
    '</nav>',
  ].join('\n');
}

export interface PageInput {
  repoPath: string;
  title: string;
  body: string;
  /** A page served at an address other than its own (the 404 page) resolves its links from here. */
  base?: string;
}

export async function layoutPage(page: PageInput, root: string): Promise<string> {
  const pageUrl = urlOf(page.repoPath, root);
  const progress = loadProgress();
  const milestone = MILESTONES.find((m) => page.repoPath === `milestones/${m.slug}/README.md`);
  const body = milestone ? page.body.replace(/(<\/h1>)/, `$1\n${await lessonPanel(milestone)}`) : page.body;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)} · RabbitMQ order workshop</title>`,
    ...(page.base ? [`<base href="${escapeHtml(page.base)}">`] : []),
    // An icon of its own, inline: no request for a /favicon.ico that is not there.
    `<link rel="icon" href="data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><text y=".9em" font-size="90">🐇</text></svg>')}">`,
    // The site's own styles last: they override the highlighting colours that fall short of AA contrast.
    `<link rel="stylesheet" href="${relativeUrl(pageUrl, 'assets/highlight.css')}"><link rel="stylesheet" href="${relativeUrl(pageUrl, 'assets/site.css')}">`,
    '</head><body>',
    '<a class="skip-link" href="#content">Skip to the content</a>',
    sidebar(pageUrl, root, progress),
    `<main id="content" tabindex="-1">${body}${milestone ? pager(pageUrl, root, milestone) : ''}</main>`,
    '</body></html>',
  ].join('\n');
}
