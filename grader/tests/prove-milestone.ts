// The grader proves itself, one milestone at a time (a file per milestone, so they run in parallel):
//   - the reference passes every check;
//   - the starter, as shipped, fails every check (but those the manifest exempts, with a reason, and
//     those that need a newer broker than this one);
//   - every known-wrong variant fails the checks it claims to break, and every check is claimed by
//     at least two of them (a check that needs a newer broker says so on an older one, for each);
//   - every known-valid alternative passes every check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDelayedRetry, isAtLeast } from '../../shared/broker/broker-features.ts';
import { milestone as milestoneNumber } from '../manifest.ts';
import type { Alternative, Mutant } from '../mutant.ts';
import { gradeLayer, gradeMilestone, type MilestoneResult, prepareEnvironment } from '../runner.ts';
import type { GradingEnvironment } from '../context.ts';
import { systemStarts } from '../sandbox.ts';

function describeFailures(results: { id: string; status: string; message?: string; expected?: string; seen?: string }[]): string {
  return results
    .map((r) => `${r.id}: ${r.status}${r.status === 'pass' ? '' : ` (${r.message ?? `expected ${r.expected}; saw ${r.seen}`})`}`)
    .join('\n');
}

/** Whether the broker applies a channel-wide prefetch: RabbitMQ before 4.3 (from 4.3 global QoS is denied by default). */
async function appliesGlobalQos(environment: GradingEnvironment): Promise<boolean> {
  return !isAtLeast((await environment.api.overview()).rabbitmq_version, 4, 3);
}

/** Whether the broker has a quorum queue's delayed retry: RabbitMQ 4.3 and later. */
async function brokerHasDelayedRetry(environment: GradingEnvironment): Promise<boolean> {
  return hasDelayedRetry((await environment.api.overview()).rabbitmq_version);
}

/** A check that said it could not judge (the machine too busy, say): not a verdict on the code. */
const couldNotJudge = (check: { status: string; errorKind?: string }) =>
  check.status === 'error' && (check.errorKind === undefined || check.errorKind === 'environment');

/**
 * Grades again, at most twice more, while a check came out "could not judge": on a busy machine the
 * grader may say it cannot tell (a verdict the learner is told to run again on), and so does this
 * proof. A pass or a fail is never graded again, so a wrong verdict cannot hide behind a retry.
 */
async function gradeUntilJudged(grade: () => Promise<MilestoneResult>, what: string): Promise<MilestoneResult> {
  let result = await grade();
  for (let again = 0; again < 2 && result.checks.some(couldNotJudge); again++) {
    const ids = result.checks.filter(couldNotJudge).map((c) => c.id);
    console.warn(`${what}: could not judge ${ids.join(', ')}; grading it again`);
    result = await grade();
  }
  return result;
}

/** A check that said it needs a newer broker than this one (BrokerTooOldError). */
const notApplicable = (check: { status: string; errorKind?: string }) => check.status === 'error' && check.errorKind === 'not-applicable';

/**
 * `mutantsTimeoutMs`: grading every known-wrong variant one after another takes minutes on a busy
 * machine (milestone 6 on RabbitMQ 4.3 under load took 240 s); a milestone with many variants whose
 * every check waits on the broker (10) may ask for more.
 */
