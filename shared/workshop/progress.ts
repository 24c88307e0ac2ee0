// The learner's progress, saved locally in .progress/progress.json (git-ignored). The grader writes
// it; `npm start -- --layers mine` reads it to warn about milestones not passed yet.
import fs from 'node:fs';
import path from 'node:path';

export interface Progress {
  /** Milestone number → when it last passed (ISO time). */
  passed: Record<number, string>;
  /** Milestone number → check ids that passed on the last run. */
  lastRun: Record<number, { at: string; passedChecks: string[]; totalChecks: number }>;
}

export function progressFile(): string {
  return path.join(process.env.WORKSHOP_PROGRESS_DIR ?? '.progress', 'progress.json');
}

export function loadProgress(): Progress {
  try {
    return JSON.parse(fs.readFileSync(progressFile(), 'utf8')) as Progress;
  } catch {
    return { passed: {}, lastRun: {} };
  }
}

/** What a grading run of one milestone found, as progress needs it. */
export interface GradedRun {
  number: number;
  status: 'pass' | 'fail' | 'error';
  checks: Array<{ id: string; status: 'pass' | 'fail' | 'error' }>;
}

export function recordResult(result: GradedRun): void {
  if (result.status === 'error') return; // we could not judge: keep what we knew
  const progress = loadProgress();
  const n = result.number;
  const at = new Date().toISOString();
  progress.lastRun[n] = {
    at,
    passedChecks: result.checks.filter((c) => c.status === 'pass').map((c) => c.id),
    totalChecks: result.checks.length,
  };
  if (result.status === 'pass') progress.passed[n] = at;
  else delete progress.passed[n];
  fs.mkdirSync(path.dirname(progressFile()), { recursive: true });
  fs.writeFileSync(progressFile(), `${JSON.stringify(progress, null, 2)}\n`);
}

/** After a reset the starter is back: what we knew about the milestone no longer holds. */
export function forgetResult(number: number): void {
  const progress = loadProgress();
  if (!(number in progress.passed) && !(number in progress.lastRun)) return;
  delete progress.passed[number];
  delete progress.lastRun[number];
  fs.writeFileSync(progressFile(), `${JSON.stringify(progress, null, 2)}\n`);
}
