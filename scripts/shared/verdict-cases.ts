// Same code, same verdict, on a busy machine too: the cases the under-load test and
// `npm run bench:grader -- --under-load [--checks <ids>]` grade through `npm run grade -- N`
// (learner-project.ts), one check each (by default a milestone's in-the-system check): the reference
// and a known-valid alternative must pass it, a known-wrong variant that claims it must fail it, and
// a synchronous endless loop must be blocked.
import fs from 'node:fs';
import path from 'node:path';
import type { Milestone } from '../../grader/manifest.ts';
import type { Alternative, Mutant } from '../../grader/mutant.ts';
import type { Status } from '../../grader/runner.ts';
import { gradeAsLearner, learnerProject, ROOT, type Variant, variantSource } from './learner-project.ts';

export interface VerdictCase {
  milestone: Milestone;
  /** The check graded (GRADER_ONLY_CHECKS): the others are not run. */
  check: string;
  label: string;
  source: string;
  expected: Status;
  /** What the check's message must say (the loop: "blocked the event loop"). */
  saying?: string;
}

export interface CaseVerdict {
  status: Status | 'missing';
  message?: string;
  wallMs: number;
}

/** Milestone N's in-the-system check with the reference, its first known-valid alternative and its first known-wrong variant that claims the check. */
export function inTheSystemCases(milestone: Milestone): Promise<VerdictCase[]> {
  return checkCases(milestone, `${String(milestone.number).padStart(2, '0')}.in-the-system`);
}

/** What a check that needs a quorum queue's delayed retry says on an older broker (BrokerTooOldError: errorKind 'not-applicable'). */
export const NOT_APPLICABLE_SAYING = 'could not check on RabbitMQ';

/**
 * One check of the milestone with the reference and its first known-valid alternative (pass), and
 * its first known-wrong variant that claims the check (fail), in `breaks` or, for a check that needs
 * a quorum queue's delayed retry (RabbitMQ 4.3+), in `breaksWithDelayedRetry`. On a broker without
 * it (`delayedRetry: false`) such a check can judge none of them: all three must say they could not
 * check (an error, not-applicable), never pass or fail.
 */
export async function checkCases(milestone: Milestone, check: string, broker: { delayedRetry?: boolean } = {}): Promise<VerdictCase[]> {
  const { mutants, alternatives = [] } = (await import(`../../grader/milestones/${milestone.slug}/mutants.ts`)) as {
    mutants: Mutant[];
    alternatives?: Alternative[];
  };
  const needsDelayedRetry = mutants.some((m) => m.breaksWithDelayedRetry?.includes(check));
  const notApplicable = needsDelayedRetry && broker.delayedRetry === false;
  const alternative = alternatives[0];
  const mutant = mutants.find((m) => [...m.breaks, ...(m.breaksWithDelayedRetry ?? [])].includes(check));
  const variants: Array<[string, Variant, Status]> = [['reference', { kind: 'reference' }, 'pass']];
  if (alternative) variants.push([`valid: ${alternative.name}`, { kind: 'alternative', name: alternative.name }, 'pass']);
  if (mutant) variants.push([`wrong: ${mutant.name}`, { kind: 'mutant', name: mutant.name }, 'fail']);
  return variants.map(([label, variant, expected]) => ({
    milestone,
    check,
    label,
    source: variantSource(milestone, variant),
    ...(notApplicable ? { expected: 'error', saying: NOT_APPLICABLE_SAYING } : { expected }),
  }));
}

/** Milestone 1's in-the-system check on a codec whose encode never returns: `for (;;) {}`. */
export function endlessLoopCase(milestone: Milestone): VerdictCase {
  const reference = JSON.stringify(path.join(ROOT, 'solutions/layers/01-publish-consume.ts'));
  return {
    milestone,
    check: '01.in-the-system',
    label: 'wrong: encode loops forever (for (;;) {})',
    source: `import { codec as reference } from ${reference};\nexport const codec: typeof reference = { ...reference, encode() { for (;;) {} } };\n`,
    expected: 'fail',
    saying: 'blocked the event loop',
  };
}

/** Grades one case as a learner would (`npm run grade -- N`, child process and type check included). */
export async function gradeCase(
  verdictCase: VerdictCase,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CaseVerdict> {
  const dir = learnerProject(verdictCase.milestone, verdictCase.source);
  try {
    const run = await gradeAsLearner(dir, verdictCase.milestone.number, {
      ...options,
      env: { ...options.env, GRADER_ONLY_CHECKS: verdictCase.check },
    });
    const test = run.results?.tests.find((t) => t.test_code === verdictCase.check);
    return test
      ? { status: test.status, ...(test.message ? { message: test.message } : {}), wallMs: run.wallMs }
      : { status: 'missing', message: run.output.slice(-2000), wallMs: run.wallMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** True when the verdict is the one the case expects (and says what it must). */
export function asExpected(verdictCase: VerdictCase, verdict: CaseVerdict): boolean {
  return (
    verdict.status === verdictCase.expected && (verdictCase.saying === undefined || (verdict.message ?? '').includes(verdictCase.saying))
  );
}
