// The learner's commands as a learner runs them: every command's --help and a wrong option (one
// parser, shared/cli/args.ts), `npm run milestone` (progress, brief, demo) and the grade and
// milestone commands without a broker. Demos talk to the real broker; every wait has a deadline.
// npm run diff, npm run reset and npm start -- --layers mine are in cli-git.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { managementApi } from '../../tests/support/vhost.ts';
import { parseMilestoneArgs, renderProgress } from '../cli/milestone.ts';
import { GRADE_CLI, milestoneState, nextMilestone, parseGradeCommandLine } from '../cli/shared.ts';
import { chooseMilestones } from '../cli/grade.ts';
import { defineCli, HelpRequested, UsageError as CliUsageError } from '../../shared/cli/args.ts';
import { CORE_MILESTONES, milestone as milestoneNumber, MILESTONES } from '../manifest.ts';
import type { Progress } from '../../shared/workshop/progress.ts';
import { NO_PROGRESS, ROOT, runScript, tempDir } from './cli-support.ts';

// ── every command: one parser, --help, a wrong option, the README ──────────────────────────────

const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** Where commands are documented: the README, and the operations page it links for the tests, benchmarks and fault suite. */
const COMMAND_DOCS = ['README.md', 'docs/operations.md'].map((file) => fs.readFileSync(path.join(ROOT, file), 'utf8')).join('\n');

/** Every npm script that runs one of our TypeScript entry points: `npm start`, `npm run monitor`, ... */
const COMMANDS = Object.entries(PACKAGE.scripts)
  .map(([script, line]) => ({
    script,
    file: line.match(/^(?:tsx|node --import tsx|node) (\S+\.(?:ts|mjs))$/)?.[1],
    command: script === 'start' ? 'npm start' : `npm run ${script}`,
  }))
  .filter((entry): entry is { script: string; file: string; command: string } => entry.file !== undefined);

/**
 * Not on the shared parser yet: grade.ts is being rewritten (it moves onto shared/cli/args.ts
 * next, with GRADE_CLI); docs, screenshots and bench:determinism are new (each parses its own way
 * today). Take a script out of here once it uses the parser.
 */
const NOT_YET = new Set<string>([]);

