// The grader proves itself, one milestone at a time (a file per milestone, so they run in parallel):
//   - the reference passes every check;
//   - the starter, as shipped, fails every check (but those the manifest exempts, with a reason);
//   - every known-wrong variant fails the checks it claims to break, and every check is claimed by
//     at least two of them;
//   - every known-valid alternative passes every check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { milestone as milestoneNumber } from '../manifest.ts';
import type { Alternative, Mutant } from '../mutant.ts';
import { gradeLayer, gradeMilestone, prepareEnvironment } from '../runner.ts';
import type { GradingEnvironment } from '../context.ts';

function describeFailures(results: { id: string; status: string; message?: string; expected?: string; seen?: string }[]): string {
  return results
    .map((r) => `${r.id}: ${r.status}${r.status === 'pass' ? '' : ` (${r.message ?? `expected ${r.expected}; saw ${r.seen}`})`}`)
    .join('\n');
}

/** Whether the broker applies a channel-wide prefetch: RabbitMQ before 4.3 (from 4.3 global QoS is denied by default). */
async function appliesGlobalQos(environment: GradingEnvironment): Promise<boolean> {
  const [major = 0, minor = 0] = (await environment.api.overview()).rabbitmq_version.split('.').map(Number);
  return major < 4 || (major === 4 && minor < 3);
}

/**
 * `mutantsTimeoutMs`: for a milestone whose every check waits on the broker (milestone 10's readers
 * wait for what must not come, and for the clock to pass a second), where grading its many variants
 * one after another takes longer than the default on a busy machine.
 */
export function proveMilestone(
  number: number,
  loadMutants: () => Promise<{ mutants: Mutant[]; alternatives?: Alternative[] }>,
  { mutantsTimeoutMs = 180_000 }: { mutantsTimeoutMs?: number } = {},
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
      const result = await gradeMilestone(environment, milestone, 'solutions');
      expect(result.checks.length, '🚨 a milestone has 4 to 8 checks').toBeGreaterThanOrEqual(4);
      expect(result.checks.length).toBeLessThanOrEqual(8);
      expect(result.status, `🚨 the reference must pass:\n${describeFailures(result.checks)}`).toBe('pass');
    });

    it('the starter, as shipped, fails every check and points at the exercise', { timeout: 120_000 }, async () => {
      const result = await gradeMilestone(environment, milestone, 'mine');
      expect(result.error, '🚨 the starter must load').toBeUndefined();
      const exempt = milestone.starterExemptions ?? {};
      for (const check of result.checks) {
        if (check.id in exempt) continue;
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
        // The catalogue counts every claim; a claim that needs global QoS is checked where the broker applies it.
        const claims = (id: string) => mutants.filter((m) => [...m.breaks, ...(m.breaksWithGlobalQos ?? [])].includes(id)).length;
        const underClaimed = checks.map((c) => c.id).filter((id) => claims(id) < 2);
        expect(underClaimed, '🚨 every check needs at least two known-wrong variants that fail it').toEqual([]);
        const globalQos = await appliesGlobalQos(environment);
        for (const mutant of mutants) {
          const result = await gradeLayer(environment, milestone, mutant.layer);
          for (const id of [...mutant.breaks, ...(globalQos ? (mutant.breaksWithGlobalQos ?? []) : [])]) {
            const check = result.checks.find((c) => c.id === id);
            expect(check, `🚨 mutant "${mutant.name}" names an unknown check ${id}`).toBeDefined();
            expect(check?.status, `🚨 "${mutant.name}" should fail ${id}, but it passed`).toBe('fail');
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
        const result = await gradeLayer(environment, milestone, alternative.layer);
        expect(result.status, `🚨 the valid alternative "${alternative.name}" must pass:\n${describeFailures(result.checks)}`).toBe('pass');
      }
    });
  });
}
