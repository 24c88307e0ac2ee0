// Nothing the learner's code does takes the grader down: `npm run grade` as a learner runs it, on
// exercise files that call process.exit, block the event loop forever, throw after their check has
// ended, or do not type-check. Each is a failed check or a milestone that does not pass, with
// results.json written; never a stack trace and a dead grader.
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { gradeAsLearner, learnerProject as projectWith, ROOT } from '../../scripts/shared/learner-project.ts';
import { milestone } from '../manifest.ts';

/** A project folder whose milestone-1 exercise is `source`; everything else is the workshop's own. */
const learnerProject = (source: string) => projectWith(milestone(1), source);

/** The reference codec with `encode` replaced: what a learner's broken encode does. */
const withEncode = (body: string, extra = '') => `
import { codec as reference } from ${JSON.stringify(path.join(ROOT, 'solutions/layers/01-publish-consume.ts'))};
import type { MessageCodec } from ${JSON.stringify(path.join(ROOT, 'shared/layers/01-publish-consume.ts'))};
${extra}
export const codec: MessageCodec = { ...reference, encode(event) { ${body} } };
`;

const grade = (dir: string) =>
  gradeAsLearner(dir, 1, { env: { RABBITMQ_URL: inject('brokerUrl'), RABBITMQ_MANAGEMENT_URL: inject('managementUrl') } });

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
