// The runner keeps nothing at module level (runner.ts, run-check.ts, stray-errors.ts): two gradings
// can run in one process at the same time, each with its own verdict. And the one verdict rule
// (verdict.ts) that the runner and `npm run grade`'s parent both use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradingEnvironment } from '../context.ts';
import { milestone as milestoneNumber } from '../manifest.ts';
import { gradeMilestone, prepareEnvironment } from '../runner.ts';
import { StrayCapture } from '../stray-errors.ts';
import { gradeExitStatus, judgeThrown, milestoneVerdict } from '../verdict.ts';
import { BrokerTooOldError } from '../check.ts';

describe('two gradings in one process at once', () => {
  let environment: GradingEnvironment;
  beforeAll(async () => {
    environment = await prepareEnvironment();
  });
  afterAll(async () => {
    await environment?.broker.stop();
  });

  it('the reference twice and the starter beside them: pass, pass and fail, each judged alone', { timeout: 180_000 }, async () => {
    const milestone = milestoneNumber(1);
    const [first, second, starter] = await Promise.all([
      gradeMilestone(environment, milestone, 'solutions'),
      gradeMilestone(environment, milestone, 'solutions'),
      gradeMilestone(environment, milestone, 'mine'),
    ]);
    const says = (result: typeof first) => result.checks.map((c) => `${c.id}: ${c.status} ${c.message ?? ''}`).join('\n');
    expect(first.status, says(first)).toBe('pass');
    expect(second.status, says(second)).toBe('pass');
    expect(first.late ?? [], 'nothing of the starter lands on the reference').toEqual([]);
    expect(second.late ?? []).toEqual([]);
    expect(starter.status).toBe('fail');
    expect(
      starter.checks.every((c) => c.status === 'fail'),
      says(starter),
    ).toBe(true);
    expect(starter.checks[0]?.message).toContain('is not written yet');
  });
});

describe('stray errors', () => {
  it('go to the check whose code threw them, of the grading it belongs to; after it ended, they are late', async () => {
    const mine = new StrayCapture();
    const theirs = new StrayCapture();
    mine.start();
    theirs.start();
    const myStrays: unknown[] = [];
    const theirStrays: unknown[] = [];
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      await Promise.all([
        mine.during('01.a', myStrays, async () => {
          setTimeout(() => void Promise.reject(new Error('mine, during')), 10);
          setTimeout(() => void Promise.reject(new Error('mine, after')), 150);
          await sleep(60);
        }),
        theirs.during('01.a', theirStrays, async () => {
          setTimeout(() => {
            throw new Error('theirs, during');
          }, 20);
          await sleep(60);
        }),
      ]);
      await sleep(200);
    } finally {
      const myLate = mine.stop();
      const theirLate = theirs.stop();
      expect(myStrays.map((e) => (e as Error).message)).toEqual(['mine, during']);
      expect(theirStrays.map((e) => (e as Error).message)).toEqual(['theirs, during']);
      expect(myLate.map(({ after, error }) => [after, (error as Error).message])).toEqual([['01.a', 'mine, after']]);
      expect(theirLate).toEqual([]);
    }
  });
});

describe('the verdict rule', () => {
  it('a milestone: any error is could-not-judge, a pass needs checks, all passing, nothing late, no type errors', () => {
    const pass = { status: 'pass' as const };
    const fail = { status: 'fail' as const };
    const error = { status: 'error' as const };
    expect(milestoneVerdict({ checks: [pass, pass] })).toEqual({ status: 'pass' });
    expect(milestoneVerdict({ checks: [] })).toEqual({ status: 'fail' });
    expect(milestoneVerdict({ checks: [pass, fail] })).toEqual({ status: 'fail' });
    expect(milestoneVerdict({ checks: [pass], late: ['TypeError: x'] })).toEqual({ status: 'fail' });
    expect(milestoneVerdict({ checks: [pass], typeErrors: ['a.ts:1: TS2322'] })).toEqual({ status: 'fail' });
    expect(milestoneVerdict({ checks: [fail, error] })).toEqual({ status: 'error' });
    expect(milestoneVerdict({ checks: [error, { status: 'error', errorKind: 'bug' }] })).toEqual({ status: 'error', errorKind: 'bug' });
    expect(milestoneVerdict({ checks: [], error: 'the checks do not load', errorKind: 'bug' })).toEqual({
      status: 'error',
      errorKind: 'bug',
    });
    expect(milestoneVerdict({ checks: [], error: 'x.ts does not load', errorKind: 'learner' })).toEqual({
      status: 'error',
      errorKind: 'learner',
    });
  });

  it('a check that needs a newer broker (BrokerTooOldError) says so, and neither fails a milestone nor holds it back', () => {
    const verdict = judgeThrown(new BrokerTooOldError('could not check on RabbitMQ 3.x (this broker is 3.10.8): …'));
    expect(verdict).toMatchObject({ status: 'error', errorKind: 'not-applicable' });
    expect(verdict.message).toContain('could not check on RabbitMQ 3.x');
    const notApplicable = { status: 'error' as const, errorKind: 'not-applicable' as const };
    expect(milestoneVerdict({ checks: [{ status: 'pass' }, notApplicable] })).toEqual({ status: 'pass' });
    expect(milestoneVerdict({ checks: [{ status: 'fail' }, notApplicable] })).toEqual({ status: 'fail' });
    expect(milestoneVerdict({ checks: [{ status: 'error' }, notApplicable] })).toEqual({ status: 'error' });
    expect(milestoneVerdict({ checks: [notApplicable] }), 'nothing could be checked: could not judge').toEqual({ status: 'error' });
  });

  it("grade's exit status: 0 all pass, 1 a fail (or the learner's file does not load), 3 could not judge, 4 a bug", () => {
    expect(gradeExitStatus([{ status: 'pass' }, { status: 'pass' }])).toBe(0);
    expect(gradeExitStatus([{ status: 'pass' }, { status: 'fail' }])).toBe(1);
    expect(gradeExitStatus([{ status: 'error', errorKind: 'learner' }])).toBe(1);
    expect(gradeExitStatus([{ status: 'fail' }, { status: 'error' }])).toBe(3);
    expect(gradeExitStatus([{ status: 'error' }, { status: 'error', errorKind: 'bug' }])).toBe(4);
  });
});
