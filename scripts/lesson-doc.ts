// Writes the two generated parts of every lesson (milestones/NN-slug/README.md), so that a rule is
// stated once, in the lesson's contract, and the rest is derived:
// - "Your tasks", from the starter: its functions, each with its 🐨 comments and the clauses they meet;
// - "How you are graded", from the grader: each check's id and name, the clause that names it, the budget.
// `npm run docs:lessons` rewrites the blocks; tests/docs.test.ts fails when one is stale.
// The format: milestones/README.md (How a lesson works), and the tests in grader/tests/authoring.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { defineCli, parseOrExit } from '../shared/cli/args.ts';
import { hasBlocks, type LessonParts, withParts } from '../grader/lesson-blocks.ts';
import { MILESTONES, type Milestone } from '../grader/manifest.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEFAULT_CHECK_TIMEOUT_MS = 5000;

// ── the contract ─────────────────────────────────────────────────────────────────────────────────

export interface Clause {
  number: number;
  /** The check ids the clause names (`03.bindings`). */
  checks: string[];
}

/** The numbered clauses of the lesson's `## The contract` section. */
export function contractClauses(readme: string): Clause[] {
  const section = /^## The contract\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
  return section
    .split(/^(?=\d+\. )/m)
    .filter((part) => /^\d+\. /.test(part))
    .map((part) => ({
      number: Number(/^(\d+)\./.exec(part)?.[1]),
      checks: [...part.matchAll(/`(\d\d\.[a-z0-9-]+)`/g)].map((match) => match[1] as string),
    }));
}

/** "clause 3", "clauses 2 and 5", "clauses 1, 2 and 6" → [3], [2, 5], [1, 2, 6]. */
export function clausesNamedIn(text: string): number[] {
  const numbers = [...text.matchAll(/\bclauses? (\d+(?:(?:, | and |, and )\d+)*)/g)].flatMap((match) =>
    (match[1] ?? '').split(/, and |, | and /).map(Number),
  );
  return [...new Set(numbers)].sort((a, b) => a - b);
}

const listed = (numbers: number[]) => (numbers.length <= 1 ? numbers.join('') : `${numbers.slice(0, -1).join(', ')} and ${numbers.at(-1)}`);

// ── the starter's tasks ──────────────────────────────────────────────────────────────────────────

export interface TaskLine {
  marker: '🐨' | '💰';
  text: string;
  /** The named function inside the task this comment sits in (`call` inside `createClient`), if any. */
  inner?: string;
}

export interface Task {
  name: string;
  /** `declareFanout(channel, topology, exchangeOptions)`. */
  signature: string;
  lines: TaskLine[];
  clauses: number[];
}

interface Comment {
  marker: '🐨' | '💰';
  text: string;
  offset: number;
}

/** `// 🐨 …` and `// 💰 …` comments, each continued by the indented `//    …` lines under it. */
function markerComments(source: string): Comment[] {
  const comments: Comment[] = [];
  let offset = 0;
  let current: Comment | undefined;
  for (const line of source.split('\n')) {
    const start = /^\s*\/\/ (🐨|💰) ?(.*)$/u.exec(line);
    const more = /^\s*\/\/ {2,}(\S.*)$/.exec(line);
    if (start) {
      current = { marker: start[1] as Comment['marker'], text: (start[2] ?? '').trim(), offset };
      comments.push(current);
    } else if (current && more) {
      current.text += ` ${(more[1] ?? '').trim()}`;
    } else {
      current = undefined;
    }
    offset += line.length + 1;
  }
  return comments;
}

interface NamedFunction {
  name: string;
  node: ts.Node;
  /** Undefined for a constant that is not a function (a schema the learner completes). */
  parameters?: ts.NodeArray<ts.ParameterDeclaration>;
}

/**
 * What a task can be: the functions of the file that have a name (methods, function declarations,
 * `name: (…) => …`, `const name = (…) => …`), and the file's top-level constants.
 */
