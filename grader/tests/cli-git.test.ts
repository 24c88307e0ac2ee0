// The learner's commands that work on their checkout, as a learner runs them: `npm run diff`,
// `npm run reset` (against real git repositories in temp folders), and `npm start -- --layers
// mine` on the real broker. Every wait has a deadline.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseStartArgs, UsageError } from '../../solutions/supervisor/args.ts';
import { eventually } from '../../tests/support/eventually.ts';
import { useTestVhost } from '../../tests/support/vhost.ts';
import { confirmSpoiler, parseDiffArgs } from '../cli/diff.ts';
import { findShippedCommit, repositoryRoot, resetMilestone } from '../cli/reset.ts';
import { CliError, UsageError as CliUsageError } from '../../shared/cli/args.ts';
import { learnerLayers } from '../../solutions/layers/compose.ts';
import { milestone as milestoneNumber, MILESTONES } from '../manifest.ts';
import { NO_PROGRESS, ROOT, runScript, tempDir, TSX } from './cli-support.ts';

describe('npm run diff', () => {
  const passedOne = () => {
    const dir = tempDir('progress');
    fs.writeFileSync(path.join(dir, 'progress.json'), JSON.stringify({ passed: { 1: '2026-01-01T00:00:00.000Z' }, lastRun: {} }));
    return dir;
  };

  it(
    'shows the exercise against the reference, with a header, once the milestone passed; "they differ" is not an error',
    { timeout: 30_000 },
    async () => {
      const run = await runScript('grader/cli/diff.ts', ['1'], { env: { WORKSHOP_PROGRESS_DIR: passedOne() } });
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('lines are yours (milestones/01-publish-consume/publish-consume.ts)');
      expect(run.output).toContain('+++ b/solutions/layers/01-publish-consume.ts');
    },
  );

  it(
    'before the milestone passes it is a spoiler: without a terminal it refuses (exit 1) unless given --yes',
    { timeout: 30_000 },
    async () => {
      const env = { WORKSHOP_PROGRESS_DIR: tempDir('progress') };
      const [refused, forced] = await Promise.all([
        runScript('grader/cli/diff.ts', ['1'], { env }),
        runScript('grader/cli/diff.ts', ['1', '--yes'], { env }),
      ]);
      expect(refused.code, refused.output).toBe(1);
      expect(refused.stderr).toContain('which you have not passed yet');
      expect(refused.stderr).toContain('npm run diff -- 1 --yes');
      expect(refused.output).not.toContain('+++ b/solutions/layers');
      expect(refused.output).not.toMatch(/\n\s+at /);
      expect(forced.code, forced.output).toBe(0);
      expect(forced.output).toContain('+++ b/solutions/layers/01-publish-consume.ts');
    },
  );

  it('asks on a terminal: no is nothing shown, yes shows it', async () => {
    const m = milestoneNumber(1);
    const lines: string[] = [];
    const questions: string[] = [];
    const ask = (answer: boolean) => async (question: string) => (questions.push(question), answer);
    expect(await confirmSpoiler(m, { yes: false, progress: NO_PROGRESS, ask: ask(false), out: (line) => lines.push(line) })).toBe(false);
    expect(lines.join('\n')).toContain('a spoiler');
    expect(lines.join('\n')).toContain('Nothing shown.');
    expect(questions).toEqual(['Show the reference answer of milestone 1? [y/N] ']);
    expect(await confirmSpoiler(m, { yes: false, progress: NO_PROGRESS, ask: ask(true), out: () => {} })).toBe(true);
    expect(await confirmSpoiler(m, { yes: true, progress: NO_PROGRESS, out: () => {} })).toBe(true);
    expect(await confirmSpoiler(m, { yes: false, progress: { passed: { 1: 'x' }, lastRun: {} }, out: () => {} })).toBe(true);
    await expect(confirmSpoiler(m, { yes: false, progress: NO_PROGRESS, out: () => {} })).rejects.toThrow(CliError);
  });

  it(
    'refuses a milestone that does not exist, with the usage (exit 2); git diff options go after a second --',
    { timeout: 30_000 },
    async () => {
      const run = await runScript('grader/cli/diff.ts', ['42']);
      expect(run.code).toBe(2);
      expect(run.output).toContain('there is no milestone "42"');
      expect(run.output).toContain('Usage: npm run diff');
      expect(parseDiffArgs(['3', '--word-diff'])).toMatchObject({ gitOptions: ['--word-diff'], yes: false });
      expect(parseDiffArgs(['3', '-y', '--', '--stat'])).toMatchObject({ gitOptions: ['--stat'], yes: true });
      expect(() => parseDiffArgs(['3', '--stat'])).toThrow(CliUsageError);
    },
  );
});