/** The long options a usage text lists under Options (without --help). */
function optionsIn(usage: string): string[] {
  const section = usage.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
  return [...section.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map(([, flag]) => flag as string).filter((flag) => flag !== '--help');
}

describe('every command answers --help and refuses an unknown option', () => {
  it('covers every npm script that runs a TypeScript entry point', () => {
    expect(COMMANDS.map((c) => c.script)).toEqual(
      expect.arrayContaining([
        'start',
        'service',
        'audit',
        'monitor',
        'milestone',
        'reset',
        'diff',
        'hint',
        'grade',
        'docs:topology',
        'bench:grader',
      ]),
    );
  });

  for (const { script, file, command } of COMMANDS) {
    if (NOT_YET.has(script)) {
      it.todo(`${command}: --help exits 0 with its usage, an unknown option exits 2 (waits for ${file} to move onto shared/cli/args.ts)`);
      continue;
    }
    it(
      `${command}: --help prints its usage and exits 0; an unknown option prints the problem and the usage and exits 2`,
      { timeout: 90_000 },
      async () => {
        // No broker is reachable here: a command that went past its arguments would show it.
        const env = {
          WORKSHOP_PROGRESS_DIR: tempDir('progress'),
          RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:9',
          RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:9',
          DATA_DIR: tempDir('data'),
        };
        const [help, wrong] = await Promise.all([
          runScript(file, ['--help'], { env, timeoutMs: 80_000 }),
          runScript(file, ['--no-such-option'], { env, timeoutMs: 80_000 }),
        ]);
        expect(help.code, help.output).toBe(0);
        expect(help.stdout.startsWith(`Usage: ${command}`), help.output).toBe(true);
        expect(help.stdout).toContain('-h, --help');
        expect(help.stderr).toBe('');

        expect(wrong.code, wrong.output).toBe(2);
        expect(wrong.stderr).toContain('unknown option --no-such-option');
        expect(wrong.stderr).toContain(`Usage: ${command}`);
        expect(wrong.stdout).toBe('');
        expect(wrong.output).not.toMatch(/\n\s+at /); // no stack trace

        // The README (or the operations page it links) names the command, and every option its usage lists, on one line with it.
        const lines = COMMAND_DOCS.split('\n').filter((line) => line.includes(command));
        expect(lines.length, `README.md or docs/operations.md mentions ${command}`).toBeGreaterThan(0);
        for (const flag of optionsIn(help.stdout)) {
          expect(
            lines.some((line) => line.includes(flag)),
            `README.md or docs/operations.md lists ${command} ${flag}`,
          ).toBe(true);
        }
      },
    );
  }
});

describe("npm run grade's command line on the shared parser (GRADE_CLI, for grade.ts to adopt)", () => {
  it('reads what grade.ts reads today: N or all, --target, --json with or without a file, --watch', () => {
    expect(parseGradeCommandLine([])).toEqual({ which: 'next', target: 'mine', watch: false });
    expect(parseGradeCommandLine(['4', '--target', 'solutions', '--watch'])).toEqual({ which: 4, target: 'solutions', watch: true });
    expect(parseGradeCommandLine(['all', '--json'])).toMatchObject({ which: 'all', json: '.grade-results/results.json' });
    expect(parseGradeCommandLine(['--json', '4'])).toMatchObject({ which: 4, json: '.grade-results/results.json' });
    expect(parseGradeCommandLine(['1', '--json', '/tmp/r.json'])).toMatchObject({ which: 1, json: '/tmp/r.json' });
    expect(parseGradeCommandLine(['--json=out.json', 'all'])).toMatchObject({ which: 'all', json: 'out.json' });
    expect(parseGradeCommandLine(['10'])).toEqual({ which: 10, target: 'mine', watch: false });
    expect(parseGradeCommandLine(['all', '--with-optional'])).toMatchObject({ which: 'all', withOptional: true });
    expect(parseGradeCommandLine(['all'])).not.toHaveProperty('withOptional');
    expect(() => parseGradeCommandLine(['11'])).toThrow(/there is no milestone "11"/);
    expect(() => parseGradeCommandLine(['--target', 'theirs'])).toThrow(CliUsageError);
    expect(() => parseGradeCommandLine(['--help'])).toThrow(HelpRequested);
    for (const flag of optionsIn(GRADE_CLI.usage))
      expect(
        README.split('\n').some((line) => line.includes('npm run grade') && line.includes(flag)),
        `README lists ${flag}`,
      ).toBe(true);
  });
});

describe('which milestones npm run grade grades', () => {
  it('grades 10 by its number, and leaves it out of all (and of the reference without a number) unless --with-optional', () => {
    expect(chooseMilestones(10, 'mine').map((m) => m.number)).toEqual([10]);
    expect(chooseMilestones('all', 'mine').map((m) => m.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(chooseMilestones('all', 'mine', true).map((m) => m.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(chooseMilestones('next', 'solutions').map((m) => m.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('the shared parser (shared/cli/args.ts)', () => {
  const cli = defineCli({
    command: 'npm run example',
    synopsis: ['npm run example -- <n> [--yes] [--target mine|solutions] [--json[=<file>]]'],
    summary: 'An example.',
    positionals: { name: '<n>', max: 1 },
    passthrough: { name: '<more>', description: 'handed on' },
    options: {
      yes: { type: 'boolean', short: 'y', description: 'do not ask' },
      target: { type: 'string', choices: ['mine', 'solutions'], default: 'mine', description: 'whose' },
      json: {
        type: 'string',
        value: '<file>',
        optionalValue: { bare: 'results.json', takesNext: (next) => !/^\d+$/.test(next) },
        description: 'write JSON',
      },
    },
  });
  const problem = (argv: string[]) => {
    try {
      cli.parse(argv);
    } catch (error) {
      if (error instanceof CliUsageError) return `${error.exitCode} ${error.message}`;
      if (error instanceof HelpRequested) return `${error.exitCode} help`;
      throw error;
    }
    return 'parsed';
  };

  it('gives typed values, defaults, the positionals, and what follows a bare --', () => {
    expect(cli.parse(['4', '-y', '--target=solutions', '--', '--stat'])).toEqual({
      values: { yes: true, target: 'solutions', json: undefined },
      positionals: ['4'],
      rest: ['--stat'],
    });
    expect(cli.parse([]).values.target).toBe('mine');
    expect(cli.parse(['--json', '4']).values.json).toBe('results.json');
    expect(cli.parse(['--json', 'out.json', '4'])).toMatchObject({ values: { json: 'out.json' }, positionals: ['4'] });
    expect(cli.parse(['--json=x.json']).values.json).toBe('x.json');
  });

  it('says each problem in one line, exit 2; --help wins over them, exit 0', () => {
    expect(problem(['--nope'])).toBe('2 unknown option --nope');
    expect(problem(['--target', 'theirs'])).toBe('2 --target takes "mine" or "solutions", not "theirs"');
    expect(problem(['--target'])).toBe('2 --target needs a value: --target mine|solutions');
    expect(problem(['--yes=no'])).toBe('2 --yes takes no value');
    expect(problem(['1', '2'])).toBe('2 one <n> at a time (got "1", "2")');
    expect(problem(['--nope', '--help'])).toBe('0 help');
    expect(problem(['-h'])).toBe('0 help');
    expect(problem(['--', '--help'])).toBe('parsed'); // after --, it is not ours
  });

  it('renders the usage from the same spec: every option, -h, --help, the arguments', () => {
    expect(cli.usage.split('\n')[0]).toBe('Usage: npm run example -- <n> [--yes] [--target mine|solutions] [--json[=<file>]]');
    for (const text of ['-y, --yes', '--target mine|solutions', '(default mine)', '--json[=<file>]', '-h, --help', '<n>', '-- <more>'])
      expect(cli.usage).toContain(text);
    expect(optionsIn(cli.usage)).toEqual(['--yes', '--target', '--json']);
  });
});

describe('npm run milestone', () => {
  it('lists the nine milestones with ✓ passed, ◐ n/m, · not started, and points at the next one', () => {
    const progress: Progress = {
      passed: { 1: '2026-01-01T00:00:00.000Z' },
      lastRun: {
        1: { at: '', passedChecks: ['01.a'], totalChecks: 1 },
        2: { at: '', passedChecks: ['02.a', '02.b', '02.c'], totalChecks: 7 },
      },
    };
    const lines = renderProgress(progress).split('\n');
    const row = (n: number) => lines.find((line) => line.includes(` ${n}  ${milestoneNumber(n).title}`)) ?? '';
    expect(row(1)).toContain('✓');
    expect(row(2)).toContain('◐');
    expect(row(2)).toContain('3/7');
    expect(row(3)).toContain('·');
    expect(row(2)).toContain('→'); // the first one not passed
    expect(row(3)).not.toContain('→');
    expect(renderProgress(progress)).toContain('Next: npm run milestone -- 2');
    expect(renderProgress(progress)).toContain('1/9');
  });

  it('lists the optional milestone apart, and counts it neither in the progress nor as next', () => {
    const eight: Progress = { passed: Object.fromEntries(CORE_MILESTONES.slice(0, 8).map((m) => [m.number, 'x'])), lastRun: {} };
    const text = renderProgress(eight);
    const lines = text.split('\n');
    expect(text).toContain('8/9');
    expect(text).toContain('Next: npm run milestone -- 9');
    expect(
      lines.find((line) => line.includes(milestoneNumber(10).title)),
      '🚨 milestone 10 is listed',
    ).toBeDefined();
    expect(lines.findIndex((line) => line.includes('Going further'))).toBeLessThan(
      lines.findIndex((line) => line.includes(milestoneNumber(10).title)),
    );
    expect(lines.find((line) => line.includes(milestoneNumber(10).title))).not.toContain('→');
  });

  it('says what to do once all nine pass, and points at the optional tenth', () => {
    const nine: Progress = { passed: Object.fromEntries(CORE_MILESTONES.map((m) => [m.number, 'x'])), lastRun: {} };
    expect(renderProgress(nine)).toContain('All nine milestones pass');
    expect(renderProgress(nine)).toContain('Going further: npm run milestone -- 10');
    expect(nextMilestone(nine)).toBeUndefined();
    expect(nextMilestone(nine, true)?.number).toBe(10);
    const all: Progress = { passed: Object.fromEntries(MILESTONES.map((m) => [m.number, 'x'])), lastRun: {} };
    expect(renderProgress(all)).toContain('npm start -- --layers mine');
    expect(renderProgress(all)).not.toContain('Going further: npm run');
    expect(milestoneState(NO_PROGRESS, milestoneNumber(4))).toEqual({ kind: 'not-started' });
  });

  it('parses its arguments and refuses a milestone that does not exist', () => {
    expect(parseMilestoneArgs([])).toEqual({ target: 'mine', demo: true });
    expect(parseMilestoneArgs(['6', '--target', 'solutions']).milestone?.number).toBe(6);
    expect(parseMilestoneArgs(['10']).milestone?.number).toBe(10);
    expect(() => parseMilestoneArgs(['11'])).toThrow(CliUsageError);
    expect(() => parseMilestoneArgs(['--target', 'theirs'])).toThrow(CliUsageError);
  });

  it('prints the progress view from .progress', { timeout: 30_000 }, async () => {
    const progressDir = tempDir('progress');
    fs.writeFileSync(path.join(progressDir, 'progress.json'), JSON.stringify({ passed: { 1: 'x', 2: 'x' }, lastRun: {} }));
    const run = await runScript('grader/cli/milestone.ts', [], { env: { WORKSHOP_PROGRESS_DIR: progressDir } });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('Next: npm run milestone -- 3');
  });

  it('prints the brief: title, goal, the file to edit, the README, the checks and where the hints are', { timeout: 30_000 }, async () => {
    const m = milestoneNumber(1);
    const run = await runScript('grader/cli/milestone.ts', ['1', '--no-demo'], { env: { WORKSHOP_PROGRESS_DIR: tempDir('progress') } });
    expect(run.code, run.output).toBe(0);
    for (const text of [
      `Milestone 1 of 9: ${m.title}`,
      m.goal,
      m.exercise.file,
      'milestones/01-publish-consume/README.md',
      'npm run hint -- 1',
    ]) {
      expect(run.output).toContain(text);
    }
    for (const check of await m.checks()) expect(run.output).toContain(check.name);
  });
});

describe('npm run milestone -- N: the demo, on the broker', () => {
  const vhostIn = (output: string) => output.match(/vhost (\S+) \(deleted afterwards\)/)?.[1];

  it('runs the reference layer with --target solutions, logging [demo] lines, and deletes its vhost', { timeout: 60_000 }, async () => {
    const run = await runScript('grader/cli/milestone.ts', ['1', '--target', 'solutions'], {
      env: { WORKSHOP_PROGRESS_DIR: tempDir('progress') },
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('[demo] received order.created for order 123');
    expect(run.output).toContain('Next: npm run grade -- 1');
    const vhost = vhostIn(run.output);
    expect(vhost, run.output).toBeDefined();
    const vhosts = await managementApi().request<{ name: string }[]>('GET', '/vhosts');
    expect(vhosts.map((v) => v.name)).not.toContain(vhost);
  });

  it('points at the exercise, without a stack trace, when the starter is not written yet', { timeout: 60_000 }, async () => {
    const run = await runScript('grader/cli/milestone.ts', ['1'], { env: { WORKSHOP_PROGRESS_DIR: tempDir('progress') } });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('🚨 encode is not written yet: open milestones/01-publish-consume/publish-consume.ts');
    expect(run.output).toContain('Write it, then run this again: npm run milestone -- 1');
    expect(run.output).not.toMatch(/\n\s+at /);
  });
});

describe('npm run milestone -- N without a usable broker', () => {
  it('prints the brief, then says how to get a broker, exit 3', { timeout: 30_000 }, async () => {
    const nothing = 'http://127.0.0.1:9'; // the discard port: nothing answers there
    const run = await runScript('grader/cli/milestone.ts', ['1'], {
      env: { WORKSHOP_PROGRESS_DIR: tempDir('progress'), RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:9', RABBITMQ_MANAGEMENT_URL: nothing },
    });
    expect(run.code, run.output).toBe(3);
    expect(run.output).toContain('Milestone 1 of 9');
    expect(run.output).toContain('cannot run the demo');
    expect(run.output).not.toMatch(/\n\s+at /);
  });
});

describe('npm run grade without a usable broker', () => {
  it(
    'is an error, not a wall of failed checks: says how to get a broker, exit 3, results.json status error',
    { timeout: 30_000 },
    async () => {
      const results = path.join(tempDir('results'), 'results.json');
      const run = await runScript('grader/cli/grade.ts', ['1', '--json', results], {
        env: {
          WORKSHOP_PROGRESS_DIR: tempDir('progress'),
          RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:9',
          RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:9',
        },
      });
      expect(run.code, run.output).toBe(3);
      expect(run.output).toContain('cannot grade yet');
      expect(run.output).toContain('docker compose up -d');
      expect(run.output).not.toContain('✗');
      expect(run.output).not.toMatch(/\n\s+at /);
      const json = JSON.parse(fs.readFileSync(results, 'utf8')) as { status: string; message: string; tests: unknown[] };
      expect(json).toMatchObject({ status: 'error', tests: [] });
      expect(json.message).toContain('nothing answers');
    },
  );
});