export function proveMilestone(
  number: number,
  loadMutants: () => Promise<{ mutants: Mutant[]; alternatives?: Alternative[] }>,
  { mutantsTimeoutMs = 360_000 }: { mutantsTimeoutMs?: number } = {},
): void {
  const milestone = milestoneNumber(number);
  let environment: GradingEnvironment;

  describe(`milestone ${milestone.slug}`, () => {
    beforeAll(async () => {
      environment = await prepareEnvironment();
    });
    afterAll(async () => {
      await environment?.broker.stop();
    });

    it('the reference passes every check', { timeout: 120_000 }, async () => {
      const startsBefore = systemStarts.count;
      const result = await gradeUntilJudged(() => gradeMilestone(environment, milestone, 'solutions'), 'the reference');
      expect(
        systemStarts.count > startsBefore,
        `🚨 grader/milestones/${milestone.slug}/manifest.ts's startsTheSystem must say whether its checks start the system`,
      ).toBe(milestone.startsTheSystem ?? false);
      expect(result.checks.length, '🚨 a milestone has 4 to 8 checks').toBeGreaterThanOrEqual(4);
      expect(result.checks.length).toBeLessThanOrEqual(8);
      expect(result.status, `🚨 the reference must pass:\n${describeFailures(result.checks)}`).toBe('pass');
    });

    it('the starter, as shipped, fails every check and points at the exercise', { timeout: 120_000 }, async () => {
      const result = await gradeUntilJudged(() => gradeMilestone(environment, milestone, 'mine'), 'the starter');
      expect(result.error, '🚨 the starter must load').toBeUndefined();
      const exempt = milestone.starterExemptions ?? {};
      for (const check of result.checks) {
        if (check.id in exempt || notApplicable(check)) continue;
        expect(check.status, `🚨 the starter passed ${check.id}; it must fail (or be exempt in the manifest, with a reason)`).toBe('fail');
      }
      const first = result.checks.find((c) => c.status === 'fail');
      expect(first?.message ?? '', '🚨 the first failure points at the exercise file').toContain(milestone.exercise.file);
    });

    it(
      'every known-wrong variant fails the checks it claims to break, and every check is claimed',
      { timeout: mutantsTimeoutMs },
      async () => {
        const { mutants } = await loadMutants();
        const checks = await milestone.checks();
        // The catalogue counts every claim; a claim that needs global QoS is checked where the broker
        // applies it, one that needs the delayed retry where the broker has it (elsewhere the check says it cannot check).
        const claimsOf = (m: Mutant) => [...m.breaks, ...(m.breaksWithGlobalQos ?? []), ...(m.breaksWithDelayedRetry ?? [])];
        const claims = (id: string) => mutants.filter((m) => claimsOf(m).includes(id)).length;
        const underClaimed = checks.map((c) => c.id).filter((id) => claims(id) < 2);
        expect(underClaimed, '🚨 every check needs at least two known-wrong variants that fail it').toEqual([]);
        const globalQos = await appliesGlobalQos(environment);
        const delayedRetry = await brokerHasDelayedRetry(environment);
        for (const mutant of mutants) {
          const result = await gradeUntilJudged(() => gradeLayer(environment, milestone, mutant.layer), `"${mutant.name}"`);
          const find = (id: string) => {
            const check = result.checks.find((c) => c.id === id);
            expect(check, `🚨 mutant "${mutant.name}" names an unknown check ${id}`).toBeDefined();
            return check;
          };
          const mustFail = [...mutant.breaks, ...(globalQos ? (mutant.breaksWithGlobalQos ?? []) : [])];
          for (const id of [...mustFail, ...(delayedRetry ? (mutant.breaksWithDelayedRetry ?? []) : [])])
            expect(find(id)?.status, `🚨 "${mutant.name}" should fail ${id}, but it passed`).toBe('fail');
          if (delayedRetry) continue;
          for (const id of mutant.breaksWithDelayedRetry ?? []) {
            const check = find(id);
            expect(check && notApplicable(check), `🚨 ${id} needs RabbitMQ 4.3; on this broker it must say it could not check`).toBe(true);
          }
        }
      },
    );

    it('every known-valid alternative passes every check', { timeout: 120_000 }, async () => {
      const { alternatives = [] } = await loadMutants();
      expect(
        alternatives.length,
        `🚨 grader/milestones/${milestone.slug}/mutants.ts exports no known-valid \`alternatives\``,
      ).toBeGreaterThan(0);
      for (const alternative of alternatives) {
        const result = await gradeUntilJudged(() => gradeLayer(environment, milestone, alternative.layer), `"${alternative.name}"`);
        expect(result.status, `🚨 the valid alternative "${alternative.name}" must pass:\n${describeFailures(result.checks)}`).toBe('pass');
      }
    });
  });
}