function namedFunctions(file: ts.SourceFile): NamedFunction[] {
  const found: NamedFunction[] = [];
  const isFunction = (node: ts.Node | undefined): node is ts.ArrowFunction | ts.FunctionExpression =>
    !!node && (ts.isArrowFunction(node) || ts.isFunctionExpression(node));
  const visit = (node: ts.Node) => {
    if ((ts.isMethodDeclaration(node) || ts.isFunctionDeclaration(node)) && node.name) {
      found.push({ name: node.name.getText(file), node, parameters: node.parameters });
    } else if ((ts.isPropertyAssignment(node) || ts.isVariableDeclaration(node)) && isFunction(node.initializer)) {
      found.push({
        name: node.name.getText(file),
        node: ts.isVariableDeclaration(node) ? node.parent.parent : node,
        parameters: node.initializer.parameters,
      });
    } else if (ts.isVariableDeclaration(node) && ts.isSourceFile(node.parent.parent.parent)) {
      found.push({ name: node.name.getText(file), node: node.parent.parent });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The lesson's tasks, read from the starter as it is in the repository. */
export function starterTasks(starterFile: string, source: string): Task[] {
  const file = ts.createSourceFile(starterFile, source, ts.ScriptTarget.Latest, true);
  const functions = namedFunctions(file);
  const tasks = new Map<NamedFunction, Task>();
  for (const comment of markerComments(source)) {
    // Inside the function, or in the comments just above it.
    // A function wins over the constant around it (the exported layer object); a constant alone is
    // a task when the comment is on it (a schema to complete).
    const holding = (f: NamedFunction) => f.node.getFullStart() <= comment.offset && comment.offset < f.node.getEnd();
    const inFunctions = functions.filter((f) => f.parameters && holding(f));
    const holders = inFunctions.length > 0 ? inFunctions : functions.filter(holding);
    if (holders.length === 0)
      throw new Error(`${starterFile}: the ${comment.marker} comment "${comment.text.slice(0, 60)}…" is in no named function`);
    const width = (f: NamedFunction) => f.node.getEnd() - f.node.getFullStart();
    const outer = holders.reduce((a, b) => (width(b) > width(a) ? b : a));
    // The innermost function the comment is inside of (not merely above, as 🐨 above a `const` helper is).
    const inner = holders.filter((f) => f === outer || f.node.getStart() <= comment.offset).reduce((a, b) => (width(b) < width(a) ? b : a));
    let task = tasks.get(outer);
    if (!task) {
      const parameters = outer.parameters?.map((p) => p.name.getText(file).replace(/\s+/g, ' '));
      task = { name: outer.name, signature: parameters ? `${outer.name}(${parameters.join(', ')})` : outer.name, lines: [], clauses: [] };
      tasks.set(outer, task);
    }
    task.lines.push({ marker: comment.marker, text: comment.text, ...(inner !== outer ? { inner: inner.name } : {}) });
    task.clauses = [...new Set([...task.clauses, ...clausesNamedIn(comment.text)])].sort((a, b) => a - b);
  }
  return [...tasks.values()];
}

// ── rendering ────────────────────────────────────────────────────────────────────────────────────

const cell = (text: string) => text.replace(/\|/g, '\\|');
const seconds = (ms: number) => `${ms / 1000} s`;

function renderTasks(m: Milestone, tasks: Task[]): string {
  const line = (l: TaskLine) => `${l.marker} ${l.inner ? `\`${l.inner}\`: ` : ''}${l.text}`;
  const lines = [
    `Open \`${m.exercise.file}\` and write ${tasks.length === 1 ? 'this function' : `these ${tasks.length} functions`}`,
    "where the 🐨 comments are (a `todo(…)` call marks what is left). The clauses are the contract's.",
    '',
  ];
  tasks.forEach((task, i) => {
    const [only, ...more] = task.lines;
    if (only && more.length === 0) lines.push(`${i + 1}. **\`${task.signature}\`**: ${line(only)}`);
    else lines.push(`${i + 1}. **\`${task.signature}\`**:`, ...task.lines.map((l) => `   - ${line(l)}`));
  });
  lines.push('', `Then watch it run: \`npm run milestone -- ${m.number}\`.`);
  return lines.join('\n');
}

function renderGrading(m: Milestone, checks: { id: string; name: string; timeoutMs?: number }[], clauses: Clause[]): string {
  const clausesOf = (id: string) => clauses.filter((c) => c.checks.includes(id)).map((c) => c.number);
  const slow = checks.filter((c) => (c.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS) !== DEFAULT_CHECK_TIMEOUT_MS);
  const lines = [
    `\`npm run grade -- ${m.number}\` runs these ${checks.length} checks against the broker, each in a vhost of its own,`,
    `${m.concurrentChecks ? 'all at the same time' : 'one after the other'}, within ${seconds(m.budgetMs)} for the milestone (its budget in grader/milestones/${m.slug}/manifest.ts). A failing check`,
    'says what it expected and what it saw, with a 💰 hint.',
    '',
    '| Check | Clause | What it observes |',
    '| --- | --- | --- |',
    ...checks.map((check) => `| \`${check.id}\` | ${listed(clausesOf(check.id))} | ${cell(check.name)} |`),
  ];
  if (slow.length > 0) {
    const each = slow.map((c) => `\`${c.id}\` ${seconds(c.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS)}`);
    lines.push(
      '',
      `A check gives up after ${seconds(DEFAULT_CHECK_TIMEOUT_MS)} (${each.join(', ')}): a layer that never answers fails, it does not hang.`,
    );
  }
  return lines.join('\n');
}

/** The two generated parts of milestone `m`'s lesson, from its starter, its contract and its checks. */
export async function lessonParts(m: Milestone, readme = readLesson(m)): Promise<LessonParts> {
  const clauses = contractClauses(readme);
  if (clauses.length === 0) throw new Error(`${lessonFile(m)}: no numbered clauses under "## The contract"`);
  const numbers = clauses.map((c) => c.number);
  const tasks = starterTasks(m.exercise.file, fs.readFileSync(path.join(ROOT, m.exercise.file), 'utf8'));
  for (const task of tasks) {
    const unknown = task.clauses.filter((n) => !numbers.includes(n));
    if (unknown.length > 0)
      throw new Error(
        `${m.exercise.file}: ${task.name} names clause ${listed(unknown)}, which the contract of ${lessonFile(m)} does not have`,
      );
  }
  const checks = await m.checks();
  const unnamed = checks.filter((check) => !clauses.some((c) => c.checks.includes(check.id)));
  if (unnamed.length > 0) throw new Error(`${lessonFile(m)}: no clause of the contract names ${unnamed.map((c) => c.id).join(', ')}`);
  return { tasks: renderTasks(m, tasks), grading: renderGrading(m, checks, clauses) };
}

// ── the files ────────────────────────────────────────────────────────────────────────────────────

export const lessonFile = (m: Milestone) => `milestones/${m.slug}/README.md`;
const readLesson = (m: Milestone) => fs.readFileSync(path.join(ROOT, lessonFile(m)), 'utf8');

const LESSON_DOC_CLI = defineCli({
  command: 'npm run docs:lessons',
  synopsis: ['npm run docs:lessons'],
  summary: `Rewrites the generated blocks of every lesson (Your tasks, How you are graded) from the starters,
the contracts and the checks. npm test fails when a lesson's blocks are stale.`,
});

if (import.meta.url === `file://${process.argv[1]}`) {
  parseOrExit(LESSON_DOC_CLI);
  for (const m of MILESTONES) {
    const readme = readLesson(m);
    if (!hasBlocks(readme)) {
      console.log(`skipped ${lessonFile(m)} (no generated blocks yet)`);
      continue;
    }
    const updated = withParts(readme, await lessonParts(m, readme), lessonFile(m));
    if (updated !== readme) fs.writeFileSync(path.join(ROOT, lessonFile(m)), updated);
    console.log(`${updated === readme ? 'up to date' : 'wrote     '} ${lessonFile(m)}`);
  }
}
