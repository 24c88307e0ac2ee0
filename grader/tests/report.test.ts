// What a learner reads after a grade: a cause seen by several checks printed once (the others say
// "same cause as …"), a 💰 that fits the failure or none, "follows from" where one failure implies
// another (milestone 8's counts), and what their own code printed set apart under the check that
// was running. Driven with known-wrong variants (grader/milestones/NN-slug/mutants.ts) on the
// broker, and with a learner file that logs, graded as `npm run grade` grades it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GradingEnvironment } from '../context.ts';
import { milestone as milestoneNumber } from '../manifest.ts';
import type { Mutant } from '../mutant.ts';
import { PrintedOutput } from '../printed-output.ts';
import { checkLine, milestoneSummary } from '../report/console.ts';
import { type CheckResult, gradeLayer, type MilestoneResult, prepareEnvironment } from '../runner.ts';
import { parseDiagnostics, typeErrorsOf } from '../typecheck.ts';
import { runScript } from './cli-support.ts';
import { CheckFailure } from '../check.ts';
import { expectReached } from '../milestones/02-routing/routing-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const fail = (id: string, fields: Partial<CheckResult> = {}): CheckResult => ({
  id,
  name: `check ${id}`,
  hint: `the generic hint of ${id}`,
  status: 'fail',
  durationMs: 1,
  ...fields,
});
const summaryOf = (checks: CheckResult[]) =>
  milestoneSummary({ milestone: milestoneNumber(3), status: 'fail', checks, durationMs: 10 } as MilestoneResult);
const count = (text: string, part: string) => text.split(part).length - 1;

describe('the report, on given results', () => {
  it('prints a diagnosed cause once, at the check whose saw is the cause, and names it in the others', () => {
    const cause = 'bindings that point the wrong way: a → b';
    const summary = summaryOf([
      fail('03.order-events', {
        expected: 'copies',
        seen: `it reached nothing; the cause: ${cause}`,
        rootCause: cause,
        hint: 'the specific hint',
      }),
      fail('03.other-families', {
        expected: 'copies',
        seen: `it reached x; the cause: ${cause}`,
        rootCause: cause,
        hint: 'the specific hint',
      }),
      fail('03.bindings', { expected: 'the bindings', seen: cause, rootCause: cause, hint: 'the specific hint' }),
    ]);
    expect(count(summary, cause)).toBe(1);
    expect(count(summary, '💰')).toBe(1);
    expect(summary).toContain('First failure: check 03.bindings');
    expect(summary).toContain('(03.order-events): same cause as 03.bindings');
    expect(summary).toContain('(03.other-families): same cause as 03.bindings');
    // The cause comes where the group first shows, before the lines that point at it.
    expect(summary.indexOf(cause)).toBeLessThan(summary.indexOf('same cause as'));
  });

  it("groups one PRECONDITION_FAILED met in several checks' own vhosts, with a 💰 about redeclaring", () => {
    const refused = (vhost: string) =>
      `the broker refused it: Operation failed: ExchangeDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'order.exchange' in vhost '${vhost}': received 'direct' but current is 'topic'"`;
    const summary = summaryOf([
      fail('04.a', { expected: 'a declaration', seen: refused('grade-04.a-1') }),
      fail('04.b', { message: `your code threw Error: ${refused('grade-04.b-2')}` }),
      fail('04.c', { expected: 'other', seen: 'something else' }),
    ]);
    expect(count(summary, 'PRECONDITION_FAILED')).toBe(1);
    expect(summary).toContain('(04.b): same cause as 04.a');
    expect(summary).toContain('💰 Something declared order.exchange first with its type');
    expect(summary).not.toContain('the generic hint of 04.a');
    expect(summary).toContain('💰 the generic hint of 04.c'); // a failure of its own keeps its check's 💰
  });

  it("02: probes astray with the bindings read back as the topology's is said as bindings that came too late, with its own 💰", () => {
    const failureOf = (run: () => void): CheckFailure => {
      try {
        run();
      } catch (error) {
        if (error instanceof CheckFailure) return error;
        throw error;
      }
      throw new Error('expected a CheckFailure');
    };
    const late = failureOf(() => expectReached([], ['payment.queue'], 'inventory.reserved to reach payment.queue', undefined));
    expect(late.seen).toBe(
      "it reached no queue; the bindings the broker has now are exactly the topology's, so some were not in place yet when declareRoutes resolved",
    );
    expect(late.hint).toContain('declareRoutes resolves too early');
    expect(late.rootCause).toContain('not in place yet');
    const differing = failureOf(() => expectReached(['a.queue'], ['b.queue'], 'it to reach b.queue', 'on order.exchange, missing: b'));
    expect(differing.seen).toBe('it reached a.queue; on order.exchange, missing: b');
    expect(differing.hint).toBeUndefined();
    expect(() => expectReached(['a.queue'], ['a.queue'], 'it to reach a.queue', undefined)).not.toThrow();
  });

  it('shows no check 💰 under a failure that is not about what the check observes', () => {
    const summary = summaryOf([
      fail('01.a', { message: 'your code blocked the event loop for 6 s (a synchronous endless loop?), so the grader stopped it' }),
      fail('01.b', { message: 'your code ended the grading process (process.exit(7), or a crash) while this check ran' }),
      fail('01.c', { message: '🚨 encode is not written yet: open milestones/01-publish-consume/publish-consume.ts' }),
    ]);
    expect(summary).not.toContain('💰');
  });
});

