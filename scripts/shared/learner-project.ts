// `npm run grade -- N` exactly as a learner runs it, on an exercise file of our choosing: a project
// folder of its own whose exercise file is that source (everything else is the workshop's own,
// through absolute imports and a node_modules link), graded by the real command in a process of
// its own (its grading child process, watchdog and type check included). The crash-proofing tests,
// the under-load test and `npm run bench:grader -- --under-load` grade through it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Milestone } from '../../grader/manifest.ts';
import type { ResultsJson } from '../../grader/report/json.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const at = (file: string) => JSON.stringify(path.join(ROOT, file));

/** A project folder whose exercise file for `milestone` is `source`. */
export function learnerProject(milestone: Pick<Milestone, 'exercise'>, source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-learner-'));
  const exercise = milestone.exercise.file;
  fs.mkdirSync(path.join(dir, path.dirname(exercise)), { recursive: true });
  fs.writeFileSync(path.join(dir, exercise), source);
  // package.json too: without its "type": "module", tsx would load the exercise file as CommonJS, and
  // what it imports from the workshop (MalformedMessageError...) would be a second copy of the module.
  for (const file of ['tsconfig.json', 'package.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

export type Variant = { kind: 'reference' } | { kind: 'mutant' | 'alternative'; name: string };

/**
 * An exercise file whose layer is the reference or one of the milestone's known variants
 * (grader/milestones/NN-slug/mutants.ts), so that it is graded through the learner's path.
 */
export function variantSource(milestone: Pick<Milestone, 'slug' | 'layer'>, variant: Variant): string {
  if (variant.kind === 'reference') return `export { ${milestone.layer} } from ${at(`solutions/layers/${milestone.slug}.ts`)};\n`;
  const list = variant.kind === 'mutant' ? 'mutants' : 'alternatives';
  return [
    `import { ${list} } from ${at(`grader/milestones/${milestone.slug}/mutants.ts`)};`,
    `const found = ${list}.find((variant) => variant.name === ${JSON.stringify(variant.name)});`,
    `if (!found) throw new Error(${JSON.stringify(`no ${variant.kind} named ${variant.name}`)});`,
    `export const ${milestone.layer} = found.layer;`,
    '',
  ].join('\n');
}

export interface LearnerRun {
  code: number | null;
  output: string;
  results?: ResultsJson;
  wallMs: number;
}

/** Runs `npm run grade -- <number> --json` in `dir` (the grade command, as npm would start it); killed after timeoutMs. */
export function gradeAsLearner(
  dir: string,
  number: number,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<LearnerRun> {
  const { timeoutMs = 90_000 } = options;
  const json = path.join(dir, 'results.json');
  fs.rmSync(json, { force: true });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'grader/cli/grade.ts'), String(number), '--json', json], {
      cwd: dir,
      env: { ...process.env, ...options.env, NO_COLOR: '1', WORKSHOP_PROGRESS_DIR: path.join(dir, '.progress') },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, so that a timeout kills its grading child and type check too
      // (a grading child left spinning in an endless loop would outlive its killed parent).
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const killGroup = () => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    process.once('exit', killGroup); // should the caller end first
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`npm run grade -- ${number} did not finish within ${timeoutMs / 1000} s. Output:\n${output}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      const results = fs.existsSync(json) ? (JSON.parse(fs.readFileSync(json, 'utf8')) as ResultsJson) : undefined;
      resolve({ code, output, results, wallMs: Date.now() - started });
    });
  });
}