describe('npm run reset', () => {
  const m = milestoneNumber(1);
  const STARTER = '// the starter, as shipped\nexport const codec = {};\n';
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Learner',
        GIT_AUTHOR_EMAIL: 'l@example.com',
        GIT_COMMITTER_NAME: 'Learner',
        GIT_COMMITTER_EMAIL: 'l@example.com',
      },
    }).trim();
  const exercise = (repo: string) => path.join(repo, m.exercise.file);
  let progressDir: string;

  /** A workshop "origin" with the starter, and a learner's clone of it tracking origin/main. */
  function workshopClone(): { origin: string; clone: string; shipped: string } {
    const origin = tempDir('origin');
    git(origin, 'init', '-q', '-b', 'main');
    fs.mkdirSync(path.dirname(exercise(origin)), { recursive: true });
    fs.writeFileSync(exercise(origin), STARTER);
    fs.writeFileSync(path.join(origin, `milestones/${m.slug}/README.md`), '# lesson\n');
    git(origin, 'add', '.');
    git(origin, 'commit', '-qm', 'the workshop');
    const clone = path.join(tempDir('clone'), 'workshop');
    git(path.dirname(clone), 'clone', '-q', origin, clone);
    return { origin, clone, shipped: git(origin, 'rev-parse', 'HEAD') };
  }

  beforeAll(() => {
    progressDir = tempDir('progress');
    process.env.WORKSHOP_PROGRESS_DIR = progressDir; // backups and progress go here, never to the real .progress
  });
  afterAll(() => {
    delete process.env.WORKSHOP_PROGRESS_DIR;
  });

  it('restores the starter from the merge base with the upstream even after the learner committed, backing up their version first', async () => {
    const { clone, shipped } = workshopClone();
    fs.writeFileSync(exercise(clone), '// my answer, committed\n');
    git(clone, 'commit', '-qam', 'my work');
    fs.writeFileSync(exercise(clone), '// my answer, edited since\n');
    const lines: string[] = [];
    const outcome = await resetMilestone({
      root: clone,
      milestone: m,
      yes: true,
      out: (line) => lines.push(line),
      now: new Date('2026-01-02T03:04:05.000Z'),
    });

    expect(fs.readFileSync(exercise(clone), 'utf8')).toBe(STARTER);
    expect(outcome.shipped.commit).toBe(shipped);
    expect(outcome.shipped.how).toContain('origin/main');
    const backup = path.join(progressDir, 'backups', '2026-01-02T03-04-05-000Z', m.exercise.file);
    expect(fs.readFileSync(backup, 'utf8')).toBe('// my answer, edited since\n');
    expect(lines.join('\n')).toContain(path.relative(clone, backup));
    // Said in the learner's words: restored as shipped, no commit ids or merge bases.
    expect(lines.join('\n')).toContain('Restored the starter of milestone 1 as shipped');
    expect(lines.join('\n')).not.toContain(outcome.shipped.short);
    expect(lines.join('\n')).not.toMatch(/commit|merge base|HEAD|origin/i);
  });

  it('falls back to origin/main without an upstream, and to HEAD without a remote', () => {
    const { clone, shipped } = workshopClone();
    git(clone, 'checkout', '-q', '-b', 'mine', '--no-track');
    fs.writeFileSync(exercise(clone), '// mine\n');
    git(clone, 'commit', '-qam', 'mine');
    expect(findShippedCommit(clone)).toMatchObject({
      commit: shipped,
      how: expect.stringContaining('merge base of HEAD and origin/main'),
      fallback: false,
    });
    git(clone, 'remote', 'remove', 'origin');
    expect(findShippedCommit(clone)).toMatchObject({
      commit: git(clone, 'rev-parse', 'HEAD'),
      how: expect.stringContaining('HEAD'),
      fallback: true,
    });
  });

  it('asks first: no answer means no change; without a terminal or --yes it refuses', async () => {
    const { clone } = workshopClone();
    fs.writeFileSync(exercise(clone), '// precious\n');
    const out = () => {};
    await resetMilestone({ root: clone, milestone: m, yes: false, ask: async () => false, out });
    expect(fs.readFileSync(exercise(clone), 'utf8')).toBe('// precious\n');
    await expect(resetMilestone({ root: clone, milestone: m, yes: false, out })).rejects.toThrow(/--yes/);
    expect(fs.readFileSync(exercise(clone), 'utf8')).toBe('// precious\n');
    await resetMilestone({ root: clone, milestone: m, yes: false, ask: async () => true, out });
    expect(fs.readFileSync(exercise(clone), 'utf8')).toBe(STARTER);
  });

  it('as a command: refuses without a terminal, says so outside a git checkout', { timeout: 30_000 }, async () => {
    const { clone } = workshopClone();
    fs.writeFileSync(exercise(clone), '// precious\n');
    const refused = await runScript('grader/cli/reset.ts', ['1'], { cwd: clone, env: { WORKSHOP_PROGRESS_DIR: progressDir } });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('npm run reset -- 1 --yes');
    expect(fs.readFileSync(exercise(clone), 'utf8')).toBe('// precious\n');

    const done = await runScript('grader/cli/reset.ts', ['1', '--yes'], { cwd: clone, env: { WORKSHOP_PROGRESS_DIR: progressDir } });
    expect(done.code, done.output).toBe(0);
    expect(done.output).toContain('Your version is backed up in');
    expect(done.output).toContain('as shipped');
    expect(done.output).not.toMatch(/commit|merge base/i);
    expect(fs.readFileSync(exercise(clone), 'utf8')).toBe(STARTER);

    const outside = tempDir('not-git');
    expect(() => repositoryRoot(outside)).toThrow(/not a git checkout/);
  });
});