describe("the learner's output, per check", () => {
  it('goes with its check, what was printed while no check ran with the next one, trimmed to a few lines and a count of the rest', () => {
    const printed = new PrintedOutput();
    printed.add(undefined, 'loading\n');
    printed.add('01.a', Array.from({ length: 9 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    printed.add('01.a', '', 1000); // past the child's limit: only counted
    printed.add('01.b', 'for b\n');
    const a = printed.attach(fail('01.a'));
    expect(a.output).toEqual(['loading', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5', '… 1004 more lines']);
    expect(printed.attach(fail('01.b')).output).toEqual(['for b']);
    expect(printed.attach(fail('01.c')).output).toBeUndefined();
    expect(checkLine(a).split('\n').slice(1)).toEqual(['      your code printed:', ...(a.output ?? []).map((line) => `      │ ${line}`)]);
  });
});

describe('the report, on known-wrong variants graded on the broker', () => {
  let environment: GradingEnvironment;
  beforeAll(async () => {
    environment = await prepareEnvironment();
  });
  afterAll(async () => {
    await environment?.broker.stop();
  });

  const gradeMutant = async (number: number, name: string) => {
    const milestone = milestoneNumber(number);
    const { mutants } = (await import(`../milestones/${milestone.slug}/mutants.ts`)) as { mutants: Mutant[] };
    const mutant = mutants.find((m) => m.name === name);
    if (!mutant) throw new Error(`no mutant "${name}" in milestone ${number}`);
    const result = await gradeLayer(environment, milestone, mutant.layer);
    return { result, summary: milestoneSummary(result) };
  };

  it(
    '03, bindings with source and destination swapped: the cause once, at 03.bindings; every other failure says "same cause as 03.bindings"',
    { timeout: 120_000 },
    async () => {
      const { result, summary } = await gradeMutant(3, 'exchange-to-exchange bindings with source and destination swapped');
      const failed = result.checks.filter((c) => c.status === 'fail').map((c) => c.id);
      expect(failed, summary).toEqual(expect.arrayContaining(['03.order-events', '03.bindings', '03.in-the-system']));
      expect(count(summary, 'source and destination are swapped'), summary).toBe(1);
      expect(count(summary, '💰'), summary).toBe(1);
      expect(summary).toContain('💰 bindExchange takes the destination first');
      for (const id of failed.filter((id) => id !== '03.bindings')) expect(summary).toContain(`(${id}): same cause as 03.bindings`);
    },
  );

  it(
    "03, fanout exchanges declared as 'direct': one cause, at 03.fanout-exchanges, and no bindings 💰 for 03.in-the-system",
    { timeout: 120_000 },
    async () => {
      const { summary } = await gradeMutant(3, "declares the fanout exchanges as 'direct'");
      expect(count(summary, "it routes by key, and its bindings have the key ''"), summary).toBe(1);
      expect(summary).toContain(
        'First failure: the audit, notification, unroutable and dead-letter exchanges are durable fanout exchanges',
      );
      expect(summary).toContain('(03.in-the-system): same cause as 03.fanout-exchanges');
      expect(summary).not.toContain('each needs its exchange-to-exchange binding'); // 03.in-the-system's generic 💰 is about bindings
    },
  );

  it(
    '08, ready and unacked swapped: the checks that read counts follow from 08.counts, without the 💰 of a cache or of joining URLs',
    { timeout: 120_000 },
    async () => {
      const { result, summary } = await gradeMutant(8, 'ready and unacked swapped');
      const counts = result.checks.find((c) => c.id === '08.counts');
      expect(counts?.status, summary).toBe('fail');
      const others = result.checks.filter((c) => c.status === 'fail' && c.id !== '08.counts');
      expect(others.length, summary).toBeGreaterThan(0);
      for (const check of others) expect(check.followsFrom, `${check.id}\n${summary}`).toEqual(['08.counts']);
      expect(summary).not.toContain('a cache in your layer');
      expect(summary).not.toContain('Join baseUrl');
      expect(summary).toContain('↳ follows from 08.counts');
    },
  );
});

/** A project folder whose milestone-1 exercise is `source`; everything else is the workshop's own. */
function learnerProject(source: string): string {
  const exercise = 'milestones/01-publish-consume/publish-consume.ts';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-report-'));
  fs.mkdirSync(path.join(dir, path.dirname(exercise)), { recursive: true });
  fs.writeFileSync(path.join(dir, exercise), source);
  fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The reference codec, with an encode that logs: what a learner debugging with console.log writes. */
const LOGGING_CODEC = `
import { codec as reference } from ${JSON.stringify(path.join(ROOT, 'solutions/layers/01-publish-consume.ts'))};
import type { MessageCodec } from ${JSON.stringify(path.join(ROOT, 'shared/layers/01-publish-consume.ts'))};
console.log('my codec is loaded');
export const codec: MessageCodec = { ...reference, encode(event) { console.log('encoding', event.type); return reference.encode(event); } };
`;

/** npm run grade -- 1 in a learner's project folder; its stdout and stderr as they came, as `stdout`. */
async function gradeMilestone1(dir: string): Promise<{ code: number | null; stdout: string }> {
  const { code, output } = await runScript('grader/cli/grade.ts', ['1'], {
    cwd: dir,
    env: {
      RABBITMQ_URL: inject('brokerUrl'),
      RABBITMQ_MANAGEMENT_URL: inject('managementUrl'),
      WORKSHOP_PROGRESS_DIR: path.join(dir, '.progress'),
    },
    timeoutMs: 120_000,
  });
  return { code, stdout: output };
}

describe("the learner's own console output", () => {
  it('is shown apart, under the check that was running when it was printed, never amid the check list', { timeout: 150_000 }, async () => {
    const { stdout } = await gradeMilestone1(learnerProject(LOGGING_CODEC));
    const lines = stdout.split('\n');
    // Every line the layer printed is inside a "your code printed" block, marked with │.
    for (const printed of ['my codec is loaded', 'encoding order.created']) {
      const at = lines.filter((line) => line.includes(printed));
      expect(at.length, stdout).toBeGreaterThan(0);
      for (const line of at) expect(line, stdout).toMatch(/^ {6}│ /);
    }
    // Under the first check, which encodes: what loading the file printed comes with it.
    const firstCheck = lines.findIndex((line) => /^ {2}[✓✗] encode sets the AMQP properties/.test(line));
    expect(firstCheck, stdout).toBeGreaterThan(-1);
    expect(lines[firstCheck + 1], stdout).toBe('      your code printed:');
    expect(lines.slice(firstCheck + 2, firstCheck + 8).join('\n'), stdout).toContain('encoding order.created');
    // Trimmed: a block is at most a few lines and says how many more there were.
    const blocks = stdout
      .split('your code printed:')
      .slice(1)
      .map((block) =>
        block
          .split('\n')
          .slice(1)
          .filter((line) => line.startsWith('      │')),
      );
    for (const block of blocks) expect(block.length, stdout).toBeLessThanOrEqual(7);
  });
});

describe('the type check', () => {
  it(
    'finds the errors of the exercise file, with the native compiler where installed, in the format of the TypeScript API',
    { timeout: 120_000 },
    async () => {
      const dir = learnerProject(`${LOGGING_CODEC}\nconst answer: number = 'forty-two';\nexport { answer };\n`);
      const errors = await typeErrorsOf('milestones/01-publish-consume/publish-consume.ts', { root: dir });
      expect(errors).toEqual([
        expect.stringMatching(
          /^milestones\/01-publish-consume\/publish-consume\.ts:7:7 - TS2322: Type 'string' is not assignable to type 'number'\.$/,
        ),
      ]);
      expect(await typeErrorsOf('milestones/01-publish-consume/publish-consume.ts', { root: learnerProject(LOGGING_CODEC) })).toEqual([]);
    },
  );

  it("reads tsc's plain output: the learner's folder only, a message's further lines kept", () => {
    const output = [
      'milestones/03-fanout/fanout.ts(4,1): error TS2345: Argument of type 1 is not assignable.',
      "  Type '1' is not assignable to type 'string'.",
      "shared/layers/index.ts(1,1): error TS1000: not the learner's",
    ].join('\n');
    expect(parseDiagnostics(output, path.join('/p', 'milestones/03-fanout') + path.sep, '/p')).toEqual([
      "milestones/03-fanout/fanout.ts:4:1 - TS2345: Argument of type 1 is not assignable.\n  Type '1' is not assignable to type 'string'.",
    ]);
  });
});
