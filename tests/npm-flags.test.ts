// `npm run grade 1 --target solutions`, without `--`: npm keeps --target for itself (it hands it over
// as npm_config_target) and the command sees `1 solutions`. The shared parser (shared/cli/args.ts)
// notices, in every command, and gives the command line with `--`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineCli, UsageError } from '../shared/cli/args.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const cli = defineCli({
  command: 'npm run example',
  synopsis: ['npm run example -- <n> [--watch] [--target mine|solutions] [--json[=<file>]] [--no-demo] [--label <name>]'],
  summary: 'An example.',
  positionals: { name: '<n>', max: 1 },
  options: {
    watch: { type: 'boolean', description: 'again and again' },
    target: { type: 'string', choices: ['mine', 'solutions'], default: 'mine', description: 'whose' },
    json: {
      type: 'string',
      value: '<file>',
      optionalValue: { bare: 'results.json', takesNext: (next) => next.endsWith('.json') },
      description: 'write JSON',
    },
    'no-demo': { type: 'boolean', description: 'no demo' },
    label: { type: 'string', value: '<name>', description: 'a name' },
  },
});

/** The environment npm gives a script it runs: its name, and what it took of the command line. */
const npmRan = (settings: Record<string, string>) => ({
  npm_lifecycle_event: 'example',
  npm_config_yes: '',
  npm_config_audit: '',
  ...settings,
});

function problem(argv: string[], env: NodeJS.ProcessEnv): string {
  try {
    cli.parse(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  return 'parsed';
}

describe('an option npm took for itself', () => {
  it('is named, with the command line to run instead, whatever form npm left it in', () => {
    // npm run example 1 --target solutions: a bare flag to npm, its value left to us.
    expect(problem(['1', 'solutions'], npmRan({ npm_config_target: 'true' }))).toBe(
      'npm took --target for itself: run npm run example -- 1 --target solutions',
    );
    // npm run example --target=solutions 1: npm has the value.
    expect(problem(['1'], npmRan({ npm_config_target: 'solutions' }))).toBe(
      'npm took --target for itself: run npm run example -- 1 --target solutions',
    );
    // npm run example 1 --watch --json out.json: two at once; --json's file was left to us.
    expect(problem(['1', 'out.json'], npmRan({ npm_config_watch: 'true', npm_config_json: 'true' }))).toBe(
      'npm took --watch and --json for itself: run npm run example -- 1 --watch --json out.json',
    );
    // npm run example --no-demo: npm's "demo = false".
    expect(problem([], npmRan({ npm_config_demo: '' }))).toBe('npm took --no-demo for itself: run npm run example -- --no-demo');
    // A value npm cannot place: say where it goes.
    expect(problem([], npmRan({ npm_config_label: 'true' }))).toBe('npm took --label for itself: run npm run example -- --label <name>');
  });

  it('is not seen where there is none: with --, for npm settings of its own, or inside another npm script', () => {
    expect(problem(['1', '--target', 'solutions'], npmRan({}))).toBe('parsed');
    expect(problem(['1'], npmRan({ npm_config_yes: 'true', npm_config_fund: '' }))).toBe('parsed'); // not our options
    expect(problem(['1', 'solutions'], { npm_lifecycle_event: 'test', npm_config_target: 'true' })).toBe(
      'one <n> at a time (got "1", "solutions")',
    );
    expect(problem(['1'], {})).toBe('parsed');
  });

  it('is caught through a real npm run, in the exit-2 usage error', { timeout: 120_000 }, async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('npm', ['run', 'grade', '1', '--target', 'solutions'], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
      child.once('error', reject);
      child.once('close', (exitCode) => {
        clearTimeout(timer);
        resolve({ code: exitCode, output: text });
      });
    });
    expect(code, output).toBe(2);
    expect(output).toContain('npm run grade: npm took --target for itself: run npm run grade -- 1 --target solutions');
    expect(output).toContain('Usage: npm run grade');
  });
});