describe('npm start -- --layers mine', () => {
  it('parses --layers (default solutions)', () => {
    expect(parseStartArgs([]).layers).toBe('solutions');
    expect(parseStartArgs(['--layers', 'mine']).layers).toBe('mine');
    expect(parseStartArgs(['--layers=solutions', '--services', 'order']).layers).toBe('solutions');
    expect(() => parseStartArgs(['--layers', 'theirs'])).toThrow(UsageError);
  });

  it('loads the nine layers from the exercise files (the starters, as shipped)', async () => {
    const layers = await learnerLayers();
    expect(Object.keys(layers).sort()).toEqual(MILESTONES.map((m) => m.layer).sort());
    for (const m of MILESTONES) {
      const module = (await import(pathToFileURL(path.join(ROOT, m.exercise.file)).href)) as Record<string, unknown>;
      expect(layers[m.layer], `${m.layer} comes from ${m.exercise.file}`).toBe(module[m.exercise.exportName]);
    }
  });

  describe('on the broker', () => {
    const vhost = useTestVhost('layers-mine');
    let dataDir: string;
    beforeAll(() => {
      dataDir = tempDir('data');
    });
    afterAll(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('warns which milestones have not passed, and the services run on the learner’s layers', { timeout: 60_000 }, async () => {
      const child = spawn(
        process.execPath,
        ['--import', TSX, path.join(ROOT, 'solutions/start.ts'), '--layers', 'mine', '--services', 'inventory'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            NO_COLOR: '1',
            RABBITMQ_URL: vhost.url,
            RABBITMQ_MANAGEMENT_URL: inject('managementUrl'),
            DATA_DIR: dataDir,
            WORKSHOP_PROGRESS_DIR: tempDir('progress'),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      try {
        const pointer = 'not written yet: open milestones/';
        const pointed = eventually(() => output.includes(pointer), { timeoutMs: 40_000, intervalMs: 100, what: "a starter's pointer" });
        // The service exits right after saying it (its layer is a starter): by 'close' every byte of
        // its output has arrived, so the exit settles the race on what was said, not on timing.
        const early = exited.then((code) => {
          if (!output.includes(pointer)) throw new Error(`npm start exited (code ${code}) first`);
        });
        await Promise.race([pointed, early]).catch((error: unknown) => {
          throw new Error(`${String(error)}. Output:\n${output}`);
        });
        expect(output).toContain('no milestone has passed yet');
        expect(output).toContain('[inventory] running on your layers, from milestones/');
      } finally {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
    });
  });
});
