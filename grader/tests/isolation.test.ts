// Nothing the learner's code does takes the grader down: `npm run grade` as a learner runs it, on
// exercise files that call process.exit, block the event loop forever, throw after their check has
// ended, or do not type-check. Each is a failed check or a milestone that does not pass, with
// results.json written; never a stack trace and a dead grader.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import type { ResultsJson } from '../report/json.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const EXERCISE = 'milestones/01-publish-consume/publish-consume.ts';

/** A project folder whose milestone-1 exercise is `source`; everything else is the workshop's own. */
function learnerProject(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-isolation-'));
  fs.mkdirSync(path.join(dir, path.dirname(EXERCISE)), { recursive: true });
  fs.writeFileSync(path.join(dir, EXERCISE), source);
  fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The reference codec with `encode` replaced: what a learner's broken encode does. */
const withEncode = (body: string, extra = '') => `
import { codec as reference } from ${JSON.stringify(path.join(ROOT, 'solutions/layers/01-publish-consume.ts'))};
import type { MessageCodec } from ${JSON.stringify(path.join(ROOT, 'shared/layers/01-publish-consume.ts'))};
${extra}
export const codec: MessageCodec = { ...reference, encode(event) { ${body} } };
`;

function grade(dir: string): Promise<{ code: number | null; output: string; results?: ResultsJson }> {
  const json = path.join(dir, 'results.json');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'grader/cli/grade.ts'), '1', '--json', json], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', RABBITMQ_URL: inject('brokerUrl'), RABBITMQ_MANAGEMENT_URL: inject('managementUrl'), WORKSHOP_PROGRESS_DIR: path.join(dir, '.progress') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run grade -- 1 did not finish within 90 s. Output:\n${output}`));
    }, 90_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      const results = fs.existsSync(json) ? (JSON.parse(fs.readFileSync(json, 'utf8')) as ResultsJson) : undefined;
      resolve({ code, output, results });
    });
  });
}

describe('npm run grade survives what the graded code does to its process', () => {
  it('process.exit in a check: that check fails saying so, the other checks are still graded', { timeout: 120_000 }, async () => {
    const run = await grade(learnerProject(withEncode('process.exit(7);')));
    expect(run.code, run.output).toBe(1);
    expect(run.results?.status, run.output).toBe('fail');
    const [first] = run.results?.tests ?? [];
    expect(first?.message, run.output).toContain('process.exit(7)');
    expect(run.results?.tests.length, 'every check judged').toBeGreaterThanOrEqual(4);
    expect(run.output).not.toMatch(/\n\s+at .*grader\//); // no stack trace of the grader
  });

  it('a synchronous endless loop: the check fails as a blocked event loop, and grading goes on', { timeout: 120_000 }, async () => {
    const run = await grade(learnerProject(withEncode('for (;;) {}')));
    expect(run.code, run.output).toBe(1);
    expect(run.results?.tests[0]?.message, run.output).toContain('blocked the event loop');
    expect(run.results?.tests.length).toBeGreaterThanOrEqual(4);
  });

  it('a throw after its check has ended, and a type error: the milestone does not pass, and says both', { timeout: 120_000 }, async () => {
    const source = withEncode(
      // Correct, but leaves a timer behind that throws a non-Error once the check has long ended.
      "if (!thrown) { thrown = true; setTimeout(() => { throw 'late'; }, 50).unref(); } return reference.encode(event);",
      "let thrown = false;\nconst wrong: number = 'not a number';\nvoid wrong;",
    );
    const run = await grade(learnerProject(source));
    expect(run.code, run.output).toBe(1);
    expect(run.results?.status).toBe('fail');
    expect(run.output).toMatch(/publish-consume\.ts:\d+:\d+ - TS2322/);
    expect(run.results?.message ?? '', run.output).toContain('type error');
    expect(run.output).not.toContain('🎉');
  });
});
